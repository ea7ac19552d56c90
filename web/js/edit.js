/* edit.js - the form that adds a record (?type=T) or edits one (?id=ID). */
import { api, el, start, t, typeName, fieldName, recordUrl, param, titleOf, TYPES } from './app.js';

const FIELDS = {
  person: ['name', 'name_variants', 'birth_date', 'sex', 'occupation', 'summary'],
  organization: ['name', 'name_variants', 'summary'],
  case: ['title', 'case_number', 'article', 'court', 'status', 'date', 'summary'],
  proceeding: ['title', 'case_number', 'article', 'court', 'judge', 'stage', 'summary'],
  event: ['title', 'date', 'date_precision', 'place', 'violation', 'summary'],
  source: ['title', 'date', 'summary', 'text'],
  note: ['title', 'text'],
  place: ['name', 'summary'],
};
const LONG = new Set(['summary', 'text', 'name_variants']);

/* kinds from the vault's schema: dates get date inputs, enums a choice of their values */
let KINDS = new Map();

function input(name, value) {
  const id = 'f-' + name;
  let v = value;
  if (name === 'name_variants' && Array.isArray(v)) v = v.join('\n');
  const attrs = { id, name, dataset: { field: name } };
  const def = KINDS.get(name);
  let ctl;
  if (def && def.values) {
    ctl = el('select', attrs, el('option', { value: '', text: '—' }), def.values.map((x) =>
      el('option', { value: x, text: t('value.' + x) === 'value.' + x ? x : t('value.' + x) })));
  } else if (def && def.kind === 'date' && (v === undefined || v === null || /^\d{4}-\d{2}-\d{2}~?$/.test(String(v)))) {
    /* a date input, and "approximate" as ISO 8601-2 writes it: a trailing ~ */
    const approx = String(v || '').endsWith('~');
    if (approx) v = String(v).slice(0, -1);
    ctl = el('input', { ...attrs, type: 'date' });
    ctl.value = v === undefined || v === null ? '' : String(v);
    const box = el('input', { type: 'checkbox', id: id + '-approx', class: 'approx', dataset: { approxFor: name }, checked: approx });
    return [el('label', { for: id, text: fieldName(name) }), ctl,
      el('label', { class: 'approx', for: id + '-approx' }, box, ' ', t('form.approximate'))];
  } else if (LONG.has(name)) {
    ctl = el('textarea', { ...attrs, rows: name === 'name_variants' ? 3 : 5 });
  } else {
    ctl = el('input', { ...attrs, type: 'text' });
    if (def && def.kind === 'date') ctl.placeholder = 'YYYY-MM-DD';
  }
  ctl.value = v === undefined || v === null ? '' : String(v);
  return [el('label', { for: id, text: fieldName(name) + (name === 'name_variants' ? ' ' + t('form.one_per_line') : '') }), ctl];
}

function collect(form, names, original) {
  const out = {};
  for (const n of names) {
    const ctl = form.querySelector('[data-field="' + n + '"]');
    let v = ctl.value.trim();
    const approx = form.querySelector('[data-approx-for="' + n + '"]');
    if (approx && approx.checked && v !== '') v += '~';
    if (n === 'name_variants') {
      const list = ctl.value.split('\n').map((s) => s.trim()).filter(Boolean);
      if (original) {
        if (JSON.stringify(list) !== JSON.stringify(original[n] || [])) out[n] = list.length ? list : null;
      } else if (list.length) {
        out[n] = list;
      }
      continue;
    }
    if (original) {
      const before = original[n] === undefined || original[n] === null ? '' : String(original[n]);
      if (v !== before) out[n] = v === '' ? null : v;
    } else if (v !== '') {
      out[n] = v;
    }
  }
  return out;
}

start(async (main) => {
  const id = param('id');
  let rec = null;
  let type = param('type');
  if (id) {
    rec = await api('GET', 'records/' + encodeURIComponent(id));
    type = rec.type;
  }
  if (!type || !TYPES.includes(type)) {
    main.replaceChildren(el('h1', { text: t('nav.add') }), el('p', { class: 'actions' }, TYPES.map((ty) =>
      [el('a', { class: 'button', href: '/edit.html?type=' + ty, id: 'add-' + ty, text: typeName(ty) }), ' '])));
    return;
  }
  const schema = await api('GET', 'schema').catch(() => null);
  KINDS = new Map(((schema?.types?.[type] || {}).fields || []).map((x) => [x.name, x]));
  const names = [...(FIELDS[type] || ['title', 'summary'])];
  const f = rec ? rec.fields || {} : {};
  for (const k of Object.keys(f)) {
    if (!names.includes(k) && (typeof f[k] === 'string' || typeof f[k] === 'number')) names.push(k);
  }
  const msg = el('p', { class: 'error', role: 'alert', id: 'form-msg' });
  /* a new note may be privileged: sealed to this vault's key (it cannot become so later) */
  const priv = !rec && type === 'note'
    ? el('input', { type: 'checkbox', id: 'f-privileged', name: 'privileged', dataset: { privileged: '1' } }) : null;
  const form = el('form', { class: 'card record-form', id: 'record-form' },
    names.flatMap((n) => input(n, f[n])),
    priv ? el('label', { class: 'privileged', for: 'f-privileged' }, priv, ' ', t('form.privileged')) : null,
    el('button', { type: 'submit', id: 'save', text: rec ? t('form.save') : t('form.create') }), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = collect(form, names, rec ? f : null);
    if (priv && priv.checked) data.privileged = true;
    try {
      if (rec) {
        if (Object.keys(data).length === 0) {
          location.href = recordUrl(rec.id);
          return;
        }
        await api('PATCH', 'records/' + encodeURIComponent(rec.id), data);
        location.href = recordUrl(rec.id);
      } else {
        const r = await api('POST', 'records', { type, ...data });
        location.href = recordUrl(r.id);
      }
    } catch (e) {
      msg.textContent = t('error', { msg: e.message });
    }
  });
  main.replaceChildren(
    el('h1', { text: rec ? t('form.edit_title', { title: titleOf(rec) }) : t('add.type', { type: typeName(type) }) }),
    form);
});
