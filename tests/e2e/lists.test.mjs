// The lists of drafts and finalized interviews: deleting a finalized interview that was never
// exported is said to lose it for the office (it is on this phone only), and a phone with many
// interviews lists and searches them all.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { answer, install, next, open, saved, start, storedSubmissions } from './app.mjs';

const FORM = {
  format: 'doorstep-form/1',
  id: 'short_visit',
  version: '1',
  title: { 'zh-CN': '简短走访', en: 'Short visit' },
  languages: ['zh-CN', 'en'],
  instance_name: '${head_name}',
  items: [{ type: 'text', name: 'head_name', label: { 'zh-CN': '户主姓名', en: 'Head of household' }, required: true }],
};

const tab = (page, n) => page.click(`.tabs button:nth-child(${n})`);

async function finalized(page, name) {
  await tab(page, 1);
  await start(page, FORM.id);
  await answer(page, 'head_name', name);
  await saved(page);
  await next(page);
  await page.click('[data-testid=finalize]');
  await page.waitForSelector('.list li[data-instance]');
}

/** Asks to delete the finalized interview `name`; returns the question asked (then answers no). */
async function askDelete(page, name) {
  await tab(page, 3);
  await page.locator('.list li', { hasText: name }).locator('button.danger').click();
  const text = await page.locator('#confirm-text').textContent();
  await page.click('[data-answer=no]');
  return text;
}

test('deleting a finalized interview never exported says the office will not get it', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await open(app);
  await install(page, FORM);
  await finalized(page, '王建国');
  await finalized(page, '李秀英');

  // Only 王建国 is exported.
  await tab(page, 4);
  await page.waitForFunction(() => document.querySelectorAll('.list input[type=checkbox]:checked').length === 2);
  await page.locator('.list li', { hasText: '李秀英' }).locator('input[type=checkbox]').uncheck();
  await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export]')]);
  await page.waitForSelector('[data-testid=export-done]');

  assert.equal(await askDelete(page, '王建国'), '确定删除“王建国”吗？删除后无法恢复。');
  const unsent = await askDelete(page, '李秀英');
  assert.equal(unsent, '“李秀英”还没有导出，只存在这部手机上：删除后办公室将收不到它，也无法恢复。确定删除吗？');
  await page.locator('.list li', { hasText: '李秀英' }).locator('button.danger').click();
  await screenshot(page, 'delete-unsent', { fullPage: false });
  await page.click('[data-answer=no]');
  assert.equal((await storedSubmissions(page)).length, 2, 'nothing was deleted');
  assert.deepEqual(app.errors, []);
});
