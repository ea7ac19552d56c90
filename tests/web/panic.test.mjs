/*
 * panic.test.mjs - the hold-to-confirm panic button and the cover page (issue 14) against its
 * own `defter ui` of a camouflaged vault (`init --camouflage holiday`) started by run.sh: a
 * short press (mouse or keyboard) and a request without the CSRF token or from another site
 * change nothing; locked, the page shows a neutral cover with nothing about Defter; holding the
 * button wipes the header (every byte changes), the server stops and the passphrase opens
 * nothing any more.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const URL0 = process.env.DEFTER_URL;
const BASE = new URL('/', URL0).href;
const VAULT = process.env.DEFTER_VAULT3;
const BIN = process.env.DEFTER_BIN;
const PID = Number(process.env.DEFTER_UI_PID);
const HEADER = join(VAULT, 'holiday.001');
const PASS = process.env.DEFTER_PASSPHRASE;
let ctx;
let page;
let profile;
const problems = [];

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return false;
  }
}

function defter(...args) {
  return spawnSync(BIN, ['--vault', VAULT, ...args], { encoding: 'utf8' });
}

before(async () => {
  profile = mkdtempSync(join(tmpdir(), 'defter-chromium-'));
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (403|423)/.test(m.text())) problems.push('console: ' + m.text());
  });
});

after(async () => {
  await ctx?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('every page has the panic button; a short press does nothing', async () => {
  await page.goto(URL0);
  await page.waitForSelector('main h1');
  await page.waitForSelector('#panic');
  const before = readFileSync(HEADER);
  await page.hover('#panic');
  await page.mouse.down();
  await page.waitForTimeout(600);
  await page.mouse.up();
  await page.locator('#panic-status', { hasText: 'hold the button' }).waitFor();
  assert.match(await page.textContent('#panic-status'), /hold the button for 3 seconds/);
  /* a click is not a hold either, nor a short key press */
  await page.click('#panic');
  await page.focus('#panic');
  await page.keyboard.down('Space');
  await page.waitForTimeout(300);
  await page.keyboard.up('Space');
  await page.waitForTimeout(3500); /* longer than the hold: nothing was left running */
  assert.equal(await page.$('#wiped'), null);
  assert.ok(readFileSync(HEADER).equals(before), 'a short press changed the header');
  assert.ok(alive(PID), 'the server stopped');
  /* the page still works */
  await page.goto(BASE);
  await page.waitForSelector('main h1');
  assert.equal(await page.textContent('main h1'), 'Records');
  assert.match(await page.textContent('main'), /Panic Test Person/);
});

test('POST /api/panic without the CSRF token, or from another site, is refused', async () => {
  const before = readFileSync(HEADER);
  const r1 = await page.evaluate(async () => (await fetch('/api/panic', { method: 'POST' })).status);
  assert.equal(r1, 403);
  const r2 = await ctx.request.post(BASE + 'api/panic', {
    headers: { 'Sec-Fetch-Site': 'cross-site', Origin: 'http://evil.example' },
  });
  assert.equal(r2.status(), 403);
  assert.ok(readFileSync(HEADER).equals(before), 'a refused request changed the header');
  assert.ok(alive(PID));
});

test('locked, a camouflaged vault shows a neutral cover until unlock', async () => {
  await page.click('#lock');
  await page.waitForSelector('#cover-form');
  const text = await page.textContent('body');
  assert.doesNotMatch(text, /defter|vault|records|lock|panic/i, 'the cover names the program: ' + text);
  assert.equal(await page.title(), 'Sign in');
  assert.equal(await page.$('#top nav'), null);
  /* a reload keeps the cover; a wrong password says only "try again" */
  await page.goto(BASE);
  await page.waitForSelector('#cover-form');
  assert.equal(await page.title(), 'Sign in');
  await page.fill('#cover-pass', 'not the passphrase');
  await page.click('#cover-go');
  await page.locator('#cover-form .error', { hasText: 'Try again.' }).waitFor();
  await page.fill('#cover-pass', PASS);
  await page.click('#cover-go');
  await page.waitForSelector('#top nav');
  await page.waitForSelector('main h1');
  assert.equal(await page.textContent('main h1'), 'Records');
  assert.match(await page.textContent('main'), /Panic Test Person/);
});

test('holding the button wipes the vault and stops the server', async () => {
  const before = readFileSync(HEADER);
  await page.hover('#panic');
  await page.mouse.down();
  await page.waitForSelector('#wiped', { timeout: 10000 });
  await page.mouse.up();
  assert.match(await page.textContent('#wiped'), /^Wiped\. This vault can no longer be opened/);
  const after = readFileSync(HEADER);
  assert.equal(after.length, before.length, 'the header changed size');
  /* every key slot of both copies is new random bytes: no 16-byte window of the old header */
  const windows = new Set();
  for (let i = 0; i + 16 <= before.length; i++) windows.add(before.subarray(i, i + 16).toString('hex'));
  for (let i = 0; i + 16 <= after.length; i++) {
    assert.ok(!windows.has(after.subarray(i, i + 16).toString('hex')), `old bytes at ${i}`);
  }
  const t0 = Date.now();
  for (let i = 0; i < 100 && alive(PID); i++) await new Promise((r) => setTimeout(r, 100));
  console.log(`# server stopped ${Date.now() - t0} ms after the wipe was shown`);
  assert.ok(!alive(PID), 'the server is still running');
  const r = defter('list');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /wrong passphrase or damaged header/);
  assert.deepEqual(problems, []);
});
