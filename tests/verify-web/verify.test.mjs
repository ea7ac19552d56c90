/*
 * verify.test.mjs - defter-verify.html in Debian's chromium (headless) from file://: every
 * bundle of the corpus made by run.sh, chosen with the file picker (and one dropped), gets the
 * verdict and message that defter-verify gave; the page makes no network request, breaks no
 * Content-Security-Policy rule, and shows the SHA-256 of its verifier code.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(process.env.WEB_MODULES);
const { chromium } = require('playwright-core');
const cases = JSON.parse(readFileSync(process.env.EXPECTED, 'utf8'));
const html = process.env.VERIFY_HTML;
let browser, page, profile;
const requests = [];
const problems = [];

before(async () => {
  profile = mkdtempSync(join(tmpdir(), 'defter-verify-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = browser.pages()[0] || await browser.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(pathToFileURL(html).href);
});

after(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function verdict(bundle, policy) {
  const before = Number(await page.evaluate(() => document.body.dataset.done || 0));
  await page.setInputFiles('#policy', policy ? [policy] : []);
  await page.setInputFiles('#bundle', []);
  await page.setInputFiles('#bundle', bundle);
  await page.waitForSelector(`body[data-done="${before + 1}"]`, { state: 'attached', timeout: 60000 });
  const cls = await page.getAttribute('#verdict', 'class');
  const msg = await page.textContent('#verdict .message');
  return { ok: cls === 'good', message: msg };
}

test('the page shows the SHA-256 of its verifier code', async () => {
  const shown = (await page.textContent('#self-hash')).trim();
  const file = readFileSync(html, 'utf8');
  const script = file.slice(file.indexOf('<script>') + 8, file.lastIndexOf('</script>'));
  assert.equal(shown, createHash('sha256').update(script, 'utf8').digest('hex'));
  const csp = /script-src 'sha256-([^']+)'/.exec(file)[1];
  assert.equal(csp, createHash('sha256').update(script, 'utf8').digest('base64'));
});

test('same verdicts and messages as defter-verify on the corpus', async () => {
  let good = 0;
  for (const c of cases) {
    const got = await verdict(c.bundle, c.policy);
    const name = basename(c.bundle) + (c.policy ? ' with ' + basename(c.policy) : '');
    assert.equal(got.ok, c.ok, `${name}: page says ${got.ok ? 'verified' : got.message}; defter-verify: ${c.error}`);
    if (!c.ok) assert.equal(got.message, c.error, `${name}: message`);
    good += c.ok ? 1 : 0;
  }
  assert.ok(good >= 3, 'the good bundles verify');
  assert.ok(cases.length - good >= 250, 'the corpus has its mutations');
});

test('a dropped bundle is verified too', async () => {
  const c = cases.find((x) => x.ok && !x.policy);
  const b64 = readFileSync(c.bundle).toString('base64');
  const before = Number(await page.evaluate(() => document.body.dataset.done || 0));
  await page.setInputFiles('#policy', []);
  await page.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (ch) => ch.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'dropped.zip', { type: 'application/zip' }));
    document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, b64);
  await page.waitForSelector(`body[data-done="${before + 1}"]`, { state: 'attached' });
  assert.equal(await page.getAttribute('#verdict', 'class'), 'good');
});

test('no network request, no CSP violation, no page error', () => {
  const remote = requests.filter((u) => !u.startsWith('file:'));
  assert.deepEqual(remote, []);
  assert.equal(requests.length, 1, 'only the page itself: ' + requests.join(' '));
  assert.deepEqual(problems, []);
});
