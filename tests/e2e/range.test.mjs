// A range question with no answer: its slider rests at the start, which is no answer, so the value
// beside it says "not answered" (not the start value, not a dash), and a tap on the slider at the
// start answers the start value (dragging there fires no change), as a drag elsewhere answers that.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { nextFrame, openForm, saved, storedSubmissions } from './app.mjs';

const FORM = {
  format: 'doorstep-form/1',
  id: 'range_answer',
  version: '2026112301',
  title: { 'zh-CN': '满意度', en: 'Satisfaction' },
  languages: ['zh-CN', 'en'],
  settings: { navigation: 'scroll' },
  items: [
    { type: 'text', name: 'who', label: { 'zh-CN': '姓名', en: 'Name' } },
    {
      type: 'range',
      name: 'score',
      label: { 'zh-CN': '满意程度（0–10）', en: 'How satisfied (0–10)' },
      parameters: { start: 0, end: 10, step: 1 },
    },
  ],
};
const BOX = '[data-name="score"]';

async function storedScore(page) {
  await saved(page, 10_000);
  const [record] = await storedSubmissions(page);
  return record.envelope.data.score;
}

for (const lang of ['zh', 'en']) {
  test(`an unanswered range says so, and a tap at its start answers the start value (${lang})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await openForm(app, FORM, lang);
    const slider = page.locator(`${BOX} input[type=range]`);
    await slider.waitFor();
    const output = page.locator(`${BOX} output`);
    const none = lang === 'zh' ? '未选择' : 'Not answered';
    assert.equal((await output.textContent()).trim(), none, 'unanswered is shown as such');
    assert.equal(await slider.getAttribute('aria-valuetext'), none, 'and read out as such');
    await nextFrame(page);
    await slider.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await screenshot(page, `range-unanswered-${lang}`, { fullPage: false });

    // A tap on the thumb at the start: the start value is the answer now.
    const b = await slider.boundingBox();
    await page.mouse.click(b.x + 4, b.y + b.height / 2);
    await page.waitForFunction((box) => document.querySelector(`${box} output`)?.textContent.trim() === '0', BOX, { timeout: 5_000 });
    assert.equal(await slider.getAttribute('aria-valuetext'), null);
    assert.equal(await storedScore(page), 0, 'the start value is stored');
    await screenshot(page, `range-answered-${lang}`, { fullPage: false });

    // Moved on, it answers as before.
    await slider.focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((box) => document.querySelector(`${box} output`)?.textContent.trim() === '1', BOX);
    assert.equal(await storedScore(page), 1);
    assert.deepEqual(app.errors, []);
  });
}
