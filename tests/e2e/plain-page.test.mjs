// The plain first page of a link that opens one form (`#/bench?form=<id>`, docs/bench-web-protocol.md):
// index.html draws the form's first page as plain HTML while the WebAssembly loads, and what is typed
// or chosen there becomes the interview's answers when the app takes over: every ticked box, the chosen
// option, the typed text, with the focus kept in the field being typed in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { saved, storedSubmissions } from './app.mjs';

const FORM = {
  format: 'doorstep-form/1',
  id: 'plain_first',
  version: '2026112401',
  title: { 'zh-CN': '困难情况', en: 'Hardship' },
  languages: ['zh-CN', 'en'],
  settings: { navigation: 'pages' },
  choices: {
    needs: [
      { value: 'food', label: { 'zh-CN': '食物', en: 'Food' } },
      { value: 'medical', label: { 'zh-CN': '医疗', en: 'Medical care' } },
      { value: 'housing', label: { 'zh-CN': '住房', en: 'Housing' } },
    ],
    yn: [
      { value: 'yes', label: { 'zh-CN': '是', en: 'Yes' } },
      { value: 'no', label: { 'zh-CN': '否', en: 'No' } },
    ],
  },
  items: [
    {
      type: 'group',
      name: 'first',
      label: { 'zh-CN': '基本情况', en: 'Basics' },
      items: [
        { type: 'select_multiple', name: 'needs', choices: 'needs', label: { 'zh-CN': '需要哪些帮助？', en: 'Help needed' } },
        { type: 'select_one', name: 'alone', choices: 'yn', label: { 'zh-CN': '独居吗？', en: 'Lives alone?' } },
        { type: 'text', name: 'head', label: { 'zh-CN': '户主姓名', en: 'Head of household' } },
      ],
    },
    {
      type: 'group',
      name: 'second',
      label: { 'zh-CN': '其他', en: 'Other' },
      items: [{ type: 'text', name: 'remarks', label: { 'zh-CN': '备注', en: 'Remarks' } }],
    },
  ],
};

test('what is typed and ticked on the plain first page becomes the answers when the app takes over', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page, context } = app;
  await context.route('**/forms/plain_first.form.json', (route) =>
    route.fulfill({ contentType: 'application/json', body: JSON.stringify(FORM) }));
  // The WebAssembly waits until the plain page has been filled in.
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  await context.route('**/doorstep_web_bg.wasm', async (route) => {
    await released;
    await route.continue();
  });

  await page.goto(app.url('#/bench?form=plain_first'));
  const plain = page.locator('#prerender');
  await plain.locator('[data-question="head"] input').waitFor({ timeout: 10_000 });
  await plain.locator('input[value="food"]').check();
  await plain.locator('input[value="housing"]').check();
  await plain.locator('input[name="pre-alone"][value="yes"]').check();
  await plain.locator('[data-question="head"] input').fill('刘志');
  await screenshot(page, 'plain-page-before-takeover', { fullPage: false });
  release();

  await page.locator('#prerender').waitFor({ state: 'detached', timeout: 30_000 });
  const ticked = page.locator('#app [data-name="needs"] input[type=checkbox]');
  await page.waitForFunction(() => document.querySelectorAll('#app [data-name="needs"] input:checked').length === 2,
    null, { timeout: 5_000 }).catch(() => {});
  assert.deepEqual(await ticked.evaluateAll((boxes) => boxes.filter((b) => b.checked).map((b) => b.value)), ['food', 'housing'],
    'both ticked boxes are ticked in the app');
  assert.equal(await page.locator('#app [data-name="alone"] input:checked').getAttribute('value'), 'yes');
  const head = page.locator('#app [data-name="head"] input');
  assert.equal(await head.inputValue(), '刘志');
  // The app's field may take the focus a frame later (it is laid out only then).
  const focused = await page.waitForFunction(() => document.activeElement?.closest('[data-name="head"]') !== null,
    null, { timeout: 2_000 }).then(() => true, () => false);
  assert.ok(focused, `the focus stays in the field typed in (it is on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 80))})`);
  // Typing goes on where it stopped.
  await page.keyboard.type('强');
  await saved(page, 10_000);
  await page.waitForFunction(() => document.querySelector('[data-save-state]')?.dataset.saveState === 'saved');
  const [record] = await storedSubmissions(page);
  const data = record.envelope.data;
  assert.deepEqual(data.needs, ['food', 'housing'], 'both needs are stored, in list order');
  assert.equal(data.alone, 'yes');
  assert.equal(data.head, '刘志强');
  await screenshot(page, 'plain-page-after-takeover', { fullPage: false });
  assert.deepEqual(app.errors, []);
});
