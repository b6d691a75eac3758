// What a surveyor types into number fields: grouped thousands ("12,000" yuan is 12000, not 12), a
// roster's count edited key by key (passing through "" and smaller numbers must not remove the
// members already filled in: a count that would is answered only when the field is left, and the
// field says who goes), and text that is not a number (no older answer is kept behind it, and it
// stays on screen with its message over a change of language).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { ONE_PAGE, answer, open, openForm, saved, start, storedSubmissions, valueOf } from './app.mjs';

const stored = async (page) => (await storedSubmissions(page))[0].envelope.data;

/** Opens plot `i` of the count-driven roster, types `mu` into its area and goes back to the list. */
async function plotArea(page, i, mu) {
  await page.locator('[data-repeat="plots"] li .who').nth(i).click();
  await page.waitForSelector('[data-testid=back-to-list]');
  await answer(page, 'plot_mu', mu);
  await page.click('[data-testid=back-to-list]');
  await page.waitForSelector('[data-repeat="plots"]:visible');
}

test('grouped thousands are read as thousands, a lone comma as a decimal point', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await openForm(app, ONE_PAGE);
  await answer(page, 'n', '１,０００');
  await page.waitForSelector('[data-repeat="plots"][data-count="5"]');
  await saved(page);
  assert.equal((await stored(page)).n, 1000, 'full-width digits with a grouping comma');
  await answer(page, 'n', 2);
  await page.waitForSelector('[data-repeat="plots"][data-count="2"]');
  await plotArea(page, 0, '12,000');
  await plotArea(page, 1, '0,75');
  await saved(page);
  assert.deepEqual((await stored(page)).plots, [{ plot_mu: 12000 }, { plot_mu: 0.75 }]);
  assert.deepEqual(app.errors, []);
});

for (const lang of ['zh', 'en']) {
  test(`a count typed key by key removes no member until the field is left, and says who goes (${lang})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await openForm(app, ONE_PAGE, lang);
    await answer(page, 'n', 3);
    await page.waitForSelector('[data-repeat="plots"][data-count="3"]');
    for (let i = 0; i < 3; i++) await plotArea(page, i, `${i + 1}.5`);
    await saved(page);

    // 3 -> 4 passes through "": the three plots filled in stay.
    const count = page.locator('[data-name="n"] input');
    await count.click();
    await count.press('End');
    await count.press('Backspace');
    assert.equal(await page.locator('[data-repeat="plots"]').getAttribute('data-count'), '3', 'nothing removed while typing');
    await count.pressSequentially('4');
    await page.waitForSelector('[data-repeat="plots"][data-count="4"]');
    await saved(page);
    assert.deepEqual((await stored(page)).plots, [{ plot_mu: 1.5 }, { plot_mu: 2.5 }, { plot_mu: 3.5 }, {}]);

    // 4 -> 2: the field says that the third plot (the fourth has no answers) goes when it is left.
    await count.press('Backspace');
    await count.pressSequentially('2');
    const message = page.locator('[data-name="n"] .q-error');
    const want = {
      zh: '离开这一题后，将删除地块 3及其所有回答。',
      en: 'When you leave this field, Plots 3 will be removed with their answers.',
    }[lang];
    await page.waitForFunction(
      (want) => document.querySelector('[data-name="n"] .q-error')?.textContent === want,
      want,
    );
    assert.equal(await message.textContent(), want);
    await screenshot(page, `count-held-${lang}`, { fullPage: false });
    await saved(page);
    assert.equal((await stored(page)).plots.length, 4, 'held: nothing removed yet');

    // Leaving the field answers it.
    await count.press('Tab');
    await page.waitForSelector('[data-repeat="plots"][data-count="2"]');
    assert.equal(await message.textContent(), '', 'the message goes');
    await saved(page);
    const data = await stored(page);
    assert.equal(data.n, 2);
    assert.deepEqual(data.plots, [{ plot_mu: 1.5 }, { plot_mu: 2.5 }]);
    assert.deepEqual(app.errors, []);
  });
}

test('text that is not a number keeps no older answer and stays on screen over a change of language', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await openForm(app, ONE_PAGE);
  await answer(page, 'n', 1);
  await page.waitForSelector('[data-repeat="plots"][data-count="1"]');
  await page.locator('[data-repeat="plots"] li .who').first().click();
  await answer(page, 'plot_mu', '2.5');
  await saved(page);
  assert.deepEqual((await stored(page)).plots, [{ plot_mu: 2.5 }]);

  // "2.5" becomes "2.5亩": the screen says it is not a number, and 2.5 is not kept as the answer.
  await answer(page, 'plot_mu', '2.5亩');
  const message = page.locator('[data-name="plot_mu"] .q-error');
  await page.waitForFunction(() => document.querySelector('[data-name="plot_mu"] .q-error')?.textContent === '请输入数字。');
  await saved(page);
  assert.deepEqual((await stored(page)).plots, [{}], 'what the screen shows is not an answer');

  // Another language: the same page and member, the text and its message (in English) stay.
  await page.click('[data-testid=switch-language]');
  await page.waitForSelector('[data-testid=back-to-list]');
  await page.waitForFunction(() => document.querySelector('[data-name="plot_mu"] .q-error')?.textContent === 'Enter a number.');
  assert.equal(await valueOf(page, 'plot_mu'), '2.5亩');
  assert.equal(await message.textContent(), 'Enter a number.');
  assert.match(await page.locator('.page-title').textContent(), /Plots 1/);
  await answer(page, 'plot_mu', '2.5');
  await saved(page);
  assert.deepEqual((await stored(page)).plots, [{ plot_mu: 2.5 }]);
  assert.equal(await message.textContent(), '');
  assert.deepEqual(app.errors, []);
});

// A year of six digits can be typed into a date field (the browser's field allows up to 275760):
// the surveyor was shown the engine's words in English and the older date stayed the answer.
test('a date the form cannot hold says so plainly and keeps no older date', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await open(app);
  await start(page, 'emergency_aid');
  await answer(page, 'event_date', '2026-11-20');
  await saved(page);
  assert.equal((await stored(page)).event_date, '2026-11-20');
  await answer(page, 'event_date', '202611-11-20');
  const message = page.locator('[data-name="event_date"] .q-error');
  await page.waitForFunction(() => document.querySelector('[data-name="event_date"] .q-error')?.textContent === '这个日期不对，请重新选择。');
  await saved(page);
  assert.equal((await stored(page)).event_date, undefined);
  await page.click('[data-testid=switch-language]');
  await page.waitForFunction(() => document.querySelector('[data-name="event_date"] .q-error')?.textContent === 'This date is not valid; choose it again.');
  assert.equal(await message.count(), 1);
  assert.deepEqual(app.errors, []);
});
