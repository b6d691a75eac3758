// Review and finalize: finalizing is refused while problems are left, each problem links to its
// question; a finalized interview edited again gets a new instance id with the old one in
// `deprecated_id`, and the old one is kept.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { answer, answerAll, open, saved, start, storedSubmissions } from './app.mjs';

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
  assert.equal((await storedSubmissions(page))[0].envelope.meta.status, 'draft', 'not finalized');

  // A problem's link leads to its question.
  await page.locator('[data-testid=problem-link]', { hasText: /手机|phone/i }).first().click();
  await page.waitForSelector('[data-name="contact_phone"]');
  await answerAll(page, {
    contact_phone: '13912345678',
    township: 'chengguan',
    village: 'cg_nanjie',
    event_type: 'fire',
    event_date: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10),
    affected: ['head'],
    affected_count: 2,
    amount_requested: 3000,
    urgency: 'urgent',
  });
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
