// Moving through a form: sections that do not apply are passed over (a household that refuses
// consent is not walked through eight empty pages), the contents says they do not apply instead of
// calling them done (Escape closes it), and the review opens at its top.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { ONE_PAGE, answer, nextFrame, open, openForm, saved, start } from './app.mjs';

for (const [lang, notApplicable] of [['zh', '不适用'], ['en', 'does not apply']]) {
  test(`sections that do not apply are skipped and marked (${lang})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await open(app);
    if (lang === 'en') await page.click('[data-testid=switch-language]');
    await start(page, 'household_needs');
    await page.click('[data-testid=next]');
    const nextLabel = () => page.locator('[data-testid=next]').textContent();
    const review = lang === 'zh' ? '检查' : 'Review';
    await answer(page, 'consent', 'yes');
    await page.waitForFunction((r) => document.querySelector('[data-testid=next]').textContent !== r, review);
    await answer(page, 'consent', 'no');
    await saved(page);
    // At once, on the same page: nothing after it applies, so "next" is the review.
    assert.equal(await nextLabel(), review);
    await page.click('[data-testid=contents]');
    const rows = page.locator('.toc li button');
    assert.equal(await rows.count(), 10);
    await screenshot(page, `toc-not-applicable-${lang}`);
    const skipped = page.locator('.toc li button:disabled', { hasText: notApplicable });
    assert.equal(await skipped.count(), 8, 'the eight sections after a refused consent');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.dialog', { state: 'detached' });

    // Scrolled down on the consent page, "next" goes straight to the review, which opens at its top.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.click('[data-testid=next]');
    await page.waitForSelector('[data-testid=finalize]');
    assert.equal(await page.evaluate(() => window.scrollY), 0, 'the review starts at its top');
    // Back returns to the last page that applies, not to an empty one.
    await page.click('.navbar .btn:not(.primary)');
    await page.waitForSelector('[data-name="consent"]');
    assert.match(await page.locator('.pageinfo').first().textContent(), /^2 \/ 10$/);

    // With consent, the next page is the one after it again.
    await answer(page, 'consent', 'yes');
    await saved(page);
    await page.click('[data-testid=next]');
    await page.waitForSelector('[data-name="head_id"]');
    assert.match(await page.locator('.pageinfo').first().textContent(), /^3 \/ 10$/);
  });
}

test("the phone's back button steps back inside the app instead of leaving it", async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await open(app);
  await start(page, 'household_needs');
  await answer(page, 'head_name', '王五');
  await page.click('[data-testid=next]');
  await answer(page, 'consent', 'yes');
  await saved(page);
  const url = page.url();

  // With the contents open, back closes them and nothing else.
  await page.click('[data-testid=contents]');
  await page.waitForSelector('.dialog');
  await page.goBack();
  await page.waitForSelector('.dialog', { state: 'detached' });
  assert.equal(await page.locator('[data-name="consent"]').count(), 1, 'still on the same page');

  // From the review, back is the form.
  await page.click('[data-testid=contents]');
  await page.locator('.dialog .btn.primary').click();
  await page.waitForSelector('[data-testid=finalize]');
  await page.goBack();
  await page.waitForSelector('[data-name="consent"]');
  assert.equal(page.url(), url, 'still in the app');

  // From a member's page, back is the roster.
  await page.click('[data-testid=contents]');
  await page.locator('.toc li button', { hasText: '家庭成员' }).click();
  await page.click('[data-testid=add-member]');
  await page.waitForSelector('[data-testid=back-to-list]');
  await page.goBack();
  await page.waitForSelector('[data-testid=add-member]');
  assert.equal(await page.locator('[data-testid=back-to-list]').count(), 0);

  // From the form, back is the list of drafts, with the interview in it.
  await page.goBack();
  await page.waitForSelector('.list li[data-instance]');
  assert.match(await page.locator('.list li[data-instance] .name').first().textContent(), /王五/);
  assert.equal(page.url(), url, 'still in the app');
});

// Leaving an interview by a button (home, finalize) leaves no history entry of the interview
// behind: the lists take back as leaving the app, at the first press (it used to do nothing once).
for (const how of ['home', 'finalize']) {
  test(`after leaving an interview by ${how}, back leaves the app at once`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await openForm(app, ONE_PAGE);
    await answer(page, 'q1', '王五');
    await saved(page);
    if (how === 'home') {
      await page.click('header.bar button[aria-label]');
      await page.waitForSelector('.list li[data-instance]');
    } else {
      await page.click('[data-testid=next]');
      await page.click('[data-testid=finalize]');
      await page.waitForSelector('.list li[data-instance]');
    }
    await page.waitForFunction(() => history.state === null);
    await nextFrame(page);
    assert.equal(await page.locator('.tabs').count(), 1, 'still on the list');
    assert.equal(await page.locator('.list li[data-instance]').count(), 1);
    await page.goBack();
    assert.equal(page.url(), 'about:blank', 'left the app');
    assert.deepEqual(app.errors, []);
  });
}
