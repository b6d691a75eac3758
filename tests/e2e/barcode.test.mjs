// Barcode questions: scanned with the camera where the browser has `BarcodeDetector`, typed otherwise.
// Desktop Chromium on Linux has no `BarcodeDetector`, so the scanning test gives the page one that
// reads a code chosen by the test (the camera photo is a real PNG decoded by `createImageBitmap`).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { open, saved, start, storedSubmissions } from './app.mjs';

const form = {
  format: 'doorstep-form/1',
  id: 'scan_test',
  version: '1',
  title: { 'zh-CN': '扫码测试', en: 'Scan test' },
  languages: ['zh-CN', 'en'],
  items: [
    { type: 'barcode', name: 'card', label: { 'zh-CN': '救助卡编号', en: 'Aid card number' } },
    { type: 'text', name: 'note', label: { 'zh-CN': '备注', en: 'Note' } },
  ],
};

// A 1 x 1 PNG: what the camera "took".
const PHOTO = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

async function loadForm(page) {
  await page.waitForSelector('[data-form-id]');
  await page.locator('#form-file').setInputFiles({
    name: 'scan.form.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(form)),
  });
  await page.waitForSelector('[data-form-id="scan_test"]', { timeout: 10_000 });
  await start(page, 'scan_test');
  await page.waitForSelector('[data-name="card"] input[type=text]');
}

test('a barcode is scanned into its question, and a photo without one says so', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page, context } = app;
  await context.addInitScript(() => {
    window.__codes = [{ rawValue: '  6901234567892 ', format: 'ean_13' }];
    window.BarcodeDetector = class {
      static async getSupportedFormats() { return ['ean_13', 'qr_code']; }
      async detect(image) {
        if (!(image instanceof ImageBitmap)) throw new TypeError('expected an ImageBitmap');
        return window.__codes;
      }
    };
  });
  await open(app);
  await loadForm(page);
  const scan = page.locator('[data-name="card"] .scan input[type=file]');
  assert.equal(await scan.count(), 1, 'the scan button is offered');
  assert.equal(await scan.getAttribute('capture'), 'environment', 'it opens the back camera');
  await screenshot(page, 'barcode-question', { fullPage: false });

  await scan.setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: PHOTO });
  await page.waitForFunction(() => document.querySelector('[data-name="card"] input[type=text]').value === '6901234567892');
  await saved(page);
  const drafts = await storedSubmissions(page);
  assert.ok(
    JSON.stringify(drafts).includes('"card":"6901234567892"'),
    'the scanned code is the stored answer',
  );

  // A photo with no code: the answer stays, the surveyor is told.
  await page.evaluate(() => { window.__codes = []; });
  await scan.setInputFiles({ name: 'photo2.png', mimeType: 'image/png', buffer: PHOTO });
  await page.waitForSelector('[data-name="card"] .scan [role=alert]');
  assert.match(await page.locator('[data-name="card"] .scan [role=alert]').textContent(), /没有找到条码/);
  assert.equal(await page.locator('[data-name="card"] input[type=text]').inputValue(), '6901234567892');
  await screenshot(page, 'barcode-nothing-found', { fullPage: false });
  assert.deepEqual(app.errors, []);
});

test('without BarcodeDetector the code is typed and no scan button is shown', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page, context } = app;
  await context.addInitScript(() => { delete window.BarcodeDetector; });
  await open(app);
  await loadForm(page);
  assert.equal(await page.locator('[data-name="card"] .scan').count(), 0);
  await page.locator('[data-name="card"] input[type=text]').fill('A-1024');
  await saved(page);
  assert.ok(JSON.stringify(await storedSubmissions(page)).includes('"card":"A-1024"'));
  assert.deepEqual(app.errors, []);
});
