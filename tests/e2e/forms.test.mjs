// Forms a supervisor loads from a file or an address: a broken one is refused with its diagnostics
// and never installed; markup in labels stays text; a huge file is refused before it is read; an
// address that gives no form (missing, offline, a Wi-Fi login page) is said plainly.

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

test('a form address that gives no form is said plainly, in the interface language', async (t) => {
  // The service worker would fetch past the routes below.
  const app = await launch({ serviceWorkers: 'block' });
  t.after(() => app.close());
  const { page } = app;
  // A missing file, no network, and a captive portal's page (a village Wi-Fi asking to log in).
  await page.route('**/missing.form.json', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.route('**/offline.form.json', (route) => route.abort('internetdisconnected'));
  await page.route('**/portal.form.json', (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><html><body>请先登录 Wi-Fi</body></html>' }),
  );
  await open(app);
  await page.waitForSelector('[data-form-id]');
  const before = await page.locator('[data-form-id]').count();
  const load = async (file, expected) => {
    await page.fill('#form-url', app.url(`forms/${file}`));
    await page.locator('#form-url').press('Enter');
    await page.locator('.notice.error .diag', { hasText: expected }).first().waitFor({ timeout: 10_000 });
  };
  await load('missing.form.json', /服务器返回 404.*请检查地址/);
  await screenshot(page, 'form-url-missing');
  await load('offline.form.json', /无法从这个地址下载：手机没有联网，或者地址不对/);
  await load('portal.form.json', /给出的是一个网页.*登录 Wi-Fi/);
  await screenshot(page, 'form-url-portal');
  assert.equal(await page.locator('[data-form-id]').count(), before, 'nothing was installed');
  assert.deepEqual(app.errors.filter((e) => !/404|ERR_INTERNET_DISCONNECTED|Failed to fetch/.test(e)), []);
});
