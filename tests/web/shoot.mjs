/* shoot.mjs URL OUTDIR - screenshots of the list, person and case pages (for the README). */
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
    await page.screenshot({ path: join(out, name + '.png'), fullPage: true });
  }
  if (errors.length) console.error('console errors:', errors.join('\n'));
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
