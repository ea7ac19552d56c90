/*
 * daily.test.mjs - the pages of daily work (issue 16) in Debian's chromium, against the second
 * `defter ui` of run.sh (vault with three cases, events, a proceeding with hearings, a photo with
 * EXIF): the page without a session in the user's language and `defter ui --open`; filters and
 * sorting of cases and events; the case page (people by role, timeline by date, hearings of its
 * proceedings, photo metadata, history old -> new); delete with confirmation and restore; the
 * print stylesheet (emulated print media, PDF and its text); every catalogue key in every
 * language and no raw key on any page; spreadsheets out and in.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const URL0 = process.env.DEFTER_URL;
const BASE = new URL('/', URL0).href;
const CASE = process.env.DEFTER_CASE;
const LANGS = ['crh', 'uk', 'ru', 'tr', 'en'];
let browser;
let ctx;
let page;
let work;
const problems = [];

function watch(p) {
  p.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  p.on('console', (m) => {
    /* refused requests the test provokes (no session, a bad CSV row) log their status */
    if (m.type() === 'error' && !/status of (400|401|403|423)/.test(m.text())) problems.push('console: ' + m.text());
  });
}

async function newContext(locale) {
  const c = await browser.newContext({ locale, acceptDownloads: true });
  c.setDefaultTimeout(15000);
  return c;
}

async function apiGet(path) {
  return page.evaluate(async (p) => (await fetch('/api/' + p, { credentials: 'same-origin' })).json(), path);
}

async function rows() {
  await page.waitForSelector('#records-table, #no-match');
  return page.locator('#records-table tbody tr td:first-child').allTextContents();
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'defter-daily-web-'));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  ctx = await newContext('en-US');
  page = await ctx.newPage();
  watch(page);
});

after(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('without a link: a page in the user\'s language says what to do, not raw JSON', async () => {
  const c = await newContext('uk-UA');
  const p = await c.newPage();
  const r = await p.goto(BASE);
  assert.equal(r.status(), 401);
  assert.equal(await p.getAttribute('html', 'lang'), 'uk');
  assert.match(await p.textContent('#why'), /посилання/);
  assert.match(await p.textContent('#todo'), /defter ui --open/);
  await c.close();
});

test('the link opens a session; reopened, it shows a page saying what to do', async () => {
  await page.goto(URL0);
  assert.equal(page.url(), BASE);
  await page.waitForSelector('main h1');
  const c = await newContext('tr-TR');
  const p = await c.newPage();
  const r = await p.goto(URL0);
  assert.equal(r.status(), 403);
  assert.equal(await p.getAttribute('html', 'lang'), 'tr');
  assert.match(await p.textContent('#why'), /kullanıldı/);
  assert.match(await p.textContent('#todo'), /defter ui --open/);
  await c.close();
});

test('cases: filter by status and court, sort by a column; events by date range and place', async () => {
  await page.goto(BASE + '?type=case');
  assert.equal((await rows()).length, 3);
  await page.selectOption('#w-status', 'appeal');
  await Promise.all([page.waitForURL(/w\.status=appeal/), page.click('#filter-go')]);
  assert.deepEqual(await rows(), ['Case of Ilmi Umerov']);
  await page.goto(BASE + '?type=case');
  await page.fill('#w-court', 'Supreme Court of Crimea');
  await Promise.all([page.waitForURL(/w\.court=/), page.click('#filter-go')]);
  assert.deepEqual((await rows()).sort(), ['Case of Ahtem Chiygoz', 'Case of Ilmi Umerov']);
  /* sort by date (a partial date, 2018-05~, sorts by date too), then descending */
  await page.goto(BASE + '?type=case');
  await Promise.all([page.waitForURL(/sort=date/), page.click('th[data-col="date"] a')]);
  assert.deepEqual(await rows(), ['Case of Ahtem Chiygoz', 'Case of Ilmi Umerov', 'Case of Server Mustafayev']);
  await Promise.all([page.waitForURL(/sort=-date/), page.click('th[data-col="date"] a')]);
  assert.deepEqual(await rows(), ['Case of Server Mustafayev', 'Case of Ilmi Umerov', 'Case of Ahtem Chiygoz']);
  /* events by date range and place */
  await page.goto(BASE + '?type=event&sort=date');
  await page.fill('#f-from', '2016-01-01');
  await page.fill('#f-to', '2016-12-31');
  await Promise.all([page.waitForURL(/from=2016/), page.click('#filter-go')]);
  assert.deepEqual(await rows(), ['Search of his home', 'Psychiatric examination']);
  await page.goto(BASE + '?type=event&w.place=Simferopol&sort=date');
  assert.deepEqual(await rows(), ['Interview on ATR', 'Psychiatric examination']);
  await page.goto(BASE + '?type=event&w.place=Nowhere');
  await page.waitForSelector('#no-match');
});

test('the case page: people by role, timeline by date, hearings, photo metadata, history', async () => {
  await page.goto(BASE + 'record.html?id=' + CASE);
  await page.waitForSelector('section.history li');
  assert.equal(await page.textContent('section.people dd[data-role="defendant"]'), 'Ilmi Umerov');
  assert.equal(await page.textContent('section.people dd[data-role="witness"]'), 'Witness To Delete');
  assert.deepEqual(await page.locator('ol.timeline li a').allTextContents(),
    ['Interview on ATR', 'Search of his home', 'Psychiatric examination']);
  assert.deepEqual(await page.locator('section.hearings li.hearing time').allTextContents(), ['2016-08-12', '2016-09-27']);
  assert.match(await page.textContent('section.hearings'), /verdict/);
  const meta = await page.textContent('tr.evidence-row ul.photo-meta');
  assert.match(meta, /2016-05-12T06:30:00/);
  assert.match(meta, /Canon EOS 5D/);
  assert.match(meta, /44\.750000, 33\.850000/);
  const status = page.locator('section.history li[data-field="status"]').last();
  assert.equal(await status.locator('.old').textContent(), 'trial');
  assert.equal(await status.locator('.new').textContent(), 'appeal');
  for (const tm of await page.locator('section.history ol.history > li > time').allTextContents()) {
    assert.match(tm, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'local time without milliseconds');
  }
  assert.equal(await page.textContent('section.history strong.action[data-action="update"]'), 'edited');
});

test('delete asks first; a deleted record is marked and leaves the case; restore brings it back', async () => {
  const { records } = await apiGet('list?type=person&w.name=' + encodeURIComponent('Witness To Delete'));
  const id = records[0].id;
  await page.goto(BASE + 'record.html?id=' + id);
  await page.waitForSelector('#delete');
  page.once('dialog', (d) => d.dismiss());
  await page.click('#delete');
  assert.equal(await page.locator('#deleted-banner').count(), 0, 'a dismissed confirmation deletes nothing');
  assert.equal((await apiGet('records/' + id)).deleted, false);
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.accept(); });
  await Promise.all([page.waitForEvent('load'), page.click('#delete')]);
  assert.match(asked, /Witness To Delete/);
  await page.waitForSelector('#deleted-banner');
  assert.equal(await page.locator('#delete').count(), 0);
  assert.equal(await page.locator('#link-form').count(), 0, 'no links to a deleted record');
  await page.goto(BASE + 'record.html?id=' + CASE);
  await page.waitForSelector('section.people');
  assert.equal(await page.locator('section.people dd[data-role="witness"]').count(), 0);
  await page.goto(BASE + '?deleted=1');
  await page.waitForSelector('#deleted-list');
  assert.deepEqual(await page.locator('#deleted-list tr').evaluateAll((t) => t.map((r) => r.dataset.id)), [id]);
  await Promise.all([page.waitForEvent('load'), page.click('#deleted-list button.restore')]);
  await page.waitForSelector('#no-deleted');
  await page.goto(BASE + 'record.html?id=' + CASE);
  await page.waitForSelector('section.people dd[data-role="witness"]');
});

test('print: the case page prints as a clean case summary without menus, forms or buttons', async () => {
  await page.goto(BASE + 'record.html?id=' + CASE);
  await page.waitForSelector('section.history li');
  await page.emulateMedia({ media: 'print' });
  for (const sel of ['header#top', '#link-form', '#upload-form', '#delete', '#edit-link']) {
    assert.equal(await page.locator(sel).isVisible(), false, sel + ' hidden in print');
  }
  assert.equal(await page.locator('#record-title').isVisible(), true);
  const pdf = join(work, 'case.pdf');
  await page.pdf({ path: pdf, format: 'A4' });
  await page.emulateMedia({ media: 'screen' });
  const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
  for (const want of ['Case of Ilmi Umerov', '1-23/2016', 'Supreme Court of Crimea', 'People by role',
    'Nikolai Polozov', 'Hearings', '2016-09-27', 'Events timeline', 'Search of his home']) {
    assert.ok(text.includes(want), 'the PDF has ' + want);
  }
  for (const not of ['Lock', 'Link to another record', 'Upload', 'Add evidence', 'Inclusion proof', 'Integrity', 'Search names']) {
    assert.ok(!text.includes(not), 'the PDF has no ' + not);
  }
});

test('every catalogue has every key; schema fields, roles, values and actions are translated', async () => {
  const cats = {};
  for (const l of LANGS) {
    cats[l] = await page.evaluate(async (c) => (await fetch('/i18n/' + c + '.json')).json(), l);
  }
  const all = new Set(LANGS.flatMap((l) => Object.keys(cats[l])));
  for (const l of LANGS) {
    const missing = [...all].filter((k) => !(k in cats[l]));
    assert.deepEqual(missing, [], l + ' misses keys');
    for (const [k, v] of Object.entries(cats[l])) assert.ok(typeof v === 'string' && v.trim() !== '', l + ' ' + k + ' empty');
  }
  const schema = await apiGet('schema');
  for (const [type, def] of Object.entries(schema.types)) {
    assert.ok('type.' + type in cats.en && 'types.' + type in cats.en, type);
    for (const f of def.fields) {
      if (f.custom) continue;
      assert.ok('field.' + f.name in cats.en, 'field.' + f.name);
      for (const v of f.values || []) assert.ok('value.' + v in cats.en, 'value.' + v);
    }
  }
  for (const r of schema.roles) assert.ok('role.' + r in cats.en, 'role.' + r);
  for (const a of ['create', 'update', 'delete', 'restore', 'link', 'unlink', 'evidence', 'custody',
    'merge', 'unmerge', 'schema', 'batch']) {
    assert.ok('action.' + a in cats.en, 'action.' + a);
  }
  /* Russian and Turkish are not English copies */
  assert.notEqual(cats.ru['record.history'], cats.en['record.history']);
  assert.notEqual(cats.tr['record.history'], cats.en['record.history']);
});

test('language switch: every page in every language, no raw catalogue key on screen', async () => {
  const { records } = await apiGet('list?type=person&w.name=' + encodeURIComponent('Ilmi Umerov'));
  const pages = ['', '?type=case', '?type=event', 'record.html?id=' + CASE, 'record.html?id=' + records[0].id,
    'data.html', 'edit.html?type=case', 'edit.html?id=' + CASE, 'integrity.html', '?deleted=1'];
  const cats = {};
  for (const l of LANGS) cats[l] = await page.evaluate(async (c) => (await fetch('/i18n/' + c + '.json')).json(), l);
  const keys = Object.keys(cats.en);
  for (const l of LANGS) {
    await page.goto(BASE);
    await page.waitForSelector('#lang');
    await Promise.all([page.waitForEvent('load'), page.selectOption('#lang', l)]);
    for (const p of pages) {
      await page.goto(BASE + p);
      await page.waitForSelector('main h1');
      await page.waitForLoadState('networkidle');
      assert.equal(await page.getAttribute('html', 'lang'), l);
      const text = await page.evaluate(() => document.body.innerText);
      const raw = keys.filter((k) => text.includes(k));
      assert.deepEqual(raw, [], l + ' ' + p + ' shows raw catalogue keys');
      assert.ok(text.includes(cats[l]['nav.records']), l + ' ' + p + ' is translated');
    }
  }
  await page.goto(BASE);
  await Promise.all([page.waitForEvent('load'), page.selectOption('#lang', 'en')]);
});

test('spreadsheets: export warns it is not encrypted; a bad row names its row and adds nothing', async () => {
  await page.goto(BASE + 'data.html?type=case');
  await page.waitForSelector('#export-warning');
  assert.match(await page.textContent('#export-warning'), /NOT encrypted/);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const csv = readFileSync(await dl.path(), 'utf8');
  assert.match(csv, /^"id","type","title"/);
  assert.ok(csv.includes('"Case of Ilmi Umerov"'));
  const before = (await apiGet('list?type=person')).records.length;
  await page.selectOption('#import-type', 'person');
  const bad = join(work, 'bad.csv');
  writeFileSync(bad, 'name,birth_date\nGood One,1990\nBad Date,12.05.1990\n');
  await page.setInputFiles('#import-file', bad);
  await page.click('#import-check');
  await page.waitForSelector('#import-msg.error');
  assert.match(await page.textContent('#import-msg'), /row 3, column 'birth_date'/);
  assert.equal(await page.locator('#import-go').isDisabled(), true);
  const good = join(work, 'good.csv');
  writeFileSync(good, 'name,name_variants,occupation\nАхтем Чийгоз,"Ahtem Çiygoz; Akhtem Chiygoz","Deputy ""chair"""\nNariman Celâl,,journalist\n');
  await page.setInputFiles('#import-file', good);
  await page.click('#import-check');
  await page.waitForSelector('#import-msg.ok');
  assert.equal((await apiGet('list?type=person')).records.length, before, 'a check adds nothing');
  await page.click('#import-go');
  await page.locator('#import-msg', { hasText: 'records added' }).waitFor();
  const after = (await apiGet('list?type=person')).records;
  assert.equal(after.length, before + 2);
  const ahtem = after.find((r) => r.title === 'Ахтем Чийгоз');
  assert.deepEqual(ahtem.fields.name_variants, ['Ahtem Çiygoz', 'Akhtem Chiygoz']);
  assert.equal(ahtem.fields.occupation, 'Deputy "chair"');
});

test('the add form: date inputs with "approximate", enums as a choice, a typo refused', async () => {
  await page.goto(BASE + 'edit.html?type=event');
  await page.waitForSelector('#f-title');
  assert.equal(await page.getAttribute('#f-date', 'type'), 'date');
  assert.deepEqual(await page.locator('#f-date_precision option').evaluateAll((o) => o.map((x) => x.value)),
    ['', 'exact', 'approximate', 'unknown']);
  await page.fill('#f-title', 'Detention at the border');
  await page.fill('#f-date', '2016-03-01');
  await page.check('#f-date-approx');
  await page.selectOption('#f-date_precision', 'approximate');
  await Promise.all([page.waitForURL(/record\.html/), page.click('#save')]);
  await page.waitForSelector('#record-title');
  const id = new URL(page.url()).searchParams.get('id');
  const rec = await apiGet('records/' + id);
  assert.equal(rec.fields.date, '2016-03-01~');
  assert.equal(rec.fields.date_precision, 'approximate');
  /* a case needs a title: the server says so in the form */
  await page.goto(BASE + 'edit.html?type=case');
  await page.fill('#f-case_number', '1-1/2020');
  await page.click('#save');
  await page.waitForSelector('#form-msg:not(:empty)');
  assert.match(await page.textContent('#form-msg'), /a case needs a title/);
});

test('`defter ui --open` prints a fresh link to the running UI', async () => {
  const url = execFileSync(process.env.DEFTER_BIN, ['--vault', process.env.DEFTER_VAULT2, 'ui', '--open'],
    { encoding: 'utf8' }).trim();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?t=[0-9a-f]{64}$/);
  assert.notEqual(url, URL0);
  const c = await newContext('en-US');
  const p = await c.newPage();
  watch(p);
  await p.goto(url);
  assert.equal(p.url(), BASE);
  await p.waitForSelector('main h1');
  assert.equal(await p.textContent('main h1'), 'Records');
  await c.close();
});

test('no page error or CSP violation', () => {
  assert.deepEqual(problems, []);
});
