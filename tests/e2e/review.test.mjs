// Review and finalize: finalizing is refused while problems are left, each problem links to its
// question; a finalized interview edited again gets a new instance id with the old one in
// `deprecated_id`, and the old one is kept.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { ONE_PAGE, addMember, answer, answerAll, backToList, emergencyAnswers, open, openForm, saved, start, storedSubmissions } from './app.mjs';

test('finalize is refused until valid; edit after finalize makes a new id', async (t) => {
  const app = await launch({ locale: 'en-US' });
  t.after(() => app.close());
  const { page } = app;
  await open(app);
  await start(page, 'emergency_aid');
  await answer(page, 'head_name', '李四');
  await answer(page, 'contact_phone', '12345');
  await page.waitForSelector('[data-name="contact_phone"].has-error');
  await screenshot(page, 'emergency-error');

  await page.click('[data-testid=next]');
  await page.waitForSelector('[data-testid=finalize]');
  const problems = await page.locator('[data-testid=problem-link]').count();
  assert.ok(problems > 0, 'the review lists the problems');
  await page.click('[data-testid=finalize]');
  await page.waitForSelector('.notice.error[role=alert]');
  await screenshot(page, 'review-refused');
  // Drawn again in the other language, the review still says why it did not finalize.
  await page.click('[data-testid=switch-language]');
  await page.waitForSelector('.notice.error[role=alert]:has-text("cannot be finalized")');
  await page.click('[data-testid=switch-language]');
  await page.waitForSelector('.notice.error[role=alert]:has-text("不能完成")');
  assert.equal((await storedSubmissions(page))[0].envelope.meta.status, 'draft', 'not finalized');

  // A problem's link leads to its question.
  await page.locator('[data-testid=problem-link]', { hasText: /手机|phone/i }).first().click();
  await page.waitForSelector('[data-name="contact_phone"]');
  await answerAll(page, emergencyAnswers());
  await saved(page);
  await page.click('[data-testid=next]');
  await page.waitForSelector('[data-testid=finalize]');
  assert.equal(await page.locator('[data-testid=problem-link]').count(), 0);
  await page.click('[data-testid=finalize]');
  await page.waitForSelector('.list li[data-instance]');
  const [first] = await storedSubmissions(page);
  assert.equal(first.envelope.meta.status, 'finalized');

  // Edit after finalize.
  await page.locator('.list li[data-instance] button').first().click();
  await page.waitForSelector('.savebar');
  await answer(page, 'head_name', '李四光');
  await saved(page);
  const all = await storedSubmissions(page);
  assert.equal(all.length, 2, 'the finalized submission is kept');
  const edit = all.find((s) => s.envelope.meta.instance_id !== first.envelope.meta.instance_id);
  assert.equal(edit.envelope.meta.deprecated_id, first.envelope.meta.instance_id);
  assert.equal(edit.envelope.meta.status, 'draft');
  // In the drafts, the correction is marked as one.
  await page.goBack();
  await page.waitForSelector('.list li[data-instance]');
  const row = page.locator(`.list li[data-instance="${edit.envelope.meta.instance_id}"]`);
  assert.match(await row.locator('.name').textContent(), /李四光.*(修改中|correction)/);
  await screenshot(page, 'drafts-correction');
  assert.deepEqual(app.errors, []);
});

// A question asked of every member: each problem says whose it is, and a roster inside a member
// (too few jobs) leads to that member's page, where the roster is.
test('problems inside roster members name the member and lead to its page', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  const members = {
    type: 'repeat',
    name: 'members',
    label: { 'zh-CN': '家庭成员', en: 'Household members' },
    items: [
      { type: 'text', name: 'member_name', label: { 'zh-CN': '姓名', en: 'Name' } },
      { type: 'integer', name: 'age', label: { 'zh-CN': '年龄', en: 'Age' }, required: true },
      {
        type: 'repeat',
        name: 'jobs',
        min: 1,
        label: { 'zh-CN': '工作', en: 'Jobs' },
        items: [{ type: 'text', name: 'job', label: { 'zh-CN': '工作名称', en: 'Job' } }],
      },
    ],
  };
  const form = { ...ONE_PAGE, id: 'member_problems', items: ONE_PAGE.items.map((i) => (i.name === 'members' ? members : i)) };
  await openForm(app, form);
  for (const name of ['王芳', '李强']) {
    await addMember(page);
    await answer(page, 'member_name', name);
    await backToList(page);
  }
  await page.click('[data-testid=next]');
  await page.waitForSelector('[data-testid=finalize]');
  assert.deepEqual(await page.locator('[data-testid=problem-link]').allTextContents(), [
    '家庭成员 · 王芳 · 年龄: 此项必填',
    '家庭成员 · 王芳 · 工作: 至少需要 1 条',
    '家庭成员 · 李强 · 年龄: 此项必填',
    '家庭成员 · 李强 · 工作: 至少需要 1 条',
  ]);
  await screenshot(page, 'review-member-problems');

  await page.locator('[data-testid=problem-link]').nth(3).click();
  await page.waitForSelector('[data-testid=back-to-list]');
  assert.equal(await page.locator('.page-title').textContent(), '家庭成员 · 李强');
  assert.ok(await page.locator('[data-name="jobs"] [data-testid=add-member]').isVisible(), 'the jobs roster is on the page');
  assert.deepEqual(app.errors, []);
});
