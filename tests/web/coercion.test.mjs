/*
 * coercion.test.mjs - the Safety page (issue 14) against its own `defter ui` of a fresh vault
 * started by run.sh, checked with the real CLI in between (the page is locked first: the CLI
 * cannot open a vault that `defter ui` holds):
 * - the page is in the navigation when unlocked, in every language without raw keys;
 * - every endpoint refuses a wrong or missing passphrase, a missing CSRF token, a cross-site
 *   request and malformed forms, and the header file does not change;
 * - recovery: a 2-of-3 split shown one share per screen, each QR code decoded with zbarimg and
 *   equal to the words; a typo named as the CLI names it; two shares combined in the page set a
 *   new passphrase that the CLI accepts; wipe after 10 wrong passphrases set in the page wipes
 *   (the CLI's 10 wrong attempts), and shares combined in the locked page bring it back;
 *   void all shares, after which the CLI refuses the old ones;
 * - duress: a decoy set in the page opens with the CLI and shows only its records; a duress
 *   passphrase (shred + decoy) set in the page opens the decoy with the CLI, and the real
 *   passphrase opens nothing any more.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const URL0 = process.env.DEFTER_URL;
const BASE = new URL('/', URL0).href;
const VAULT = process.env.DEFTER_VAULT4;
const BIN = process.env.DEFTER_BIN;
const HEADER = join(VAULT, 'header');
let pass = process.env.DEFTER_PASSPHRASE; /* the vault's passphrase: it changes below */
const NEW1 = 'recovered passphrase one';
const NEW2 = 'recovered passphrase two';
const DECOY = 'harmless decoy passphrase';
const DURESS = 'duress passphrase at the checkpoint';
const ZBAR = ['/usr/bin/zbarimg', '/bin/zbarimg'].find((p) => existsSync(p));
let ctx;
let page;
let profile;
let work;
let shares = [];
const problems = [];

function passFile(name, text) {
  const p = join(work, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

/* The CLI on the test vault with passphrase text; the page must be locked. */
function defter(text, ...args) {
  return spawnSync(BIN, ['--vault', VAULT, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DEFTER_PASSPHRASE_FILE: passFile('cli-pass', text) },
  });
}

function header() {
  return readFileSync(HEADER);
}

/* A form POST from the page (same origin, session cookie); csrf: send the token. */
async function postForm(action, fields, csrf = true) {
  return page.evaluate(async ({ action, fields, csrf }) => {
    const s = await (await fetch('/api/session')).json();
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (csrf) headers['X-CSRF-Token'] = s.csrf;
    const body = typeof fields === 'string' ? fields : new URLSearchParams(fields).toString();
    const r = await fetch('/api/safety/' + action, { method: 'POST', headers, body });
    return { status: r.status, body: await r.text() };
  }, { action, fields, csrf });
}

async function lockPage() {
  await page.evaluate(async () => {
    const s = await (await fetch('/api/session')).json();
    await fetch('/api/lock', { method: 'POST', headers: { 'X-CSRF-Token': s.csrf } });
  });
}

async function unlockPage(text) {
  await page.goto(BASE);
  await page.waitForSelector('#unlock-form');
  await page.fill('#unlock-pass', text);
  await page.click('#unlock-go');
  await page.waitForSelector('#nav-safety');
}

async function openSafety() {
  await page.goto(BASE + 'safety.html');
  await page.waitForSelector('#duress-form');
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'defter-coercion-'));
  profile = mkdtempSync(join(tmpdir(), 'defter-chromium-'));
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(60000);
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    /* refusals (400, 403, 423) are answers the test provokes */
    const hostile = /status of (400|403|423)/.test(m.text()) ||
      (/status of 404/.test(m.text()) && /\/api\/safety\/nothing$/.test(m.location().url));
    if (m.type() === 'error' && !hostile) problems.push('console: ' + m.text() + ' ' + m.location().url);
  });
});

after(async () => {
  await ctx?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the Safety page is in the navigation when unlocked, and translated', async () => {
  await page.goto(URL0);
  await page.waitForSelector('main h1');
  await page.click('#nav-safety');
  await page.waitForSelector('#duress-form');
  assert.equal(await page.textContent('main h1'), 'Safety');
  for (const id of ['#duress-form', '#wipe-form', '#split-form', '#rotate-form', '#combine-form']) {
    assert.ok(await page.$(id + ' input[name=pass]'), id + ' asks for the current passphrase');
  }
  assert.match(await page.textContent('#wipe-warning'), /by accident/);
  assert.match(await page.textContent('#duress-not-shown'), /does not show whether/);
  for (const a of ['decoy', 'shred', 'shred+decoy']) {
    const text = await page.textContent('#duress-form');
    assert.ok(text.includes(a === 'decoy' ? 'Decoy' : a === 'shred' ? 'Shred' : 'Shred + decoy'), a);
  }
  /* the page's own catalogues (web/i18n/safety/) have every key, none empty */
  const LANGS = ['crh', 'uk', 'ru', 'tr', 'en'];
  const cats = {};
  for (const l of LANGS) {
    cats[l] = await page.evaluate(async (c) => (await fetch('/i18n/safety/' + c + '.json')).json(), l);
  }
  for (const l of LANGS) {
    assert.deepEqual(Object.keys(cats[l]).sort(), Object.keys(cats.en).sort(), l + ' keys');
    for (const [k, v] of Object.entries(cats[l])) assert.ok(typeof v === 'string' && v.trim() !== '', l + ' ' + k);
  }
  for (const l of LANGS) {
    await Promise.all([page.waitForEvent('load'), page.selectOption('#lang', l)]);
    await page.waitForSelector('#duress-form');
    const text = await page.evaluate(() => document.body.innerText);
    assert.doesNotMatch(text, /safety\.[a-z_]/, l + ' shows raw catalogue keys');
    if (l !== 'en') assert.doesNotMatch(text, /Wipe after wrong passphrases/, l + ' is English');
  }
  /* locked, the page offers no Safety link */
  await lockPage();
  await page.goto(BASE);
  await page.waitForSelector('#unlock-form');
  assert.equal(await page.$('#nav-safety'), null);
  await unlockPage(pass);
});

test('every endpoint refuses a wrong passphrase, no CSRF token, a cross-site request; nothing changes', async () => {
  await openSafety();
  const before = header();
  const words = Array(32).fill('abandon').join(' ');
  const bodies = {
    duress: { action: 'decoy', duress: DECOY },
    'wipe-after': { n: '10' },
    split: { m: '2', n: '3' },
    rotate: {},
    combine: { share: words, new: NEW1 },
  };
  for (const [action, fields] of Object.entries(bodies)) {
    const wrong = await postForm(action, { ...fields, pass: 'not the passphrase' });
    assert.equal(wrong.status, 403, action + ' wrong passphrase: ' + wrong.body);
    assert.match(wrong.body, /wrong passphrase/);
    assert.doesNotMatch(wrong.body, /words|svg/);
    const none = await postForm(action, fields);
    assert.equal(none.status, 403, action + ' without a passphrase: ' + none.body);
    const noCsrf = await postForm(action, { ...fields, pass }, false);
    assert.equal(noCsrf.status, 403, action + ' without CSRF');
    assert.match(noCsrf.body, /CSRF/);
    const cross = await ctx.request.post(BASE + 'api/safety/' + action, {
      headers: { 'Sec-Fetch-Site': 'cross-site', Origin: 'http://evil.example', 'Content-Type': 'application/x-www-form-urlencoded' },
      data: new URLSearchParams({ ...fields, pass }).toString(),
    });
    assert.equal(cross.status(), 403, action + ' cross-site');
    const sameSite = await ctx.request.post(BASE + 'api/safety/' + action, {
      headers: { Origin: 'http://127.0.0.1:1', 'Content-Type': 'application/x-www-form-urlencoded' },
      data: new URLSearchParams({ ...fields, pass }).toString(),
    });
    assert.equal(sameSite.status(), 403, action + ' other origin');
  }
  /* hostile forms: malformed, a field twice, out-of-range numbers, unknown action */
  const hostile = [
    ['split', 'pass=' + encodeURIComponent(pass) + '&m=2&n=3&%zz=1', 400],
    ['split', 'pass=x&pass=y&m=2&n=3', 403],
    ['split', '=&&', 400],
    ['split', 'pass=a%00b&m=2&n=3', 400],
    ['wipe-after', { n: '9', pass }, 400],
    ['wipe-after', { n: '101', pass }, 400],
    ['wipe-after', { n: '1e1', pass }, 400],
    ['wipe-after', { n: '-10', pass }, 400],
    ['split', { m: '1', n: '3', pass }, 400],
    ['split', { m: '4', n: '3', pass }, 400],
    ['split', { m: '2', n: '17', pass }, 400],
    ['split', { m: '2', n: 'x', pass }, 400],
    ['duress', { action: 'explode', duress: DECOY, pass }, 400],
    ['duress', { action: 'decoy', duress: '', pass }, 400],
    ['duress', { action: 'decoy', duress: pass, pass }, 400],
    ['duress', { action: 'shred+decoy', duress: DURESS, pass }, 400],
    ['combine', { share: 'qqqq ' + words.slice(8), new: NEW1, pass }, 400],
    ['combine', { new: NEW1, pass }, 400],
    ['combine', { share: words, pass }, 400],
    ['nothing', { pass }, 404],
  ];
  for (const [action, fields, status] of hostile) {
    const r = await postForm(action, fields);
    assert.equal(r.status, status, action + ' ' + JSON.stringify(fields) + ': ' + r.body);
  }
  assert.ok(header().equals(before), 'a refused request changed the header');
  /* the page still works, and the vault is still open */
  const ok = await page.evaluate(async () => (await fetch('/api/records')).status);
  assert.equal(ok, 200);
});

test('wipe after N: on and off from the page, each asking for the passphrase', async () => {
  await openSafety();
  const h0 = header();
  await page.fill('#wipe-n', '10');
  await page.check('#wipe-on');
  await page.fill('#wipe-form input[name=pass]', 'wrong');
  await page.click('#wipe-go');
  await page.locator('#wipe-msg.error').waitFor();
  assert.match(await page.textContent('#wipe-msg'), /Wrong passphrase: nothing was changed/);
  assert.ok(header().equals(h0));
  assert.equal(await page.inputValue('#wipe-form input[name=pass]'), '', 'the passphrase field was not emptied');
  await page.fill('#wipe-form input[name=pass]', pass);
  await page.click('#wipe-go');
  await page.locator('#wipe-msg.ok').waitFor();
  assert.match(await page.textContent('#wipe-msg'), /after 10 attempts in a row/);
  const h1 = header();
  assert.ok(!h1.equals(h0), 'wipe after on did not rewrite the header');
  await page.check('#wipe-off');
  await page.fill('#wipe-form input[name=pass]', pass);
  await page.click('#wipe-go');
  await page.locator('#wipe-msg.ok', { hasText: 'off' }).waitFor();
  assert.ok(!header().equals(h1), 'wipe after off did not rewrite the header');
  /* off for real: 10 wrong attempts through the CLI, and the passphrase still opens it */
  await lockPage();
  for (let i = 0; i < 10; i++) {
    const r = defter('wrong ' + i, 'list');
    assert.equal(r.status, 1);
  }
  const r = defter(pass, 'add', 'person', 'name=Real Person');
  assert.equal(r.status, 0, r.stderr);
  await unlockPage(pass);
});

async function zbar(path) {
  const r = spawnSync(ZBAR, ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', path], { encoding: 'utf8' });
  assert.equal(r.status, 0, 'zbarimg: ' + r.stderr);
  return r.stdout.trim();
}

test('recovery: 2 of 3 shares, one per screen, QR codes decode to the words', async () => {
  await openSafety();
  await page.fill('#split-m', '2');
  await page.fill('#split-n', '3');
  await page.fill('#split-form input[name=pass]', pass);
  await page.click('#split-go');
  await page.waitForSelector('#share-view');
  shares = [];
  for (let i = 1; i <= 3; i++) {
    await page.locator('#share-title', { hasText: `Share ${i} of 3 (any 2 open the vault)` }).waitFor();
    assert.equal(await page.locator('#share-words').count(), 1, 'more than one share on screen');
    assert.equal(await page.locator('img.qr').count(), 1);
    const words = (await page.textContent('#share-words')).trim();
    assert.equal(words.split(' ').length, 32);
    assert.ok(!shares.includes(words));
    await page.waitForFunction(() => document.querySelector('#share-qr')?.naturalWidth > 0);
    if (ZBAR) {
      const png = join(work, `qr${i}.png`);
      await page.locator('#share-qr').screenshot({ path: png });
      assert.equal(await zbar(png), words, `share ${i}: the QR code is not the words`);
    }
    shares.push(words);
    await page.click(i < 3 ? '#share-next' : '#share-finish');
  }
  await page.waitForSelector('#share-done');
  const text = await page.textContent('main');
  for (const w of shares) assert.ok(!text.includes(w), 'a share stayed on the page');
  assert.equal(await page.$('#share-qr'), null);
  if (!ZBAR) console.log('# zbarimg not found: QR codes not decoded');
});

test('recovery: a typo is named; two shares combined in the page set a new passphrase', async () => {
  await openSafety();
  const before = header();
  const typo = shares[1].split(' ');
  typo[6] = typo[6] === 'zoo' ? 'zone' : 'zoo';
  await page.fill('#combine-share-1', shares[0]);
  await page.fill('#combine-share-2', typo.join(' '));
  await page.fill('#combine-form input[name=new]', NEW1);
  await page.fill('#combine-form input[name=new2]', NEW1);
  await page.fill('#combine-form input[name=pass]', pass);
  await page.click('#combine-go');
  await page.locator('#combine-msg.error').waitFor();
  assert.match(await page.textContent('#combine-msg'), /share 2, word 7 '.*' is wrong \(checksum mismatch\)/);
  assert.ok(header().equals(before), 'a typo changed the header');
  /* the same words, corrected, with a share that is not a word list word */
  const notWord = shares[2].split(' ');
  notWord[0] = 'qqqq';
  await page.fill('#combine-share-1', notWord.join(' '));
  await page.fill('#combine-share-2', shares[1]);
  await page.fill('#combine-form input[name=new]', NEW1);
  await page.fill('#combine-form input[name=new2]', NEW1);
  await page.fill('#combine-form input[name=pass]', pass);
  await page.click('#combine-go');
  await page.locator('#combine-msg.error', { hasText: "share 1, word 1 'qqqq' is not in the word list" }).waitFor();
  assert.ok(header().equals(before));
  await page.fill('#combine-share-1', shares[0]);
  await page.fill('#combine-share-2', shares[2]);
  await page.fill('#combine-form input[name=new]', NEW1);
  await page.fill('#combine-form input[name=new2]', NEW1);
  await page.fill('#combine-form input[name=pass]', pass);
  await page.click('#combine-go');
  await page.locator('#combine-msg.ok').waitFor();
  assert.match(await page.textContent('#combine-msg'), /2 shares combined/);
  /* the page is locked; the CLI takes the new passphrase and no longer the old one */
  const old = defter(pass, 'list');
  assert.equal(old.status, 1);
  assert.match(old.stderr, /wrong passphrase or damaged header/);
  const r = defter(NEW1, '--json', 'list', 'person');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Real Person/);
  pass = NEW1;
  await page.click('#combine-unlock');
  await page.waitForSelector('#unlock-form');
});

test('wipe after 10 set in the page wipes; shares combined on the locked page bring it back', async () => {
  await unlockPage(pass);
  await openSafety();
  await page.check('#wipe-on');
  await page.fill('#wipe-n', '10');
  await page.fill('#wipe-form input[name=pass]', pass);
  await page.click('#wipe-go');
  await page.locator('#wipe-msg.ok').waitFor();
  await lockPage();
  for (let i = 0; i < 10; i++) assert.equal(defter('wrong ' + i, 'list').status, 1);
  const gone = defter(pass, 'list');
  assert.equal(gone.status, 1, 'the passphrase still opens after 10 wrong attempts');
  assert.match(gone.stderr, /wrong passphrase or damaged header/);
  /* locked: the unlock form, and under it recovery with shares (no passphrase to give) */
  await page.goto(BASE);
  await page.waitForSelector('#unlock-form');
  await page.click('#unlock-lost');
  await page.waitForSelector('#unlock-form');
  await page.waitForSelector('#combine-form');
  assert.equal(await page.$('#unlock-lost'), null);
  assert.equal(await page.$('#combine-form input[name=pass]'), null);
  await page.fill('#combine-share-1', shares[1]);
  await page.fill('#combine-share-2', shares[2]);
  await page.fill('#combine-form input[name=new]', NEW2);
  await page.fill('#combine-form input[name=new2]', NEW2);
  await page.click('#combine-go');
  await page.locator('#combine-msg.ok').waitFor();
  pass = NEW2;
  const r = defter(pass, '--json', 'list', 'person');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Real Person/);
});

test('void all shares: the CLI refuses the old ones', async () => {
  await unlockPage(pass);
  await openSafety();
  await page.fill('#rotate-form input[name=pass]', pass);
  await page.click('#rotate-go');
  await page.locator('#rotate-msg.ok').waitFor();
  await lockPage();
  const r = spawnSync(BIN, ['--vault', VAULT, 'recovery', 'combine', '--kdf', 'interactive',
    '--share-file', passFile('s1', shares[0]), '--share-file', passFile('s2', shares[1]),
    '--new-passphrase-file', passFile('n', 'never set')], { encoding: 'utf8' });
  assert.equal(r.status, 1, 'old shares still open the vault');
  assert.equal(defter(pass, 'list').status, 0);
});

test('duress: a decoy and a duress passphrase set in the page open the decoy with the CLI', async () => {
  await unlockPage(pass);
  await openSafety();
  await page.check('#duress-action-decoy');
  await page.fill('#duress-form input[name=duress]', DECOY);
  await page.fill('#duress-form input[name=duress2]', DECOY);
  await page.fill('#duress-form input[name=pass]', pass);
  await page.click('#duress-go');
  await page.locator('#duress-msg.ok').waitFor();
  assert.match(await page.textContent('#duress-msg'), /Decoy compartment made/);
  assert.match(await page.textContent('#decoy-seed'), /unlock it with the decoy's passphrase/);
  /* seed the decoy as the page says: lock, unlock with the decoy's passphrase, add */
  await page.click('#duress-lock');
  await page.waitForSelector('#unlock-form');
  await unlockPage(DECOY);
  await page.goto(BASE + 'edit.html?type=person');
  await page.fill('#f-name', 'Decoy Person');
  await page.click('#save');
  await page.waitForSelector('#record-title');
  await lockPage();
  let r = defter(DECOY, '--json', 'list', 'person');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Decoy Person/);
  assert.doesNotMatch(r.stdout, /Real Person/);
  /* shred + decoy */
  await unlockPage(pass);
  await openSafety();
  await page.check('#duress-action-shred-decoy');
  await page.fill('#duress-form input[name=duress]', DURESS);
  await page.fill('#duress-form input[name=duress2]', DURESS);
  await page.fill('#duress-form input[name=decoy]', DECOY);
  await page.fill('#duress-form input[name=pass]', pass);
  await page.click('#duress-go');
  await page.locator('#duress-msg.ok').waitFor();
  assert.match(await page.textContent('#duress-msg'), /then opens the decoy compartment/);
  await lockPage();
  r = defter(DURESS, '--json', 'list', 'person');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Decoy Person/);
  assert.doesNotMatch(r.stdout, /Real Person/);
  r = defter(pass, 'list');
  assert.equal(r.status, 1, 'the real passphrase still opens after the duress passphrase');
  assert.match(r.stderr, /wrong passphrase or damaged header/);
  assert.deepEqual(problems, []);
});
