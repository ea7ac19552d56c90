/*
 * record.js - one record: a person page (names, cases and events with roles, evidence,
 * history), a case or proceeding page (facts, people by role, hearings, events timeline,
 * evidence with SHA-256 and custody), or a plain page for the other types; plus the form that
 * links this record to another.
 */
import { api, el, start, t, typeName, roleName, fieldName, recordUrl, param, titleOf, csrfToken, dateKey, localTime, actionName } from './app.js';

export const ROLES = ['victim', 'defendant', 'suspect', 'witness', 'lawyer', 'judge', 'prosecutor',
  'investigator', 'perpetrator', 'participant', 'hearing', 'source', 'author', 'member', 'related'];
const CASE_FACTS = ['case_number', 'article', 'court', 'status', 'date', 'place', 'summary'];
const OFFICIALS = ['judge', 'prosecutor', 'investigator'];

/* The id of the record on the other end of a relation, whatever shape the vault gives it. */
function otherId(rel, self) {
  if (rel.other && typeof rel.other === 'object') return rel.other.id;
  if (typeof rel.other === 'string') return rel.other;
  if (rel.from === self) return rel.to;
  if (rel.to === self) return rel.from;
  return rel.record || rel.target || null;
}

async function loadRelated(rec) {
  const out = [];
  const seen = new Map();
  for (const rel of rec.relations || []) {
    const id = otherId(rel, rec.id);
    if (!id) continue;
    if (!seen.has(id)) {
      seen.set(id, api('GET', 'records/' + encodeURIComponent(id)).catch(() => null));
    }
    const other = await seen.get(id);
    /* a deleted record drops out of people by role and timelines */
    if (other && !other.deleted) out.push({ rel, role: rel.role || 'related', other });
  }
  return out;
}

function fieldValue(v) {
  if (Array.isArray(v)) return v.join(', ');
  if (v && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function factsTable(fields, keys, extra) {
  const rows = [];
  for (const k of keys) {
    if (fields[k] === undefined || fields[k] === null || fields[k] === '') continue;
    rows.push(el('tr', { dataset: { field: k } }, el('th', { text: fieldName(k) }), el('td', { text: fieldValue(fields[k]) })));
  }
  for (const [label, node] of extra || []) {
    rows.push(el('tr', {}, el('th', { text: label }), el('td', {}, node)));
  }
  return rows.length ? el('table', { class: 'facts' }, el('tbody', {}, rows)) : null;
}

function relatedLink(o) {
  return el('a', { href: recordUrl(o.id), class: 'record-link', text: titleOf(o) });
}

function contentUrl(e, download) {
  return '/api/evidence/' + encodeURIComponent(e.id) + '/content' + (download ? '?download=1' : '');
}

/* Show one evidence file in the page: the server decrypts only the byte ranges asked for. */
function showEvidence(viewer, e) {
  const mime = e.mime || '';
  const src = contentUrl(e, false);
  let media;
  if (/^image\/(jpeg|png|gif|webp)$/.test(mime)) {
    media = el('img', { src, alt: e.name || e.id, class: 'evidence-media' });
  } else if (/^video\//.test(mime)) {
    media = el('video', { src, controls: true, preload: 'metadata', class: 'evidence-media' });
  } else if (/^audio\//.test(mime)) {
    media = el('audio', { src, controls: true, preload: 'metadata' });
  } else if (mime === 'application/pdf') {
    media = el('iframe', { src, title: e.name || e.id, class: 'evidence-pdf' });
  } else {
    media = el('p', { class: 'muted', text: t('evidence.cannot_show', { type: mime || '?' }) });
  }
  const close = el('button', { type: 'button', class: 'close', text: t('evidence.close') });
  close.addEventListener('click', () => viewer.replaceChildren());
  viewer.replaceChildren(el('div', { class: 'card viewer', dataset: { evidence: e.id } },
    el('p', {}, el('strong', { text: e.name || e.id }), ' ', el('span', { class: 'hash', text: e.sha256 || '' }), ' ', close),
    media));
  viewer.scrollIntoView({ block: 'nearest' });
}

/* Upload one file as multipart/form-data, streamed by the server into an encrypted object. */
function uploadForm(rec, done, last) {
  const file = el('input', { type: 'file', id: 'evidence-file', name: 'file', required: true });
  /* after an upload the redrawn form keeps its full bar and the result */
  const bar = el('progress', { id: 'upload-progress', max: '100', value: last ? '100' : '0', hidden: !last });
  const msg = el('p', { id: 'upload-msg', role: 'status' });
  const go = el('button', { type: 'submit', id: 'evidence-upload', text: t('evidence.upload') });
  if (last) {
    msg.className = 'ok';
    msg.append(t('evidence.stored', { name: last.name || '' }), ' ',
      el('span', { class: 'hash', id: 'upload-sha256', text: last.sha256 || '' }));
  }
  const form = el('form', { class: 'card upload', id: 'upload-form' },
    el('h3', { text: t('evidence.add') }),
    el('label', { for: 'evidence-file', text: t('evidence.choose') }), file, go, bar, msg);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = file.files && file.files[0];
    if (!f) return;
    const body = new FormData();
    body.append('file', f, f.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/records/' + encodeURIComponent(rec.id) + '/evidence');
    xhr.setRequestHeader('X-CSRF-Token', csrfToken());
    xhr.responseType = 'json';
    bar.hidden = false;
    bar.value = 0;
    go.disabled = true;
    msg.className = '';
    msg.textContent = t('evidence.uploading', { name: f.name });
    xhr.upload.addEventListener('progress', (p) => {
      if (p.lengthComputable) bar.value = Math.floor((p.loaded / p.total) * 100);
    });
    xhr.addEventListener('load', () => {
      go.disabled = false;
      const r = xhr.response || {};
      if (xhr.status === 201) {
        bar.value = 100;
        done(r); /* redraw the evidence list with the new file */
      } else {
        msg.className = 'error';
        msg.textContent = t('error', { msg: r.error || xhr.statusText || String(xhr.status) });
      }
    });
    xhr.addEventListener('error', () => {
      go.disabled = false;
      msg.className = 'error';
      msg.textContent = t('error', { msg: t('evidence.failed') });
    });
    xhr.send(body);
  });
  return form;
}

/* Time taken, camera and GPS position read from the file at import (EXIF). */
function photoMeta(meta) {
  if (!meta || typeof meta !== 'object') return null;
  const parts = [];
  if (meta.taken) parts.push(el('li', { class: 'taken' }, t('photo.taken') + ': ', el('time', { text: meta.taken })));
  const camera = [meta.camera_make, meta.camera_model].filter(Boolean).join(' ');
  if (camera) parts.push(el('li', { class: 'camera', text: t('photo.camera') + ': ' + camera }));
  if (meta.gps && meta.gps.lat && meta.gps.lon) {
    parts.push(el('li', { class: 'gps', text: t('photo.gps') + ': ' + meta.gps.lat + ', ' + meta.gps.lon }));
  }
  return parts.length ? el('ul', { class: 'photo-meta' }, parts) : null;
}

function evidenceSection(rec, last) {
  const ev = rec.evidence || [];
  const sec = el('section', { class: 'evidence' }, el('h2', { text: t('record.evidence') }));
  const viewer = el('div', { id: 'evidence-viewer' });
  if (ev.length === 0) {
    sec.append(el('p', { class: 'muted', text: t('record.no_evidence') }));
  } else {
    const rows = ev.map((e) => {
      const custody = el('ul', { class: 'custody' });
      /* the evidence's own page carries its chain of custody */
      api('GET', 'records/' + encodeURIComponent(e.id)).then((full) => {
        for (const c of full.custody || []) {
          const f = c.fields || {};
          custody.append(el('li', { text: [c.ts, f.event || f.action || c.action, f.by || f.holder, f.note].filter(Boolean).join(' · ') }));
        }
      }).catch(() => {});
      const view = el('button', { type: 'button', class: 'view', text: t('evidence.view') });
      view.addEventListener('click', () => showEvidence(viewer, e));
      return el('tr', { class: 'evidence-row', dataset: { evidence: e.id } },
        el('td', {}, e.name || e.filename || e.id, photoMeta(e.meta)),
        el('td', { class: 'hash sha256', text: e.sha256 || '' }),
        el('td', { text: e.size !== undefined ? String(e.size) : '' }),
        el('td', { class: 'mime', text: e.mime || '' }),
        el('td', { class: 'actions' }, view, ' ',
          el('a', { href: contentUrl(e, true), class: 'download', text: t('evidence.download') })),
        el('td', {}, custody));
    });
    sec.append(el('table', { class: 'list' },
      el('thead', {}, el('tr', {}, el('th', { text: t('evidence.name') }), el('th', { text: 'SHA-256' }),
        el('th', { text: t('evidence.size') }), el('th', { text: t('evidence.type') }), el('th', {}),
        el('th', { text: t('evidence.custody') }))),
      el('tbody', {}, rows)));
  }
  sec.append(viewer);
  const redraw = async (r) => {
    try {
      const fresh = await api('GET', 'records/' + encodeURIComponent(rec.id));
      sec.replaceWith(evidenceSection(fresh, r));
    } catch (e) {
      location.reload();
    }
  };
  if (rec.type !== 'evidence' && !rec.deleted) sec.append(uploadForm(rec, redraw, last));
  return sec;
}

/* Who, when (local time), what: old -> new per field. */
function historyValue(v) {
  if (v === null || v === undefined) return t('history.none');
  return fieldValue(v);
}

function historySection(rec, hist) {
  const h = hist || [];
  const sec = el('section', { class: 'history' }, el('h2', { text: t('record.history') }));
  if (h.length === 0) {
    sec.append(el('p', { class: 'muted', text: t('record.no_history') }));
    return sec;
  }
  sec.append(el('ol', { class: 'history' }, h.map((op) => {
    const who = op.by_vault_owner ? t('history.you') : (op.author || '?').slice(0, 8);
    const head = [el('time', { text: localTime(op.ts) }), ' ', el('span', { class: 'who', text: who }), ' ',
      el('strong', { class: 'action', dataset: { action: op.action || '' }, text: actionName(op.action) })];
    if (op.role) head.push(' ', el('span', { class: 'role', text: roleName(op.role) }));
    if (op.name) head.push(' ', op.name);
    const changes = (op.changes || []).map((c) => (c.field === 'sealed'
      ? el('li', { dataset: { field: c.field }, class: 'sealed', text: t('record.sealed_change') }) : el('li', { dataset: { field: c.field } },
      el('span', { class: 'field', text: fieldName(c.field) }), ': ',
      el('span', { class: 'old', text: historyValue(c.old) }), ' → ',
      el('span', { class: 'new', text: historyValue(c.new) }))));
    return el('li', {}, head, changes.length ? el('ul', { class: 'changes' }, changes) : null);
  })));
  return sec;
}

function byRoleSection(title, items, cls) {
  const sec = el('section', { class: cls }, el('h2', { text: title }));
  if (items.length === 0) {
    sec.append(el('p', { class: 'muted', text: t('record.none') }));
    return sec;
  }
  const groups = new Map();
  for (const it of items) {
    if (!groups.has(it.role)) groups.set(it.role, []);
    groups.get(it.role).push(it);
  }
  const dl = el('dl', { class: 'roles' });
  for (const [role, list] of groups) {
    dl.append(el('dt', { text: roleName(role) }));
    for (const it of list) dl.append(el('dd', { dataset: { role } }, relatedLink(it.other)));
  }
  sec.append(dl);
  return sec;
}

function timeline(items) {
  /* by date, not by text: partial dates (2014, 2014-02) first in their span, undated last */
  const events = items.filter((i) => i.other.type === 'event')
    .sort((a, b) => dateKey(a.other.fields?.date) - dateKey(b.other.fields?.date));
  const sec = el('section', { class: 'timeline' }, el('h2', { text: t('record.timeline') }));
  if (events.length === 0) {
    sec.append(el('p', { class: 'muted', text: t('record.none') }));
    return sec;
  }
  sec.append(el('ol', { class: 'timeline' }, events.map((i) =>
    el('li', {}, el('time', { text: i.other.fields?.date || '—' }), ' ', relatedLink(i.other),
      i.role !== 'related' ? el('span', { class: 'role', text: ' (' + roleName(i.role) + ')' }) : ''))));
  return sec;
}

function linkForm(rec, roles) {
  /* the vault's roles (built in, and those a team added with `defter schema add-role`) */
  const all = [...ROLES, ...(roles || []).filter((r) => !ROLES.includes(r))];
  const role = el('select', { id: 'link-role', name: 'role' }, all.map((r) => el('option', { value: r, text: roleName(r) })));
  const q = el('input', { type: 'search', id: 'link-q', placeholder: t('link.find'), autocomplete: 'off' });
  const results = el('ul', { class: 'pick', id: 'link-results' });
  const msg = el('p', { class: 'muted', role: 'status', id: 'link-msg' });
  let chosen = null;
  const find = async () => {
    results.replaceChildren();
    chosen = null;
    if (!q.value.trim()) return;
    try {
      const { hits } = await api('GET', 'search?q=' + encodeURIComponent(q.value.trim()));
      for (const h of hits.filter((x) => x.id !== rec.id).slice(0, 10)) {
        const b = el('button', { type: 'button', class: 'pick-item', text: h.title + ' · ' + typeName(h.type) });
        b.addEventListener('click', () => {
          chosen = h;
          for (const x of results.querySelectorAll('button')) x.classList.remove('chosen');
          b.classList.add('chosen');
          msg.textContent = t('link.chosen', { title: h.title });
        });
        results.append(el('li', {}, b));
      }
      if (!hits.length) msg.textContent = t('search.nothing');
    } catch (e) {
      msg.textContent = t('error', { msg: e.message });
    }
  };
  const findBtn = el('button', { type: 'button', id: 'link-find', text: t('search.button') });
  findBtn.addEventListener('click', find);
  q.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      find();
    }
  });
  const form = el('form', { class: 'card link', id: 'link-form' },
    el('h2', { text: t('link.title') }),
    el('label', { for: 'link-role', text: t('link.role') }), role,
    el('label', { for: 'link-q', text: t('link.other') }), el('div', { class: 'row' }, q, findBtn), results,
    el('button', { type: 'submit', id: 'link-go', text: t('link.button') }), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!chosen) {
      msg.textContent = t('link.pick_first');
      return;
    }
    try {
      await api('POST', 'links', { from: rec.id, to: chosen.id, role: role.value });
      location.reload();
    } catch (e) {
      msg.textContent = t('error', { msg: e.message });
    }
  });
  return form;
}

start(async (main) => {
  const id = param('id');
  const rec = await api('GET', 'records/' + encodeURIComponent(id || ''));
  const f = rec.fields || {};
  const related = await loadRelated(rec);
  const parts = [];
  parts.push(el('p', { class: 'kind', text: typeName(rec.type) }));
  parts.push(el('h1', { id: 'record-title', text: titleOf(rec) }));
  if (rec.privileged) {
    /* a privileged note: its fields are sealed to its author's key (docs/vault-format.md) */
    parts.push(el('p', { class: 'privileged-banner', id: 'privileged-banner', role: 'status',
      text: t(rec.privileged.readable ? 'record.privileged_readable' : 'record.privileged_sealed') }));
  }
  if (rec.deleted) {
    const restore = el('button', { type: 'button', id: 'restore', text: t('record.restore') });
    restore.addEventListener('click', async () => {
      try {
        await api('POST', 'records/' + encodeURIComponent(rec.id) + '/restore', '');
        location.reload();
      } catch (e) {
        restore.after(el('span', { class: 'error', text: ' ' + t('error', { msg: e.message }) }));
      }
    });
    parts.push(el('p', { class: 'deleted-banner', id: 'deleted-banner', role: 'status' }, t('record.deleted_banner'), ' ', restore));
  }
  const del = el('button', { type: 'button', id: 'delete', class: 'danger', text: t('record.delete') });
  del.addEventListener('click', async () => {
    if (!window.confirm(t('record.delete_confirm', { title: titleOf(rec) }))) return;
    try {
      await api('POST', 'records/' + encodeURIComponent(rec.id) + '/delete', '');
      location.reload();
    } catch (e) {
      del.after(el('span', { class: 'error', text: ' ' + t('error', { msg: e.message }) }));
    }
  });
  parts.push(el('p', { class: 'actions' },
    el('a', { class: 'button', id: 'edit-link', href: '/edit.html?id=' + encodeURIComponent(rec.id), text: t('record.edit') }), ' ',
    el('a', { class: 'button secondary', id: 'proof-link', href: '/api/records/' + encodeURIComponent(rec.id) + '/proof?download=1', text: t('record.proof') }),
    rec.deleted ? '' : ' ', rec.deleted ? '' : del));
  const shown = new Set();

  if (rec.type === 'person' || rec.type === 'organization') {
    const variants = Array.isArray(f.name_variants) ? f.name_variants : (f.name_variants ? [f.name_variants] : []);
    parts.push(el('section', { class: 'names' }, el('h2', { text: t('record.names') }),
      el('ul', { class: 'names' }, el('li', { class: 'primary', text: f.name || titleOf(rec) }),
        variants.map((v) => el('li', { text: v })))));
    shown.add('name').add('name_variants');
    const rest = Object.keys(f).filter((k) => !shown.has(k));
    const facts = factsTable(f, rest);
    if (facts) parts.push(el('section', {}, el('h2', { text: t('record.details') }), facts));
    const involved = related.filter((i) => i.other.type !== 'person');
    const people = related.filter((i) => i.other.type === 'person');
    parts.push(byRoleSection(t('record.involvement'), involved, 'involvement'));
    if (people.length) parts.push(byRoleSection(t('record.people'), people, 'people'));
  } else if (rec.type === 'case' || rec.type === 'proceeding') {
    const officials = OFFICIALS.map((role) => {
      const names = related.filter((i) => i.role === role).map((i) => relatedLink(i.other));
      if (f[role]) names.unshift(document.createTextNode(fieldValue(f[role])));
      return names.length ? [roleName(role), el('span', {}, names.flatMap((n, k) => (k ? [', ', n] : [n])))] : null;
    }).filter(Boolean);
    const facts = factsTable(f, CASE_FACTS, officials);
    parts.push(el('section', { class: 'case-facts' }, el('h2', { text: t('record.facts') }), facts || el('p', { class: 'muted', text: t('record.none') })));
    const extra = Object.keys(f).filter((k) => !CASE_FACTS.includes(k) && !OFFICIALS.includes(k) && k !== 'title' && k !== 'hearings');
    const more = factsTable(f, extra);
    if (more) parts.push(el('section', {}, el('h2', { text: t('record.details') }), more));
    const people = related.filter((i) => i.other.type === 'person' || i.other.type === 'organization');
    parts.push(byRoleSection(t('record.people_by_role'), people, 'people'));
    /* hearings: events linked as hearings, and the hearings listed by its proceedings */
    const hearings = related.filter((i) => i.other.type === 'event' && (i.role === 'hearing' || i.other.fields?.kind === 'hearing'))
      .map((i) => ({ date: i.other.fields?.date, what: relatedLink(i.other) }));
    const procs = rec.type === 'proceeding' ? [{ other: rec, self: true }] : related.filter((i) => i.other.type === 'proceeding');
    for (const p of procs) {
      const hs = p.other.fields?.hearings;
      for (const h of Array.isArray(hs) ? hs : (hs ? [hs] : [])) {
        const date = typeof h === 'object' && h ? h.date : String(h);
        const note = typeof h === 'object' && h ? (h.note || h.result || h.court || '') : '';
        hearings.push({ date, what: el('span', {}, note ? note + ' · ' : '', p.self ? titleOf(rec) : relatedLink(p.other)) });
      }
    }
    hearings.sort((a, b) => dateKey(a.date) - dateKey(b.date));
    const hsec = el('section', { class: 'hearings' }, el('h2', { text: t('record.hearings') }));
    hsec.append(hearings.length ? el('ul', {}, hearings.map((h) => el('li', { class: 'hearing' }, el('time', { text: h.date || '—' }), ' ', h.what)))
      : el('p', { class: 'muted', text: t('record.none') }));
    parts.push(hsec);
    parts.push(timeline(related));
    const others = related.filter((i) => !['person', 'organization', 'event'].includes(i.other.type));
    if (others.length) parts.push(byRoleSection(t('record.related'), others, 'related'));
  } else {
    const facts = factsTable(f, Object.keys(f).filter((k) => k !== 'title'));
    if (facts) parts.push(el('section', {}, el('h2', { text: t('record.details') }), facts));
    parts.push(byRoleSection(t('record.related'), related, 'related'));
  }
  parts.push(evidenceSection(rec));
  if (!rec.deleted) {
    const schema = await api('GET', 'schema').catch(() => null);
    parts.push(linkForm(rec, schema ? schema.roles : []));
  }
  const hist = await api('GET', 'records/' + encodeURIComponent(rec.id) + '/history').then((r) => r.history).catch(() => []);
  parts.push(historySection(rec, hist));
  main.replaceChildren(...parts);
  document.title = titleOf(rec) + ' · Defter';
  document.body.classList.toggle('is-deleted', !!rec.deleted);
});
