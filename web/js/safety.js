/*
 * safety.js - the Safety page: what `defter duress set`, `defter duress wipe-after` and
 * `defter recovery split|combine|rotate` do, through POST /api/safety/... (api_coercion.c).
 *
 * Every form asks for the vault's current passphrase again (the server checks it), so a page
 * left open cannot set a duress passphrase or show shares. Passphrases and shares go in a form
 * body (never JSON, never a URL), fields are emptied as soon as they are sent, and shares are
 * shown one per screen, then dropped. Nothing here says whether a duress passphrase, a decoy or
 * wipe-after is set: the CLI does not say it either, on purpose.
 */
import { api, el, start, t, loadPageCatalog, csrfToken, ApiError, showUnlock } from './app.js';

/* POST a form body (application/x-www-form-urlencoded) to /api/safety/ACTION. */
async function post(action, fields) {
  const body = new URLSearchParams();
  for (const [k, v] of fields) body.append(k, v);
  const r = await fetch('/api/safety/' + action, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrfToken(), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  let data = null;
  try {
    data = await r.json();
  } catch (e) {
    data = null;
  }
  if (!r.ok) {
    if (r.status === 423) showUnlock();
    throw new ApiError(r.status, (data && data.error) || r.statusText);
  }
  return data;
}

let uid = 0;

function passField(label, name, autocomplete) {
  const id = 'safety-' + name + '-' + (++uid);
  const input = el('input', { type: 'password', id, name, autocomplete: autocomplete || 'off', required: true });
  return { input, nodes: [el('label', { for: id, text: label }), input] };
}

function status(id) {
  return el('p', { id, role: 'status', 'aria-live': 'polite' });
}

function say(msg, text, ok) {
  msg.className = ok ? 'ok' : 'error';
  msg.textContent = text;
}

function failText(e) {
  if (e instanceof ApiError && e.status === 403 && /wrong passphrase/.test(e.message)) return t('safety.wrong_pass');
  return t('error', { msg: e.message });
}

/* Clear every password and text field of a form (after sending, whatever the answer). */
function clearSecrets(form) {
  for (const i of form.querySelectorAll('input[type=password], textarea')) i.value = '';
}

/* ---- duress ---- */

function duressCard() {
  const current = passField(t('safety.current'), 'pass', 'current-password');
  const duress = passField(t('safety.duress_pass'), 'duress');
  const duress2 = passField(t('safety.repeat'), 'duress2');
  const decoy = passField(t('safety.decoy_pass'), 'decoy');
  const decoyBox = el('div', { id: 'duress-decoy-box', hidden: true }, decoy.nodes);
  const msg = status('duress-msg');
  const choices = ['decoy', 'shred', 'shred+decoy'].map((a, i) => {
    const id = 'duress-action-' + a.replace('+', '-');
    const r = el('input', { type: 'radio', name: 'action', id, value: a, checked: i === 0 });
    return el('div', { class: 'choice' },
      el('label', { for: id }, r, ' ', el('strong', { text: t('safety.action.' + a) })),
      el('p', { class: 'muted', text: t('safety.action.' + a + '.what') }),
      el('p', { class: 'limit', text: t('safety.action.' + a + '.limit') }));
  });
  const lockNow = el('button', { type: 'button', id: 'duress-lock', text: t('safety.decoy_lock') });
  lockNow.addEventListener('click', async () => {
    try {
      await api('POST', 'lock', '');
    } catch (e) {
      /* already locked */
    }
    showUnlock();
  });
  const form = el('form', { class: 'card safety', id: 'duress-form' },
    el('h2', { text: t('safety.duress_title') }),
    el('p', { text: t('safety.duress_help') }),
    el('p', { class: 'muted', id: 'duress-not-shown', text: t('safety.duress_not_shown') }),
    el('fieldset', {}, el('legend', { text: t('safety.action') }), choices),
    duress.nodes, duress2.nodes, decoyBox, current.nodes,
    el('button', { type: 'submit', id: 'duress-go', text: t('safety.duress_go') }), msg,
    el('h3', { text: t('safety.decoy_seed_title') }),
    el('p', { id: 'decoy-seed', text: t('safety.decoy_seed') }),
    el('p', {}, lockNow));
  const action = () => form.querySelector('input[name=action]:checked').value;
  const relabel = () => {
    const a = action();
    decoyBox.hidden = a !== 'shred+decoy';
    decoy.input.required = a === 'shred+decoy';
    form.querySelector('label[for=' + duress.input.id + ']').textContent =
      t(a === 'decoy' ? 'safety.decoy_new' : 'safety.duress_pass');
  };
  form.addEventListener('change', relabel);
  relabel();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const a = action();
    if (duress.input.value !== duress2.input.value) {
      say(msg, t('safety.mismatch'), false);
      return;
    }
    const fields = [['action', a], ['duress', duress.input.value], ['pass', current.input.value]];
    if (a === 'shred+decoy') fields.push(['decoy', decoy.input.value]);
    clearSecrets(form);
    say(msg, t('safety.working'), true);
    msg.className = '';
    try {
      await post('duress', fields);
      say(msg, t('safety.duress_done.' + a), true);
    } catch (e) {
      say(msg, failText(e), false);
    }
  });
  return form;
}

/* ---- wipe after N wrong passphrases ---- */

function wipeCard() {
  const current = passField(t('safety.current'), 'pass', 'current-password');
  const n = el('input', { type: 'number', id: 'wipe-n', min: '10', max: '100', value: '10', required: true });
  const on = el('input', { type: 'radio', name: 'wipe', id: 'wipe-on', value: 'on', checked: true });
  const off = el('input', { type: 'radio', name: 'wipe', id: 'wipe-off', value: 'off' });
  const msg = status('wipe-msg');
  const form = el('form', { class: 'card safety', id: 'wipe-form' },
    el('h2', { text: t('safety.wipe_title') }),
    el('p', { text: t('safety.wipe_help') }),
    el('p', { class: 'warning', id: 'wipe-warning', role: 'note', text: t('safety.wipe_warning') }),
    el('p', { class: 'muted', text: t('safety.wipe_not_shown') }),
    el('div', { class: 'choice' }, el('label', { for: 'wipe-on' }, on, ' ', t('safety.wipe_on'))),
    el('div', { class: 'indent' }, el('label', { for: 'wipe-n', text: t('safety.wipe_n') }), n),
    el('div', { class: 'choice' }, el('label', { for: 'wipe-off' }, off, ' ', t('safety.wipe_off'))),
    current.nodes,
    el('button', { type: 'submit', id: 'wipe-go', text: t('safety.save') }), msg);
  form.addEventListener('change', () => {
    n.disabled = off.checked;
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = off.checked ? 'off' : String(n.value).trim();
    const pass = current.input.value;
    clearSecrets(form);
    msg.className = '';
    msg.textContent = t('safety.working');
    try {
      const r = await post('wipe-after', [['n', value], ['pass', pass]]);
      say(msg, r.wipe_after ? t('safety.wipe_done_on', { n: r.wipe_after }) : t('safety.wipe_done_off'), true);
    } catch (e) {
      say(msg, failText(e), false);
    }
  });
  return form;
}

/* ---- recovery: split, one share per screen ---- */

function shareViewer(result, done) {
  let i = 0;
  let url = null;
  const box = el('div', { class: 'card share', id: 'share-view', role: 'region', 'aria-label': t('safety.share_title') });
  const dropUrl = () => {
    if (url) URL.revokeObjectURL(url);
    url = null;
  };
  const finish = () => {
    dropUrl();
    for (const s of result.shares) {
      s.words = '';
      s.svg = '';
    }
    result.shares = [];
    box.replaceChildren(el('p', { class: 'ok', id: 'share-done', text: t('safety.share_done', { m: result.threshold }) }));
    done();
  };
  const show = () => {
    dropUrl();
    const s = result.shares[i];
    url = URL.createObjectURL(new Blob([s.svg], { type: 'image/svg+xml' }));
    const last = i === result.shares.length - 1;
    const next = el('button', { type: 'button', id: last ? 'share-finish' : 'share-next', text: last ? t('safety.share_finish') : t('safety.share_next') });
    next.addEventListener('click', () => {
      if (last) finish();
      else {
        s.words = '';
        s.svg = '';
        i++;
        show();
      }
    });
    box.replaceChildren(
      el('h3', { id: 'share-title', text: t('safety.share_of', { i: s.index, n: result.count, m: result.threshold }) }),
      el('p', { class: 'muted', text: t('safety.share_hand') }),
      el('img', { id: 'share-qr', class: 'qr', src: url, alt: t('safety.share_qr_alt', { i: s.index }), width: 280, height: 280 }),
      el('p', { class: 'words', id: 'share-words', text: s.words }),
      el('p', {}, next));
    next.focus();
  };
  show();
  return box;
}

function splitCard() {
  const current = passField(t('safety.current'), 'pass', 'current-password');
  const m = el('input', { type: 'number', id: 'split-m', min: '2', max: '16', value: '2', required: true });
  const n = el('input', { type: 'number', id: 'split-n', min: '2', max: '16', value: '3', required: true });
  const msg = status('split-msg');
  const area = el('div', { id: 'share-area' });
  const go = el('button', { type: 'submit', id: 'split-go', text: t('safety.split_go') });
  const form = el('form', { class: 'card safety', id: 'split-form' },
    el('h2', { text: t('safety.recovery_title') }),
    el('p', { text: t('safety.recovery_help') }),
    el('p', { class: 'limit', text: t('safety.recovery_limit') }),
    el('h3', { text: t('safety.split_title') }),
    el('p', { class: 'muted', text: t('safety.split_help') }),
    el('div', { class: 'row nums' },
      el('div', {}, el('label', { for: 'split-m', text: t('safety.split_m') }), m),
      el('div', {}, el('label', { for: 'split-n', text: t('safety.split_n') }), n)),
    current.nodes, go, msg, area);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const pass = current.input.value;
    clearSecrets(form);
    msg.className = '';
    msg.textContent = t('safety.working');
    try {
      const r = await post('split', [['m', String(m.value)], ['n', String(n.value)], ['pass', pass]]);
      msg.textContent = '';
      go.disabled = true;
      area.replaceChildren(shareViewer(r, () => {
        go.disabled = false;
      }));
    } catch (e) {
      say(msg, failText(e), false);
    }
  });
  return form;
}

function rotateCard() {
  const current = passField(t('safety.current'), 'pass', 'current-password');
  const msg = status('rotate-msg');
  const form = el('form', { class: 'card safety', id: 'rotate-form' },
    el('h3', { text: t('safety.rotate_title') }),
    el('p', { class: 'muted', text: t('safety.rotate_help') }),
    current.nodes,
    el('button', { type: 'submit', id: 'rotate-go', text: t('safety.rotate_go') }), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const pass = current.input.value;
    clearSecrets(form);
    msg.className = '';
    msg.textContent = t('safety.working');
    try {
      await post('rotate', [['pass', pass]]);
      say(msg, t('safety.rotate_done'), true);
    } catch (e) {
      say(msg, failText(e), false);
    }
  });
  return form;
}

export function combineCard(locked) {
  const current = passField(t('safety.current'), 'pass', 'current-password');
  const np = passField(t('safety.new_pass'), 'new', 'new-password');
  const np2 = passField(t('safety.repeat'), 'new2', 'new-password');
  const shares = el('div', { id: 'combine-shares' });
  const addShare = () => {
    const k = shares.children.length + 1;
    const id = 'combine-share-' + k;
    shares.append(el('div', { class: 'share-input' },
      el('label', { for: id, text: t('safety.combine_share', { i: k }) }),
      el('textarea', { id, name: 'share', rows: 3, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' })));
  };
  addShare();
  addShare();
  const more = el('button', { type: 'button', id: 'combine-more', text: t('safety.combine_more') });
  more.addEventListener('click', () => {
    if (shares.children.length < 16) addShare();
  });
  const msg = status('combine-msg');
  const form = el('form', { class: 'card safety', id: 'combine-form' },
    el('h3', { text: t('safety.combine_title') }),
    el('p', { class: 'muted', text: t('safety.combine_help') }),
    shares, el('p', {}, more), np.nodes, np2.nodes, locked ? null : current.nodes,
    el('button', { type: 'submit', id: 'combine-go', text: t('safety.combine_go') }), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (np.input.value !== np2.input.value) {
      say(msg, t('safety.mismatch'), false);
      return;
    }
    const fields = [];
    for (const ta of shares.querySelectorAll('textarea')) {
      if (ta.value.trim() !== '') fields.push(['share', ta.value]);
    }
    fields.push(['new', np.input.value]);
    if (!locked) fields.push(['pass', current.input.value]);
    clearSecrets(form);
    msg.className = '';
    msg.textContent = t('safety.combine_working');
    try {
      const r = await post('combine', fields);
      say(msg, t('safety.combine_done', { k: r.shares }), true);
      const again = el('button', { type: 'button', id: 'combine-unlock', text: t('safety.combine_unlock') });
      again.addEventListener('click', () => location.reload());
      msg.append(' ', again);
    } catch (e) {
      say(msg, failText(e), false);
    }
  });
  return form;
}

/* Locked: under the unlock form, recovery with shares (the shares are the credential). */
async function lockedRecovery() {
  const main = document.getElementById('main');
  if (!main || !document.getElementById('unlock-form') || document.getElementById('combine-form')) return;
  await loadPageCatalog('safety');
  main.append(el('section', { class: 'locked-recovery' },
    el('h2', { text: t('safety.lost_title') }),
    el('p', { class: 'muted', text: t('safety.lost_help') }),
    combineCard(true)));
}

start(async (main) => {
  await loadPageCatalog('safety');
  document.title = t('safety.title') + ' — Defter';
  main.replaceChildren(
    el('h1', { text: t('safety.title') }),
    el('p', { text: t('safety.help') }),
    el('p', { class: 'muted', text: t('safety.docs') }),
    duressCard(),
    wipeCard(),
    splitCard(),
    rotateCard(),
    combineCard(false));
}).then(lockedRecovery);
