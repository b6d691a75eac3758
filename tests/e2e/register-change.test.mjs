// A special-hardship register change (计生特困家庭名册变动) on a 360 x 640 phone, in Chinese and in
// English: a household enters the register (only entry reasons offered, "another reason" needs a
// description, the help plan asked, a wrong mobile and a change dated before the home check
// refused, at review too, and finalize refused until fixed), then a second household leaves it
// (only exit reasons, an entry reason left from before flagged, no help plan, whether to keep
// visiting); both finalized, exported in one bundle and read back, and ingested by the office.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { doorstep, launch, screenshot } from './lib.mjs';
import { answer, answerAll, next, open, readZip, saved, shippedForm, start, storedSubmissions } from './app.mjs';

const T = {
  zh: {
    shortName: '姓名至少两个字',
    stale: '所选项已不在可选范围内，请重新选择',
    changeDate: '变动日期不能晚于今天，也不能早于入户核查日期',
    phone: '手机号码应为11位数字，以1开头，第二位为3–9，例如 13812345678',
    refused: '不能完成',
  },
  en: {
    shortName: 'A name has at least two characters',
    stale: 'The selected option is no longer available; choose again.',
    changeDate: 'The change date cannot be after today or before the home check',
    phone: 'A mobile number has 11 digits, starting with 1 and then 3–9, e.g. 13812345678',
    refused: 'cannot be finalized',
  },
};

const day = (days) => new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);
const error = (page, name) => page.locator(`[data-name="${name}"] .q-error`).first();
const offered = (page, name) => page.locator(`[data-name="${name}"] input[type=radio]`).evaluateAll((els) => els.map((e) => e.value));
const reasons = shippedForm('register_change').choices.change_reasons;
const reasonsOf = (change) => reasons.filter((r) => r.change === change).map((r) => r.value);
const csv = (buf) => buf.toString('utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/).map((l) => l.split(','));

async function household(page, head_name, head_id, tx) {
  await answerAll(page, { township: 'liuhe', village: 'lh_gaoling', head_name: head_name[0], head_id });
  await page.waitForSelector('[data-name="head_name"].has-error');
  assert.equal(await error(page, 'head_name').textContent(), tx.shortName);
  await answer(page, 'head_name', head_name);
  await page.waitForSelector('[data-name="head_name"]:not(.has-error)');
  await next(page);
  await page.waitForSelector('[data-name="change_type"]');
}

for (const lang of ['zh', 'en']) {
  test(`a household enters the register and another leaves it; exported and read back (${lang})`, async (t) => {
    const app = await launch({ acceptDownloads: true });
    t.after(() => app.close());
    const { page } = app;
    const tx = T[lang];
    const shot = (name) => screenshot(page, `register-change-${lang}-${name}`);
    await open(app);
    if (lang === 'en') await page.click('[data-testid=switch-language]');

    // Entry.
    await start(page, 'register_change');
    await household(page, '赵德福', '130826194803204117', tx);
    assert.deepEqual(await offered(page, 'change_reason'), [], 'no reason before the kind of change');
    await answer(page, 'change_type', 'entry');
    assert.deepEqual(await offered(page, 'change_reason'), reasonsOf('entry'));
    await answer(page, 'change_reason', 'other_entry');
    await answerAll(page, { reason_other: '独子外出多年失联，老两口无人照顾', review_date: day(-3), change_date: day(-5), approved_by: '县计生协 李主任' });
    await page.waitForSelector('[data-name="change_date"].has-error');
    assert.equal(await error(page, 'change_date').textContent(), tx.changeDate);
    await answer(page, 'change_date', day(1));
    await page.waitForFunction(() => document.querySelector('[data-name="change_date"] input')?.value !== '');
    assert.equal(await error(page, 'change_date').textContent(), tx.changeDate, 'the future is refused too');
    await shot('01-entry-date-error');
    await next(page);
    await page.waitForSelector('[data-name="help_measures"]');
    await answer(page, 'help_measures', ['holiday_visit', 'health_check', 'other']);
    await answerAll(page, { help_measures_other: '协助申请临时救助', help_plan: '每月志愿者上门一次；每年免费体检；春节、重阳节走访慰问。', helper_name: '王芳', helper_phone: '1591234567' });
    await page.waitForSelector('[data-name="helper_phone"].has-error');
    assert.equal(await error(page, 'helper_phone').textContent(), tx.phone);
    await shot('02-help-plan');
    await answer(page, 'helper_phone', '15912345670');
    await page.waitForSelector('[data-name="helper_phone"]:not(.has-error)');
    await next(page);
    await page.waitForSelector('[data-name="remarks"]');
    assert.equal(await page.locator('[data-name="keep_visiting"]').count(), 0, 'no exit page for an entry');
    await saved(page);
    await next(page);

    // Review: the change date is still wrong; finalize is refused, the link leads to it.
    await page.waitForSelector('[data-testid=finalize]');
    const problems = page.locator('[data-testid=problem-link]');
    assert.equal(await problems.count(), 1);
    assert.match(await problems.first().innerText(), new RegExp(tx.changeDate));
    await page.click('[data-testid=finalize]');
    await page.waitForSelector(`.notice.error[role=alert]:has-text("${tx.refused}")`);
    await shot('03-review-refused');
    await problems.first().click();
    await answer(page, 'change_date', day(-1));
    await page.waitForSelector('[data-name="change_date"]:not(.has-error)');
    await saved(page);
    for (let i = 0; i < 3; i++) await next(page);
    await page.waitForSelector('[data-testid=finalize]');
    assert.equal(await problems.count(), 0);
    await shot('04-review');
    await page.click('[data-testid=finalize]');
    await page.waitForSelector('.list li[data-instance]', { timeout: 10_000 });

    // Exit: only exit reasons; the entry reason chosen first is flagged when the kind changes.
    await page.click('.tabs button:nth-child(1)');
    await start(page, 'register_change');
    await household(page, '何丽', '13082619900909112X', tx);
    await answerAll(page, { change_type: 'entry', change_reason: 'illness_poverty' });
    await answer(page, 'change_type', 'exit');
    assert.deepEqual(await offered(page, 'change_reason'), reasonsOf('exit'));
    await page.waitForSelector('[data-name="change_reason"].has-error');
    assert.equal(await error(page, 'change_reason').textContent(), tx.stale);
    await shot('05-exit-stale-reason');
    await answer(page, 'change_reason', 'out_of_hardship');
    await page.waitForSelector('[data-name="change_reason"]:not(.has-error)');
    assert.equal(await page.locator('[data-name="reason_other"]').count(), 0, 'a listed reason needs no description');
    await answerAll(page, { review_date: day(-10), change_date: day(-4), approved_by: '石桥镇计生协' });
    await next(page);
    await page.waitForSelector('[data-name="keep_visiting"]');
    assert.equal(await page.locator('[data-name="help_measures"]').count(), 0, 'no help plan for an exit');
    await answer(page, 'keep_visiting', 'yes');
    await shot('06-exit');
    await next(page);
    await answer(page, 'remarks', '丈夫病愈后外出务工，人均收入已超过当地标准。');
    await saved(page);
    await next(page);
    await page.waitForSelector('[data-testid=finalize]');
    assert.equal(await problems.count(), 0);
    await page.click('[data-testid=finalize]');
    await page.waitForSelector('.list li[data-instance] >> nth=1', { timeout: 10_000 });
    const stored = await storedSubmissions(page);
    assert.deepEqual(stored.map((s) => s.envelope.meta.status), ['finalized', 'finalized']);

    // Both in one bundle.
    await page.click('.tabs button:nth-child(4)');
    await page.waitForSelector('[data-testid=export]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export]')]);
    await page.waitForSelector('[data-testid=export-done]');
    await shot('07-exported');
    const zip = readFileSync(await download.path());
    const files = readZip(zip);
    const subs = files['submissions.jsonl'].toString('utf8').trim().split('\n').map((l) => JSON.parse(l).data);
    const entry = subs.find((s) => s.change_type === 'entry');
    const exit = subs.find((s) => s.change_type === 'exit');
    assert.equal(entry.change_reason, 'other_entry');
    assert.equal(entry.reason_other, '独子外出多年失联，老两口无人照顾');
    assert.deepEqual([entry.review_date, entry.change_date], [day(-3), day(-1)]);
    assert.deepEqual(entry.help_measures, ['holiday_visit', 'health_check', 'other']);
    assert.equal(entry.helper_phone, '15912345670');
    assert.equal(entry.keep_visiting, undefined);
    assert.equal(exit.change_reason, 'out_of_hardship');
    assert.equal(exit.keep_visiting, 'yes');
    for (const k of ['help_measures', 'help_plan', 'helper_name', 'reason_other']) assert.equal(exit[k], undefined, `${k} is not exported for an exit`);
    const [head, ...rows] = csv(files['tables/register_change.csv']);
    assert.equal(rows.length, 2);
    const col = (name) => rows.map((r) => r[head.indexOf(name)]).sort();
    assert.deepEqual(col('change_type'), ['entry', 'exit']);
    assert.deepEqual(col('change_date'), [day(-4), day(-1)].sort());

    const dir = mkdtempSync(join(tmpdir(), 'register-change-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const bundle = join(dir, download.suggestedFilename());
    writeFileSync(bundle, zip);
    const ingested = doorstep(['ingest', '--db', join(dir, 'office.db'), bundle]);
    assert.equal(ingested.status, 0, ingested.stderr);
    assert.match(ingested.stdout, /2 new, 0 duplicate, 0 conflict, 0 rejected/);
    assert.deepEqual(app.errors, []);
  });
}
