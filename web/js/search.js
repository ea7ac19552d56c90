/* search.js - cross-script search results, grouped by record type. */
import { api, el, start, t, typeName, recordUrl, param, TYPES } from './app.js';

start(async (main) => {
  const q = (param('q') || '').trim();
  const parts = [el('h1', { text: t('search.title') })];
  if (!q) {
    parts.push(el('p', { class: 'muted', text: t('search.empty') }));
    main.replaceChildren(...parts);
    return;
  }
  const type = param('type');
  const { hits } = await api('GET', 'search?q=' + encodeURIComponent(q) + (type ? '&type=' + encodeURIComponent(type) : ''));
  parts.push(el('p', { class: 'muted', text: t('search.count', { n: hits.length, q }) }));
  const groups = new Map();
  for (const h of hits) {
    if (!groups.has(h.type)) groups.set(h.type, []);
    groups.get(h.type).push(h);
  }
  const order = [...TYPES, ...[...groups.keys()].filter((k) => !TYPES.includes(k))];
  for (const ty of order) {
    const list = groups.get(ty);
    if (!list) continue;
    parts.push(el('section', { class: 'group hits', dataset: { type: ty } },
      el('h2', { text: typeName(ty, true) }),
      el('ul', { class: 'records' }, list.map((h) =>
        el('li', {}, el('a', { href: recordUrl(h.id), class: 'hit', text: h.title || h.id }))))));
  }
  main.replaceChildren(...parts);
});
