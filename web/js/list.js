/*
 * list.js - the landing page: every record of the vault by title or name, grouped by type;
 * with ?type=T a table of that type with sortable columns and filters (cases by status, court,
 * article; events by date and place...); with ?deleted=1 the deleted records, each with
 * Restore. The filters live in the URL (w.FIELD=VALUE, sort, from, to), as /api/list takes them.
 */
import { api, el, start, t, typeName, fieldName, recordUrl, TYPES } from './app.js';

const COLUMNS = {
  case: ['title', 'case_number', 'status', 'court', 'article', 'date'],
  proceeding: ['title', 'case_number', 'stage', 'court', 'judge', 'date'],
  person: ['title', 'birth_date', 'occupation', 'affiliation'],
  event: ['title', 'date', 'place', 'kind'],
  source: ['title', 'source_type', 'author', 'date'],
  note: ['title', 'date'],
  place: ['title', 'region', 'country'],
  organization: ['title', 'org_type', 'country'],
};
const FILTERS = {
  case: ['status', 'court', 'article'],
  proceeding: ['stage', 'court', 'article'],
  person: ['occupation', 'ethnicity'],
  event: ['place', 'kind'],
  source: ['source_type', 'reliability'],
  note: [],
  place: ['region', 'country'],
  organization: ['country'],
};
const DATED = new Set(['case', 'proceeding', 'event', 'source', 'note']);

function cellText(v) {
  if (Array.isArray(v)) return v.join(', ');
  if (v && typeof v === 'object') return JSON.stringify(v);
  return v === undefined || v === null ? '' : String(v);
}

function grouped(records) {
  const parts = [];
  const byType = new Map();
  for (const r of records) {
    if (!byType.has(r.type)) byType.set(r.type, []);
    byType.get(r.type).push(r);
  }
  const order = [...TYPES, ...[...byType.keys()].filter((k) => !TYPES.includes(k))];
  for (const type of order) {
    const list = byType.get(type);
    if (!list) continue;
    parts.push(el('section', { class: 'group', dataset: { type } },
      el('h2', {}, el('a', { href: '/?type=' + type, class: 'type-link', text: typeName(type, true) }), ' ',
        el('span', { class: 'count', text: String(list.length) })),
      el('ul', { class: 'records' }, list.map((r) =>
        el('li', {}, el('a', { href: recordUrl(r.id), class: 'record-link', text: r.title || r.id }))))));
  }
  return parts;
}

function deletedList(records) {
  const parts = [el('h1', { text: t('list.deleted') })];
  if (records.length === 0) {
    parts.push(el('p', { class: 'muted', id: 'no-deleted', text: t('list.no_deleted') }));
    return parts;
  }
  parts.push(el('table', { class: 'list', id: 'deleted-list' }, el('tbody', {}, records.map((r) => {
    const b = el('button', { type: 'button', class: 'restore', dataset: { id: r.id }, text: t('record.restore') });
    b.addEventListener('click', async () => {
      await api('POST', 'records/' + encodeURIComponent(r.id) + '/restore', '');
      location.reload();
    });
    return el('tr', { dataset: { id: r.id } }, el('td', { text: typeName(r.type) }),
      el('td', {}, el('a', { href: recordUrl(r.id), text: r.title || r.id })), el('td', {}, b));
  }))));
  return parts;
}

async function typeTable(type, params, schema) {
  const fields = new Map(((schema.types[type] || {}).fields || []).map((f) => [f.name, f]));
  const cols = COLUMNS[type] || ['title'];
  const q = new URLSearchParams({ type });
  for (const [k, v] of params) {
    if ((k.startsWith('w.') || k === 'sort' || k === 'from' || k === 'to') && v !== '') q.append(k, v);
  }
  const { records } = await api('GET', 'list?' + q.toString());
  const parts = [el('h1', {}, typeName(type, true), ' ', el('span', { class: 'count', id: 'count', text: String(records.length) }))];

  /* the filter form: a GET to this page, so the URL keeps the filters */
  const form = el('form', { class: 'card filters', id: 'filters', method: 'get', action: '/' },
    el('input', { type: 'hidden', name: 'type', value: type }));
  for (const f of FILTERS[type] || []) {
    const id = 'w-' + f;
    const def = fields.get(f);
    const cur = params.get('w.' + f) || '';
    let ctl;
    if (def && def.values) {
      ctl = el('select', { id, name: 'w.' + f }, el('option', { value: '', text: t('filter.any') }),
        def.values.map((v) => el('option', { value: v, text: t('value.' + v) === 'value.' + v ? v : t('value.' + v), selected: v === cur })));
    } else {
      ctl = el('input', { type: 'text', id, name: 'w.' + f, value: cur });
    }
    form.append(el('div', { class: 'filter' }, el('label', { for: id, text: fieldName(f) }), ctl));
  }
  if (DATED.has(type)) {
    for (const k of ['from', 'to']) {
      form.append(el('div', { class: 'filter' }, el('label', { for: 'f-' + k, text: t('filter.' + k) }),
        el('input', { type: 'date', id: 'f-' + k, name: k, value: params.get(k) || '' })));
    }
  }
  if (params.get('sort')) form.append(el('input', { type: 'hidden', name: 'sort', value: params.get('sort') }));
  form.append(el('div', { class: 'filter' }, el('button', { type: 'submit', id: 'filter-go', text: t('filter.apply') }), ' ',
    el('a', { href: '/?type=' + type, class: 'button', id: 'filter-clear', text: t('filter.clear') })));
  parts.push(form);

  const sort = params.get('sort') || '';
  const head = cols.map((c) => {
    const next = sort === c ? '-' + c : c;
    const p = new URLSearchParams(params);
    p.set('sort', next);
    const mark = sort === c ? ' ▲' : (sort === '-' + c ? ' ▼' : '');
    return el('th', { dataset: { col: c } }, el('a', { href: '/?' + p.toString(), class: 'sort', text: fieldName(c) + mark }));
  });
  if (records.length === 0) {
    parts.push(el('p', { class: 'muted', id: 'no-match', text: t('list.no_match') }));
  } else {
    parts.push(el('table', { class: 'list records-table', id: 'records-table' },
      el('thead', {}, el('tr', {}, head)),
      el('tbody', {}, records.map((r) => el('tr', { dataset: { id: r.id } }, cols.map((c) => {
        if (c === 'title') return el('td', {}, el('a', { href: recordUrl(r.id), class: 'record-link', text: r.title || r.id }));
        const v = (r.fields || {})[c];
        return el('td', { dataset: { col: c }, text: cellText(v) });
      }))))));
  }
  parts.push(el('p', { class: 'actions' },
    el('a', { class: 'button', href: '/edit.html?type=' + type, text: t('add.type', { type: typeName(type) }) }), ' ',
    el('a', { class: 'button', href: '/data.html?type=' + type, text: t('data.title') })));
  return parts;
}

start(async (main) => {
  const params = new URLSearchParams(location.search);
  const type = params.get('type');
  if (params.get('deleted') === '1') {
    const { records } = await api('GET', 'list?deleted=1');
    main.replaceChildren(...deletedList(records));
    return;
  }
  if (type && TYPES.includes(type)) {
    const schema = await api('GET', 'schema');
    main.replaceChildren(...await typeTable(type, params, schema));
    return;
  }
  const { records } = await api('GET', 'records');
  const parts = [el('h1', { text: t('list.title') })];
  if (records.length === 0) {
    parts.push(el('p', { class: 'muted', text: t('list.empty') }));
  }
  parts.push(...grouped(records));
  const add = el('p', { class: 'actions' });
  for (const ty of TYPES) {
    add.append(el('a', { class: 'button', href: '/edit.html?type=' + ty, text: t('add.type', { type: typeName(ty) }) }), ' ');
  }
  parts.push(add);
  parts.push(el('p', {}, el('a', { href: '/?deleted=1', id: 'show-deleted', text: t('list.show_deleted') })));
  main.replaceChildren(...parts);
});
