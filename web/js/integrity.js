/* integrity.js - the integrity page: log size, identity, verify button, the log itself. */
import { api, el, start, t } from './app.js';

start(async (main) => {
  const log = await api('GET', 'log');
  let ident = null;
  try {
    ident = await api('GET', 'identity');
  } catch (e) {
    ident = null;
  }
  const result = el('p', { id: 'verify-result', role: 'status' });
  const verify = el('button', { type: 'button', id: 'verify', text: t('integrity.verify') });
  verify.addEventListener('click', async () => {
    result.className = '';
    result.textContent = t('integrity.verifying');
    try {
      const r = await api('POST', 'verify', '');
      result.className = r.ok ? 'ok' : 'error';
      result.textContent = r.ok ? t('integrity.ok') : t('integrity.bad', { msg: r.error || '' });
    } catch (e) {
      result.className = 'error';
      result.textContent = t('error', { msg: e.message });
    }
  });
  const facts = el('table', { class: 'facts' }, el('tbody', {},
    el('tr', {}, el('th', { text: t('integrity.size') }), el('td', { id: 'log-size', text: String(log.size) })),
    ident && ident.vkey ? el('tr', {}, el('th', { text: t('integrity.vkey') }), el('td', { class: 'hash', text: ident.vkey })) : null,
    ident && ident.origin ? el('tr', {}, el('th', { text: t('integrity.origin') }), el('td', { class: 'hash', text: ident.origin })) : null));
  const rows = (log.entries || []).slice().reverse().slice(0, 200).map((e) =>
    el('tr', {}, el('td', { text: String(e.index) }), el('td', { text: e.ts || '' }), el('td', { text: e.action || '' }),
      el('td', { class: 'ids', text: (e.records || []).join(' ') }), el('td', { class: 'hash', text: e.leaf_hash || '' })));
  main.replaceChildren(
    el('h1', { text: t('integrity.title') }),
    el('p', { class: 'muted', text: t('integrity.help') }),
    facts,
    el('p', {}, verify), result,
    el('h2', { text: t('integrity.log') }),
    el('table', { class: 'list log' },
      el('thead', {}, el('tr', {}, ['#', t('integrity.ts'), t('integrity.action'), t('integrity.records'), t('integrity.leaf')].map((h) => el('th', { text: h })))),
      el('tbody', {}, rows)));
});
