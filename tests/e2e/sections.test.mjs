// Sections and computed values: an interview opens on the first section that applies to the
// household (never on a blank page), and a computed amount shows as a person would write it, in a
// note and in a read-only question alike (not 3.3000000000000003, not 98900.0); a scrolling form's
// contents name the form.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { answer, next, nextFrame, openForm, saved } from './app.mjs';

const YN = [
  { value: 'new', label: { 'zh-CN': '首次走访', en: 'First visit' } },
  { value: 'again', label: { 'zh-CN': '回访', en: 'Visit again' } },
];

/** A form whose first section is for returning households only. */
const RETURNING_FIRST = (navigation) => ({
  format: 'doorstep-form/1',
  id: `returning_first_${navigation}`,
  version: '2026112301',
  title: { 'zh-CN': '回访核对', en: 'Return visit' },
  languages: ['zh-CN', 'en'],
  settings: { navigation },
  choices: { kind: YN },
  items: [
    {
      type: 'group',
      name: 'g_check',
      label: { 'zh-CN': '核对上次记录', en: 'Check the last visit' },
      relevant: "${kind} = 'again'",
      items: [{ type: 'text', name: 'last_note', label: { 'zh-CN': '上次记录', en: 'Last visit' } }],
    },
    {
      type: 'group',
      name: 'g_visit',
      label: { 'zh-CN': '本次走访', en: 'This visit' },
      items: [
        { type: 'select_one', name: 'kind', label: { 'zh-CN': '走访类型', en: 'Kind of visit' }, choices: 'kind' },
        { type: 'decimal', name: 'cash', label: { 'zh-CN': '现金（元）', en: 'Cash (yuan)' } },
        { type: 'decimal', name: 'goods', label: { 'zh-CN': '物资折合（元）', en: 'Goods (yuan)' } },
        { type: 'calculate', name: 'total', calculation: '${cash} + ${goods}', data_type: 'decimal' },
        { type: 'note', name: 'total_note', label: { 'zh-CN': '合计 **${total} 元**', en: 'In all **${total} yuan**' } },
        {
          type: 'decimal',
          name: 'total_shown',
          label: { 'zh-CN': '合计（元）', en: 'Total (yuan)' },
          read_only: true,
          calculation: '${cash} + ${goods}',
        },
      ],
    },
  ],
});

for (const navigation of ['pages', 'question']) {
  test(`an interview opens on the first section that applies (${navigation})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await openForm(app, RETURNING_FIRST(navigation));
    await nextFrame(page);
    await screenshot(page, `sections-first-applies-${navigation}`);
    // Not the blank first section: the first question is there, and nothing comes before it.
    await page.waitForSelector('[data-name="kind"]', { timeout: 5_000 });
    assert.match(await page.locator('.pageinfo').first().textContent(), /^2 \//);
    assert.equal(await page.locator('.navbar button').first().isDisabled(), true, 'nothing applies before it');
    assert.deepEqual(app.errors, []);
  });
}

for (const lang of ['zh', 'en']) {
  test(`one question per screen shows the section the question is in, above it (${lang})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await openForm(app, RETURNING_FIRST('question'), lang);
    await page.waitForSelector('[data-name="kind"]', { timeout: 5_000 });
    const section = page.locator('#fill [data-testid=section]:visible');
    const name = lang === 'zh' ? '本次走访' : 'This visit';
    assert.equal((await section.textContent()).trim(), name);
    // Above the question, not below it.
    const [s, q] = [await section.boundingBox(), await page.locator('[data-name="kind"]').boundingBox()];
    assert.ok(s.y + s.height <= q.y, 'the section is above the question');
    await nextFrame(page);
    await screenshot(page, `sections-question-section-${lang}`, { fullPage: false });
    await answer(page, 'kind', 'new');
    await next(page);
    await page.waitForSelector('[data-name="cash"]');
    assert.equal((await section.textContent()).trim(), name, 'the next question in it says the same');
    assert.deepEqual(app.errors, []);
  });
}

test('a computed amount shows as a person writes it, in a note and a read-only question', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await openForm(app, RETURNING_FIRST('pages'));
  await answer(page, 'kind', 'new');
  await answer(page, 'cash', '1.1');
  await answer(page, 'goods', '2.2');
  await saved(page);
  await screenshot(page, 'sections-computed-amount');
  assert.equal(await page.locator('[data-name="total_note"]').textContent(), '合计 3.3 元');
  assert.equal(await page.locator('[data-name="total_shown"] .calc').textContent(), '3.3');
  await answer(page, 'goods', '98898.9');
  await page.waitForFunction(() => document.querySelector('[data-name="total_shown"] .calc')?.textContent === '98900');
  assert.equal(await page.locator('[data-name="total_note"]').textContent(), '合计 98900 元');
  assert.deepEqual(app.errors, []);
});

test("a scrolling form's contents name the form, not its first section", async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await openForm(app, {
    format: 'doorstep-form/1',
    id: 'scrolling_sections',
    version: '2026112301',
    title: { 'zh-CN': '走访记录', en: 'Visit record' },
    languages: ['zh-CN', 'en'],
    settings: { navigation: 'scroll' },
    items: [
      { type: 'group', name: 'g1', label: { 'zh-CN': '第一部分', en: 'Part one' }, items: [{ type: 'text', name: 'a', label: 'A' }] },
      { type: 'group', name: 'g2', label: { 'zh-CN': '第二部分', en: 'Part two' }, items: [{ type: 'text', name: 'b', label: 'B', required: true }] },
    ],
  });
  await page.click('[data-testid=contents]');
  const rows = page.locator('.toc li button');
  assert.equal(await rows.count(), 1);
  // It said "1. 第一部分 未完成" though what is missing is in the second part.
  assert.match(await rows.first().textContent(), /^1\. 走访记录/);
  await screenshot(page, 'sections-scroll-contents');
  assert.deepEqual(app.errors, []);
});
