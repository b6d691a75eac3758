// Rosters: a computed count above the repeat's `max` is capped with a message
// the screen reader announces (a status line), and coming back from a member's page lands where
// the surveyor was, on the row they opened, not at the top of the page (one-page and paged forms).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { ONE_PAGE, addMember, answer, backToList, openForm, saved } from './app.mjs';

const capped = (page) => page.locator('[data-name="plots"] [data-testid=capped]');

for (const lang of ['zh', 'en']) {
  test(`a computed count above max is capped with an announced message (${lang})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await openForm(app, ONE_PAGE, lang);

    await answer(page, 'n', 3);
    await page.waitForSelector('[data-repeat="plots"][data-count="3"]');
    assert.equal(await capped(page).textContent(), '', 'not capped: the status line is empty');
    assert.equal(await capped(page).getAttribute('role'), 'status', 'the message is announced');

    await answer(page, 'n', 8);
    await page.waitForSelector('[data-repeat="plots"][data-count="5"]');
    const want = {
      zh: ['按表单上限只列出 5 项（要求 8 项）', '按表单上限只列出 5 项（要求 9 项）'],
      en: ['Only 5 listed: the form allows at most 5 (8 asked)', 'Only 5 listed: the form allows at most 5 (9 asked)'],
    }[lang];
    await capped(page).locator('.notice').waitFor();
    assert.equal(await capped(page).textContent(), want[0]);
    await capped(page).scrollIntoViewIfNeeded();
    await screenshot(page, `roster-capped-${lang}`, { fullPage: false });

    // Still capped, with another count: the message follows although the list did not change.
    await answer(page, 'n', 9);
    await page.waitForFunction((text) => document.querySelector('[data-name="plots"] [data-testid=capped]')?.textContent === text, want[1]);
    await answer(page, 'n', 2);
    await page.waitForSelector('[data-repeat="plots"][data-count="2"]');
    assert.equal(await capped(page).textContent(), '', 'the message goes away');
    await saved(page);
    assert.deepEqual(app.errors, []);
  });
}

// On a paged form the roster has a page of its own; with ten members it scrolls too.
const PAGED = { ...ONE_PAGE, id: 'paged_rosters', settings: { navigation: 'pages' } };

const SCROLLED = [
  [ONE_PAGE, 'one-page', 8],
  [PAGED, 'paged', 10],
];

for (const [form, what, count] of SCROLLED) {
  test(`back from a member on a ${what} form lands on the row that was opened`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await openForm(app, form);
    if (form === PAGED) {
      await page.click('[data-testid=next]');
      await page.click('[data-testid=next]');
      await page.waitForSelector('[data-testid=add-member]');
    }
    const names = ['王芳', '李强', '张伟', '刘洋', '陈静', '杨磊', '赵敏', '黄勇', '周杰', '吴刚'].slice(0, count);
    for (const name of names) {
      await addMember(page);
      await answer(page, 'member_name', name);
      await backToList(page);
    }
    await saved(page);
    assert.deepEqual(
      await page.locator('[data-repeat="members"] li .who').allTextContents(),
      names.map((name, i) => `${i + 1}. ${name}`),
      'every row has its name, the last added too',
    );

    // The sixth member's row in the middle of the screen, as a surveyor scrolling down would leave it.
    const row = page.locator('[data-repeat="members"] li').nth(5);
    await row.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    const before = await page.evaluate(() => window.scrollY);
    assert.ok(before > 100, `the roster is scrolled down (scrollY ${before})`);
    const top = await row.evaluate((el) => el.getBoundingClientRect().top);
    await screenshot(page, `roster-scroll-before-${what}`, { fullPage: false });

    await row.locator('button.who').click();
    await page.waitForSelector('[data-testid=back-to-list]');
    assert.equal(await page.evaluate(() => window.scrollY), 0, "the member's page starts at the top");
    await backToList(page);
    await page.waitForFunction(() => window.scrollY > 0);
    assert.equal(await page.evaluate(() => window.scrollY), before, 'back where the surveyor was');
    assert.equal(await row.evaluate((el) => el.getBoundingClientRect().top), top, 'the row is where it was');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), `6. ${names[5]}`, 'the row has the focus');
    await screenshot(page, `roster-scroll-back-${what}`, { fullPage: false });

    // Opened, then moved to the next member: back lands on the list with that member's row in view.
    await row.locator('button.who').click();
    await page.waitForSelector('[data-testid=back-to-list]');
    await page.click('nav.navbar button:last-child');
    await page.waitForFunction((name) => document.querySelector('[data-name="member_name"] input')?.value === name, names[6]);
    await backToList(page);
    await page.waitForFunction(() => window.scrollY > 0);
    const seventh = await page.locator('[data-repeat="members"] li').nth(6).boundingBox();
    assert.ok(seventh.y >= 0 && seventh.y + seventh.height <= 640, 'the row of the member left is on screen');
    assert.deepEqual(app.errors, []);
  });
}
