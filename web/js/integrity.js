/*
 * integrity.js - the integrity page: the current signed checkpoint and log size, the verify
 * button, download of a record's inclusion proof (the JSON of `defter prove ID --json`), and
 * the log itself.
 */
import { api, el, start, t, param } from './app.js';

function proofForm() {
  const id = el('input', { type: 'text', id: 'proof-id', autocomplete: 'off', required: true,
    placeholder: 'cas_…', value: param('id') || '' });
  const msg = el('p', { id: 'proof-msg', role: 'status' });
  const form = el('form', { class: 'card proof', id: 'proof-form' },
    el('h2', { text: t('integrity.proof_title') }),
    el('p', { class: 'muted', text: t('integrity.proof_help') }),
    el('label', { for: 'proof-id', text: t('integrity.proof_id') }),
    el('div', { class: 'row' }, id, el('button', { type: 'submit', id: 'proof-go', text: t('integrity.proof_button') })),
    msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const rid = id.value.trim();
    if (!rid) return;
    msg.className = '';
    msg.textContent = '';
    try {
      /* ask first, so a wrong id gives a message rather than a downloaded error */
      const p = await api('GET', 'records/' + encodeURIComponent(rid) + '/proof');
      msg.className = 'ok';
      msg.textContent = t('integrity.proof_ready', { index: p.index, size: p.size });
      const a = el('a', { href: '/api/records/' + encodeURIComponent(rid) + '/proof?download=1', download: 'defter-proof-' + rid + '.json', hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (e) {
      msg.className = 'error';
      msg.textContent = t('error', { msg: e.message });
    }
  });
  return form;
}

start(async (main) => {
  const log = await api('GET', 'log');
  const cp = await api('GET', 'checkpoint');
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
    el('tr', {}, el('th', { text: t('integrity.size') }), el('td', { id: 'log-size', text: String(cp.size) })),
    el('tr', {}, el('th', { text: t('integrity.origin') }), el('td', { class: 'hash', text: cp.origin })),
    el('tr', {}, el('th', { text: t('integrity.vkey') }), el('td', { class: 'hash', id: 'vkey', text: cp.vkey }))));
  const rows = (log.entries || []).slice().reverse().slice(0, 200).map((e) =>
    el('tr', {}, el('td', { text: String(e.index) }), el('td', { text: e.ts || '' }), el('td', { text: e.action || '' }),
      el('td', { class: 'ids', text: (e.records || []).join(' ') }), el('td', { class: 'hash', text: e.leaf_hash || '' })));
  main.replaceChildren(
    el('h1', { text: t('integrity.title') }),
    el('p', { class: 'muted', text: t('integrity.help') }),
    facts,
    el('p', {}, verify), result,
    el('h2', { text: t('integrity.checkpoint') }),
    el('p', { class: 'muted', text: t('integrity.checkpoint_help') }),
    el('pre', { class: 'note', id: 'checkpoint', text: cp.checkpoint }),
    proofForm(),
    el('h2', { text: t('integrity.log') }),
    el('table', { class: 'list log' },
      el('thead', {}, el('tr', {}, ['#', t('integrity.ts'), t('integrity.action'), t('integrity.records'), t('integrity.leaf')].map((h) => el('th', { text: h })))),
      el('tbody', {}, rows)));
});
