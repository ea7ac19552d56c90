/*
 * data.js - spreadsheets in and out: export a type as CSV or JSON (a plain, unencrypted file
 * for the user's own use: the page says so), and import a CSV file as records of a type,
 * checked first (dry run: the first bad row and column are named), then added all at once.
 */
import { api, el, start, t, typeName, param, TYPES, csrfToken } from './app.js';

function typeSelect(id, chosen) {
  return el('select', { id, name: 'type' }, TYPES.map((ty) => el('option', { value: ty, text: typeName(ty, true), selected: ty === chosen })));
}

async function download(type, format) {
  const r = await fetch('/api/export?format=' + format + '&type=' + encodeURIComponent(type), { credentials: 'same-origin' });
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.statusText);
  const blob = format === 'csv' ? await r.blob()
    : new Blob([JSON.stringify((await r.json()).records, null, 2)], { type: 'application/json' });
  const a = el('a', { href: URL.createObjectURL(blob), download: 'defter-' + type + '.' + format });
  document.body.append(a);
  a.click();
  a.remove();
}

async function importCsv(type, text, dry) {
  const r = await fetch('/api/import?type=' + encodeURIComponent(type) + (dry ? '&dry_run=1' : ''), {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'text/csv; charset=utf-8', 'X-CSRF-Token': csrfToken() }, body: text,
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}

start(async (main) => {
  await api('GET', 'session');
  const chosen = TYPES.includes(param('type')) ? param('type') : 'case';
  const exType = typeSelect('export-type', chosen);
  const exMsg = el('p', { id: 'export-msg', role: 'status' });
  const csvBtn = el('button', { type: 'button', id: 'export-csv', text: t('data.export_csv') });
  const jsonBtn = el('button', { type: 'button', id: 'export-json', text: t('data.export_json') });
  for (const [b, fmt] of [[csvBtn, 'csv'], [jsonBtn, 'json']]) {
    b.addEventListener('click', async () => {
      try {
        await download(exType.value, fmt);
        exMsg.className = 'ok';
        exMsg.textContent = t('data.exported');
      } catch (e) {
        exMsg.className = 'error';
        exMsg.textContent = t('error', { msg: e.message });
      }
    });
  }
  const exportCard = el('section', { class: 'card', id: 'export' },
    el('h2', { text: t('data.export') }),
    el('p', { class: 'warning', id: 'export-warning', text: t('data.not_encrypted') }),
    el('label', { for: 'export-type', text: t('data.type') }), exType,
    el('p', {}, csvBtn, ' ', jsonBtn), exMsg);

  const imType = typeSelect('import-type', chosen);
  const file = el('input', { type: 'file', id: 'import-file', accept: '.csv,text/csv' });
  const imMsg = el('p', { id: 'import-msg', role: 'status' });
  const check = el('button', { type: 'button', id: 'import-check', text: t('data.check') });
  const go = el('button', { type: 'button', id: 'import-go', text: t('data.import_go'), disabled: true });
  let text = null;
  check.addEventListener('click', async () => {
    go.disabled = true;
    const f = file.files && file.files[0];
    if (!f) {
      imMsg.className = 'error';
      imMsg.textContent = t('data.choose_first');
      return;
    }
    text = await f.text();
    try {
      const r = await importCsv(imType.value, text, true);
      imMsg.className = 'ok';
      imMsg.textContent = t('data.checked', { n: r.count });
      go.disabled = false;
    } catch (e) {
      imMsg.className = 'error';
      imMsg.textContent = t('error', { msg: e.message });
    }
  });
  go.addEventListener('click', async () => {
    go.disabled = true;
    try {
      const r = await importCsv(imType.value, text, false);
      imMsg.className = 'ok';
      imMsg.textContent = t('data.imported', { n: r.count });
    } catch (e) {
      imMsg.className = 'error';
      imMsg.textContent = t('error', { msg: e.message });
    }
  });
  const importCard = el('section', { class: 'card', id: 'import' },
    el('h2', { text: t('data.import') }),
    el('p', { class: 'muted', text: t('data.import_help') }),
    el('label', { for: 'import-type', text: t('data.type') }), imType,
    el('label', { for: 'import-file', text: t('data.file') }), file,
    el('p', {}, check, ' ', go), imMsg);
  main.replaceChildren(el('h1', { text: t('data.title') }), exportCard, importCard);
});
