/*
 * app.js - shared by every page of `defter ui`: message catalogues, the JSON API client (CSRF
 * header), safe element building, the page header (search box, language switch, lock button)
 * and the unlock form.
 *
 * Data from the vault is only ever put into the page with textContent or attribute values set
 * through the DOM, never with innerHTML: names may contain markup.
 */

import { panicButton } from './panic.js';
import { showCover } from './cover.js';

export const LANGS = ['crh', 'uk', 'ru', 'tr', 'en'];
const LANG_KEY = 'defter.lang';
let catalog = {};
let fallback = {};
let session = null;

export const TYPES = ['case', 'proceeding', 'person', 'event', 'source', 'note', 'place', 'organization'];

/* The CSRF token of this session (for requests api() does not make, e.g. uploads). */
export function csrfToken() {
  return session ? session.csrf : '';
}

export function lang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (LANGS.includes(saved)) return saved;
  /* the browser's language when we have it (Crimean Tatar in its Latin script) */
  for (const l of navigator.languages || []) {
    const code = String(l).toLowerCase().split('-')[0];
    if (LANGS.includes(code)) return code;
  }
  return 'en';
}

/* Translate a key; {name} placeholders are filled from vars (as text). */
export function t(key, vars) {
  let s = catalog[key] ?? fallback[key] ?? key;
  if (vars) {
    for (const [k, v] of Object.entries(vars)) {
      s = s.split('{' + k + '}').join(String(v));
    }
  }
  return s;
}

/*
 * Merge a page's own catalogue (web/i18n/NAME/CODE.json; English for a language it lacks) into
 * the one t() reads. Call it at the start of the page's render.
 */
export async function loadPageCatalog(name) {
  const get = async (code) => {
    const r = await fetch('/i18n/' + name + '/' + code + '.json', { credentials: 'same-origin' });
    return r.ok ? r.json() : {};
  };
  const en = await get('en');
  fallback = { ...en, ...fallback };
  const code = lang();
  if (code !== 'en') catalog = { ...(await get(code)), ...catalog };
  else catalog = fallback;
}

async function loadCatalog(code) {
  const r = await fetch('/i18n/' + code + '.json', { credentials: 'same-origin' });
  if (!r.ok) throw new Error('catalogue ' + code);
  return r.json();
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/* Call the JSON API. body: object (sent as JSON), string (sent as text) or undefined. */
export async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: {} };
  if (method !== 'GET') {
    opts.headers['X-CSRF-Token'] = session ? session.csrf : '';
  }
  if (typeof body === 'string') {
    opts.headers['Content-Type'] = 'text/plain; charset=utf-8';
    opts.body = body;
  } else if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const r = await fetch('/api/' + path, opts);
  let data = null;
  try {
    data = await r.json();
  } catch (e) {
    data = null;
  }
  if (!r.ok) {
    if (r.status === 423) {
      showUnlock();
    }
    throw new ApiError(r.status, (data && data.error) || r.statusText);
  }
  return data;
}

/* Build an element: attrs set as properties/attributes, children strings become text nodes. */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function recordUrl(id) {
  return '/record.html?id=' + encodeURIComponent(id);
}

export function typeName(type, plural) {
  return t((plural ? 'types.' : 'type.') + type);
}

export function roleName(role) {
  const k = 'role.' + role;
  const s = t(k);
  return s === k ? role : s;
}

export function actionName(a) {
  const k = 'action.' + a;
  const s = t(k);
  return s === k ? String(a || '') : s;
}

/* Sort key of an ISO 8601 (partial, approximate) date: YYYYMMDD; undated last. */
export function dateKey(d) {
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?~?$/.exec(String(d || ''));
  if (!m) return 99999999;
  return Number(m[1]) * 10000 + Number(m[2] || 0) * 100 + Number(m[3] || 0);
}

/* An RFC 3339 UTC time as local time, without milliseconds. */
export function localTime(ts) {
  const d = new Date(ts);
  if (isNaN(d.getTime())) return String(ts || '');
  const p = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' +
    p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
}

export function fieldName(f) {
  const k = 'field.' + f;
  const s = t(k);
  return s === k ? f : s;
}

export function param(name) {
  return new URLSearchParams(location.search).get(name);
}

/* A record's display title. */
export function titleOf(rec) {
  if (rec.title) return rec.title;
  const f = rec.fields || {};
  return f.title || f.name || f.case_number || rec.id;
}

export function showError(where, err) {
  const msg = err instanceof ApiError ? err.message : String(err.message || err);
  where.replaceChildren(el('p', { class: 'error', role: 'alert', text: t('error', { msg }) }));
}

function applyStaticText(root) {
  for (const e of root.querySelectorAll('[data-i18n]')) {
    e.textContent = t(e.dataset.i18n);
  }
  for (const e of root.querySelectorAll('[data-i18n-placeholder]')) {
    e.setAttribute('placeholder', t(e.dataset.i18nPlaceholder));
  }
}

function header() {
  const q = el('input', {
    type: 'search', name: 'q', id: 'search-q', placeholder: t('search.placeholder'),
    'aria-label': t('search.label'), value: param('q') || '',
  });
  const form = el('form', { class: 'search', action: '/search.html', method: 'get', role: 'search' },
    q, el('button', { type: 'submit', id: 'search-go', text: t('search.button') }));
  const sel = el('select', { id: 'lang', 'aria-label': t('lang.label') });
  for (const code of LANGS) {
    const o = el('option', { value: code, text: t('lang.' + code) });
    if (code === lang()) o.selected = true;
    sel.append(o);
  }
  sel.addEventListener('change', () => {
    localStorage.setItem(LANG_KEY, sel.value);
    location.reload();
  });
  const lockBtn = el('button', { type: 'button', id: 'lock', class: 'lock', text: t('lock.button') });
  lockBtn.addEventListener('click', async () => {
    try {
      await api('POST', 'lock', '');
    } catch (e) {
      /* already locked */
    }
    showUnlock();
  });
  const nav = el('nav', {},
    el('a', { href: '/', class: 'brand', text: 'Defter' }),
    el('a', { href: '/', text: t('nav.records') }),
    el('a', { href: '/edit.html', id: 'nav-add', text: t('nav.add') }),
    el('a', { href: '/data.html', id: 'nav-data', text: t('nav.data') }),
    el('a', { href: '/integrity.html', text: t('nav.integrity') }),
    session && !session.locked ? el('a', { href: '/safety.html', id: 'nav-safety', text: t('nav.safety') }) : null);
  const panic = panicButton((path) => api('POST', path, ''), lang());
  return el('div', { class: 'bar' }, nav, form, el('div', { class: 'tools' }, sel, lockBtn, panic));
}

export function showUnlock() {
  if (session && session.cover) { /* a camouflaged vault: a neutral cover, no name (cover.js) */
    showCover((pass) => api('POST', 'unlock', pass), lang());
    return;
  }
  const main = document.getElementById('main');
  if (!main || document.getElementById('unlock-form')) return;
  const pass = el('input', { type: 'password', id: 'unlock-pass', autocomplete: 'current-password', required: true });
  const msg = el('p', { class: 'error', role: 'alert' });
  const form = el('form', { id: 'unlock-form', class: 'card unlock' },
    el('h1', { text: t('unlock.title') }),
    el('p', { text: t('unlock.help') }),
    el('label', { for: 'unlock-pass', text: t('unlock.passphrase') }), pass,
    el('button', { type: 'submit', id: 'unlock-go', text: t('unlock.button') }), msg,
    location.pathname === '/safety.html' ? null
      : el('p', { class: 'muted' }, el('a', { href: '/safety.html', id: 'unlock-lost', text: t('unlock.lost') })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = pass.value;
    pass.value = '';
    msg.textContent = t('unlock.working');
    try {
      await api('POST', 'unlock', value);
      location.reload();
    } catch (e) {
      msg.textContent = e.status === 403 ? t('unlock.wrong') : t('error', { msg: e.message });
    }
  });
  main.replaceChildren(form);
  pass.focus();
}

/* Load session and catalogue, draw the header, then the page (unless locked). */
export async function start(render) {
  const code = lang();
  document.documentElement.lang = code;
  try {
    fallback = await loadCatalog('en');
    catalog = code === 'en' ? fallback : await loadCatalog(code);
  } catch (e) {
    catalog = {};
  }
  const top = document.getElementById('top');
  const main = document.getElementById('main');
  try {
    session = await api('GET', 'session');
  } catch (e) {
    main.replaceChildren(el('p', { class: 'error', text: t('session.none') }));
    return;
  }
  if (session.locked && session.cover) {
    showUnlock();
    return;
  }
  top.replaceChildren(header());
  applyStaticText(document);
  if (session.locked) {
    showUnlock();
    return;
  }
  try {
    await render(main);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 423)) showError(main, e);
  }
}
