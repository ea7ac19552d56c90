/*
 * shoot.mjs URL OUTDIR - screenshots for the README: the record list, a person page, a case
 * page after uploading a demo scan (its SHA-256 in the evidence list, shown in the viewer), the
 * integrity page and the Safety page. It uploads into the vault it is pointed at: use a
 * throwaway demo vault.
 */
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, out = '.'] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'defter-shot-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1200, height: 900 },
});

/* A stand-in "scanned document" drawn on a canvas (the demo data has no files). */
async function demoScan(page) {
  const dataUrl = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 640;
    c.height = 360;
    const g = c.getContext('2d');
    g.fillStyle = '#f4f1e8';
    g.fillRect(0, 0, 640, 360);
    g.fillStyle = '#333';
    g.font = 'bold 28px sans-serif';
    g.fillText('Demo scan — not real evidence', 40, 70);
    g.font = '20px sans-serif';
    for (let i = 0; i < 8; i++) g.fillRect(40, 110 + i * 28, 380 + ((i * 97) % 160), 10);
    g.strokeStyle = '#7a1c1c';
    g.lineWidth = 4;
    g.strokeRect(470, 230, 130, 90);
    return c.toDataURL('image/png');
  });
  return Buffer.from(dataUrl.split(',')[1], 'base64');
}

try {
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  await page.waitForSelector('a.record-link');
  await page.screenshot({ path: join(out, 'list.png'), fullPage: true });
  const shots = [['person', process.env.PERSON || 'Nikolai Polozov'], ['case', process.env.CASE || 'Case of Ilmi Umerov']];
  for (const [name, title] of shots) {
    await page.goto(new URL('/', url).href);
    await page.getByRole('link', { name: title, exact: true }).click();
    await page.waitForSelector('#record-title');
    await page.waitForSelector('section.history');
    if (name === 'case') {
      await page.setInputFiles('#evidence-file', { name: 'search-protocol-scan.png', mimeType: 'image/png', buffer: await demoScan(page) });
      await page.click('#evidence-upload');
      await page.waitForSelector('#upload-sha256');
      await page.click('tr.evidence-row:has-text("search-protocol-scan.png") button.view');
      await page.waitForFunction(() => document.querySelector('#evidence-viewer img')?.naturalWidth > 0);
    }
    await page.screenshot({ path: join(out, name + '.png'), fullPage: true });
  }
  await page.goto(new URL('/integrity.html', url).href);
  await page.waitForSelector('#checkpoint');
  await page.click('#verify');
  await page.waitForSelector('#verify-result.ok');
  await page.screenshot({ path: join(out, 'integrity.png'), fullPage: false });
  await page.goto(new URL('/safety.html', url).href);
  await page.waitForSelector('#duress-form');
  await page.screenshot({ path: join(out, 'safety.png'), fullPage: false });
  if (errors.length) console.error('console errors:', errors.join('\n'));
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
