/* list.js - the landing page: every record of the vault by title or name, grouped by type. */
import { api, el, start, t, typeName, recordUrl, TYPES } from './app.js';

start(async (main) => {
  const { records } = await api('GET', 'records');
  const parts = [el('h1', { text: t('list.title') })];
  if (records.length === 0) {
    parts.push(el('p', { class: 'muted', text: t('list.empty') }));
  }
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
      el('h2', {}, typeName(type, true), ' ', el('span', { class: 'count', text: String(list.length) })),
      el('ul', { class: 'records' }, list.map((r) =>
        el('li', {}, el('a', { href: recordUrl(r.id), class: 'record-link', text: r.title || r.id }))))));
  }
  const add = el('p', { class: 'actions' });
  for (const type of TYPES) {
    add.append(el('a', { class: 'button', href: '/edit.html?type=' + type, text: t('add.type', { type: typeName(type) }) }), ' ');
  }
  parts.push(add);
  main.replaceChildren(...parts);
});
