/*
 * ui.test.mjs - one user's session in a real browser (Debian's chromium, headless) against
 * `defter ui` started by run.sh: create a case, add a person, link them as victim, search for
 * the person in Cyrillic and find the Latin record, names with markup stay text, switch
 * language, lock and unlock. Any Content-Security-Policy violation or page error fails it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const URL0 = process.env.DEFTER_URL;
const BASE = new URL('/', URL0).href;
const PASS = process.env.DEFTER_PASSPHRASE;
const MARKUP = '<img src=x onerror="window.__pwned=1">Evil <b>Name</b>';
let ctx;
let page;
let profile;
const problems = [];

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
    /* 423 (locked) and 403 (wrong passphrase) are answers the test provokes */
    if (m.type() === 'error' && !/status of (423|403)/.test(m.text())) problems.push('console: ' + m.text());
  });
});

after(async () => {
  await ctx?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('the token URL opens a session and lands on the record list', async () => {
  await page.goto(URL0);
  assert.equal(page.url(), BASE, 'redirected to a URL without the token');
  await page.waitForSelector('main h1');
  assert.equal(await page.textContent('main h1'), 'Records');
  const cookies = await ctx.cookies();
  const c = cookies.find((x) => x.name === 'defter_session');
  assert.ok(c && c.httpOnly && c.sameSite === 'Strict');
  /* the token is single use: a second tab with the same URL gets no session */
  const other = await ctx.request.get(URL0, { maxRedirects: 0 });
  assert.equal(other.status(), 403);
});

test('create a case, add a person, link them as victim', async () => {
  await page.goto(BASE + 'edit.html?type=case');
  await page.fill('#f-title', 'Case of Ilmi Umerov');
  await page.fill('#f-case_number', '12-345/2016');
  await page.fill('#f-court', 'Supreme Court of Crimea');
  await page.click('#save');
  await page.waitForSelector('#record-title');
  assert.equal(await page.textContent('#record-title'), 'Case of Ilmi Umerov');
  const caseUrl = page.url();

  await page.goto(BASE + 'edit.html?type=person');
  await page.fill('#f-name', 'Ilmi Umerov');
  await page.fill('#f-name_variants', 'İlmi Ümerov\nИльми Умеров');
  await page.click('#save');
  await page.waitForSelector('#record-title');
  assert.equal(await page.textContent('#record-title'), 'Ilmi Umerov');
  assert.match(await page.textContent('section.names'), /Ильми Умеров/);

  await page.goto(caseUrl);
  await page.waitForSelector('#link-form');
  await page.selectOption('#link-role', 'victim');
  await page.fill('#link-q', 'Ilmi');
  await page.click('#link-find');
  await page.click('#link-results button:has-text("Ilmi Umerov")');
  await Promise.all([page.waitForURL(caseUrl), page.click('#link-go')]);
  await page.waitForSelector('section.people dd[data-role="victim"]');
  assert.equal(await page.textContent('section.people dd[data-role="victim"]'), 'Ilmi Umerov');
  /* and the person page shows the case with the role */
  await page.click('section.people dd[data-role="victim"] a');
  await page.waitForSelector('section.involvement dd[data-role="victim"]');
  assert.equal(await page.textContent('section.involvement dd[data-role="victim"]'), 'Case of Ilmi Umerov');
});

test('search in Cyrillic finds the Latin record, grouped by type', { skip: process.env.DEFTER_SEARCH_STUB ? 'the search subsystem is still a placeholder (src/search/stub.c)' : false }, async () => {
  await page.goto(BASE);
  await page.fill('#search-q', 'Умеров');
  await Promise.all([page.waitForURL(/search\.html/), page.click('#search-go')]);
  await page.waitForSelector('section.hits[data-type="person"] a.hit');
  const names = await page.locator('section.hits[data-type="person"] a.hit').allTextContents();
  assert.ok(names.includes('Ilmi Umerov'), 'found: ' + names.join(', '));
});

test('search from the header box finds records grouped by type', async () => {
  await page.goto(BASE);
  await page.fill('#search-q', 'Umerov');
  await Promise.all([page.waitForURL(/search\.html/), page.click('#search-go')]);
  await page.waitForSelector('section.hits a.hit');
  assert.deepEqual(await page.locator('section.hits[data-type="person"] a.hit').allTextContents(), ['Ilmi Umerov']);
  assert.deepEqual(await page.locator('section.hits[data-type="case"] a.hit').allTextContents(), ['Case of Ilmi Umerov']);
});

test('a name with markup renders as text', async () => {
  await page.goto(BASE + 'edit.html?type=person');
  await page.fill('#f-name', MARKUP);
  await page.click('#save');
  await page.waitForSelector('#record-title');
  assert.equal(await page.textContent('#record-title'), MARKUP);
  assert.equal(await page.locator('main img').count(), 0);
  await page.goto(BASE);
  await page.waitForSelector('a.record-link');
  const titles = await page.locator('a.record-link').allTextContents();
  assert.ok(titles.includes(MARKUP));
  assert.equal(await page.locator('main img, main b').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
});

test('switch language: Ukrainian, Crimean Tatar, English', async () => {
  await page.goto(BASE);
  await page.waitForSelector('main h1');
  await Promise.all([page.waitForEvent('load'), page.selectOption('#lang', 'uk')]);
  await page.waitForSelector('main h1');
  assert.equal(await page.textContent('main h1'), 'Записи');
  assert.equal(await page.getAttribute('html', 'lang'), 'uk');
  await Promise.all([page.waitForEvent('load'), page.selectOption('#lang', 'crh')]);
  await page.waitForSelector('main h1');
  assert.equal(await page.textContent('main h1'), 'Qayıtlar');
  assert.equal(await page.textContent('#search-go'), 'Qıdır');
  await Promise.all([page.waitForEvent('load'), page.selectOption('#lang', 'en')]);
  await page.waitForSelector('main h1');
  assert.equal(await page.textContent('main h1'), 'Records');
});

test('lock wipes the session keys and the page unlocks with the passphrase', async () => {
  await page.goto(BASE);
  await page.waitForSelector('a.record-link');
  await page.click('#lock');
  await page.waitForSelector('#unlock-form');
  const r = await ctx.request.get(BASE + 'api/records');
  assert.equal(r.status(), 423);
  await page.fill('#unlock-pass', 'not the passphrase');
  await page.click('#unlock-go');
  await page.waitForSelector('#unlock-form p.error:has-text("Wrong passphrase")');
  await page.fill('#unlock-pass', PASS);
  await Promise.all([page.waitForEvent('load'), page.click('#unlock-go')]);
  await page.waitForSelector('a.record-link');
  assert.ok((await page.locator('a.record-link').allTextContents()).includes('Ilmi Umerov'));
});

test('integrity page verifies the vault', async () => {
  await page.goto(BASE + 'integrity.html');
  await page.waitForSelector('#verify');
  assert.ok(Number(await page.textContent('#log-size')) >= 4);
  await page.click('#verify');
  await page.waitForSelector('#verify-result.ok');
});

test('no page error and no Content-Security-Policy violation', () => {
  assert.deepEqual(problems, []);
});
