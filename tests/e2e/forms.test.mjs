// Forms a supervisor loads from a file: a broken one is refused with its diagnostics and never
// installed; markup in labels stays text; a huge file is refused before it is read.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { open, start } from './app.mjs';

const hostile = {
  format: 'doorstep-form/1',
  id: 'hostile',
  version: '1',
  title: '<img src=x onerror="window.__pwned=1">恶意表单',
  languages: ['zh-CN'],
  items: [
    { type: 'text', name: 'q', label: '<script>window.__pwned=1</script>**粗体** *斜体*' },
    { type: 'repeat', name: 'r', label: '很多', count: '10000', max: 10000, items: [{ type: 'text', name: 'x', label: 'x' }] },
  ],
};

async function loadFile(page, name, text) {
  await page.locator('#form-file').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
}

test('a broken form is refused with its diagnostics; markup in labels stays text', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await open(app);
  await page.waitForSelector('[data-form-id]');
  const before = await page.locator('[data-form-id]').count();

  await loadFile(page, 'broken.form.json', '{"format": "doorstep-form/1", "id": ');
  await page.waitForSelector('.notice.error .diag');
  assert.match(await page.locator('.notice.error .diag').first().textContent(), /json/i);
  await screenshot(page, 'form-refused');
  assert.equal(await page.locator('[data-form-id]').count(), before, 'nothing was installed');

  await loadFile(page, 'huge.form.json', ' '.repeat(11 * 1024 * 1024));
  await page.waitForSelector('.notice.error .diag:has-text("MB")');

  await loadFile(page, 'hostile.form.json', JSON.stringify(hostile));
  await page.waitForSelector('[data-form-id="hostile"]', { timeout: 10_000 });
  await start(page, 'hostile');
  await page.waitForSelector('[data-name="q"]');
  const label = await page.locator('[data-name="q"] .q-label').textContent();
  assert.match(label, /<script>/, 'the script tag is shown as text');
  assert.equal(await page.locator('[data-name="q"] strong').textContent(), '粗体');
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no markup ran');
  await page.click('[data-testid=next]').catch(() => {});
  await screenshot(page, 'hostile-form');
  assert.deepEqual(app.errors, []);
});
