// A care visit (走访与帮扶记录) as a surveyor fills it on a 360 x 640 phone, in Chinese and in English:
// a wrong ID number, a visit date in the future and too many volunteers refused with the form's
// messages; the items given as a roster (added, one removed after its confirmation, one moved up),
// an amount of 0 refused, the total and the cash part shown and stored to the fen; a next visit
// before this one refused, at review too, and finalize refused until it is fixed; then the bundle
// read back (its CSV tables and its submission line) and ingested by the office's `doorstep`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { doorstep, launch, screenshot } from './lib.mjs';
import { addMember, answer, answerAll, backToList, next, open, readZip, saved, sign, start, storedSubmissions } from './app.mjs';

const T = {
  zh: {
    badId: '身份证号码有误',
    future: '走访日期不能晚于今天，也不能早于2020年',
    volunteers: '志愿者人数应在0到50之间',
    amount: '单项金额应大于0且不超过20000元',
    nextVisit: '下次走访日期必须晚于本次走访日期，且在一年以内',
    item: (n) => `发放明细 ${n}`,
    note: (n, total, cash) => `本次共发放 ${n} 项，合计 ${total} 元，其中现金 ${cash} 元。`,
    visitType: '帮扶物资、资金发放',
    refused: '不能完成',
  },
  en: {
    badId: 'The resident ID number is wrong',
    future: 'The visit date cannot be after today or before 2020',
    volunteers: 'The number of volunteers must be between 0 and 50',
    amount: 'Each amount must be more than 0 and at most 20,000 yuan',
    nextVisit: 'The next visit must be after this visit and within a year of it',
    item: (n) => `Item given ${n}`,
    note: (n, total, cash) => `Items given: ${n}; ${total} yuan in all, of which ${cash} yuan in cash.`,
    visitType: 'Delivery of help in kind or money',
    refused: 'cannot be finalized',
  },
};

// Dates in the phone's zone (Asia/Shanghai), `days` from today.
const day = (days) => new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);
const error = (page, name) => page.locator(`[data-name="${name}"] .q-error`).first();
const rows = (page) => page.locator('[data-repeat="aid_items"] li .who').allTextContents();
const csv = (buf) => buf.toString('utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/).map((l) => l.split(','));

for (const lang of ['zh', 'en']) {
  test(`a care visit with items given, wrong values refused, finalized and exported (${lang})`, async (t) => {
    const app = await launch({ acceptDownloads: true });
    t.after(() => app.close());
    const { page } = app;
    const tx = T[lang];
    const shot = (name) => screenshot(page, `care-visit-${lang}-${name}`);
    await open(app);
    if (lang === 'en') await page.click('[data-testid=switch-language]');
    await start(page, 'care_visit');

    // Household: a number with a wrong check character is refused with the form's message.
    await answerAll(page, { township: 'shiqiao', village: 'sq_wangjiagou', head_name: '张建国', head_id: '130826198406123710' });
    await page.waitForSelector('[data-name="head_id"].has-error');
    assert.match(await error(page, 'head_id').textContent(), new RegExp(tx.badId));
    await shot('01-household-bad-id');
    await answer(page, 'head_id', '130826198406123717');
    await page.waitForSelector('[data-name="head_id"]:not(.has-error)');
    await next(page);

    // The visit: the date defaults to today; the future and 51 volunteers are refused.
    await page.waitForSelector('[data-name="visit_type"]');
    assert.equal(await page.locator('[data-name="visit_date"] input').inputValue(), day(0), 'the visit is today by default');
    assert.equal(await page.locator('[data-name="occasion"]').count(), 0, 'no holiday asked for a delivery');
    await answerAll(page, { visit_type: 'aid_delivery', visit_date: day(1), visitor_level: 'township', volunteers_present: '51' });
    await page.waitForSelector('[data-name="visit_date"].has-error');
    assert.equal(await error(page, 'visit_date').textContent(), tx.future);
    await page.waitForSelector('[data-name="volunteers_present"].has-error');
    assert.equal(await error(page, 'volunteers_present').textContent(), tx.volunteers);
    await shot('02-visit-errors');
    await answerAll(page, { visit_date: day(-2), volunteers_present: '2' });
    await answerAll(page, { volunteer_names: '王芳、李强', visit_summary: '户主卧床，送去救助金和生活用品。' });
    await page.waitForSelector('[data-name="visit_date"]:not(.has-error)');
    await next(page);

    // Help given: four items; an amount of 0 is refused; a goods item changed to cash loses its name.
    await answer(page, 'aid_given', 'yes');
    await page.waitForSelector('[data-testid=add-member]');
    await addMember(page);
    await answerAll(page, { item_kind: 'goods', item_name: '大米', quantity: '1', item_amount: '0' });
    await page.waitForSelector('[data-name="item_amount"].has-error');
    assert.equal(await error(page, 'item_amount').textContent(), tx.amount);
    await shot('03-item-amount-refused');
    await answerAll(page, { item_kind: 'cash', item_amount: '100' });
    assert.equal(await page.locator('[data-name="item_name"]').count(), 0, 'cash has no name to ask');
    await backToList(page);
    assert.deepEqual(await rows(page), [`1. ${tx.item(1)}`], 'the cash item is not named by the rice typed before');
    const items = [
      { item_kind: 'goods', item_name: '大米', quantity: '2', item_amount: '59.9' },
      { item_kind: 'goods', item_name: '食用油', quantity: '1', item_amount: '39.9' },
      { item_kind: 'service', item_name: '理发', item_amount: '19.9' },
    ];
    for (const item of items) {
      await addMember(page);
      await answerAll(page, item);
      await backToList(page);
    }
    assert.deepEqual(await rows(page), [`1. ${tx.item(1)}`, '2. 大米', '3. 食用油', '4. 理发']);
    const note = page.locator('[data-name="total_note"]');
    await page.waitForFunction((want) => document.querySelector('[data-name="total_note"]')?.innerText.trim() === want, tx.note(4, '219.7', '100'));
    await shot('04-items');

    // Removing asks first: cancel keeps the item, remove takes it away and the total follows.
    await page.locator('[data-repeat="aid_items"] li').nth(0).locator('button.iconbtn.danger').click();
    await page.waitForSelector('.dialog');
    assert.match(await page.locator('.dialog').innerText(), new RegExp(tx.item(1)));
    await shot('05-remove-confirm');
    await page.locator('.dialog .btn:not(.danger)').click();
    await page.waitForSelector('.dialog', { state: 'detached' });
    assert.equal((await rows(page)).length, 4, 'cancel keeps the item');
    await page.locator('[data-repeat="aid_items"] li').nth(0).locator('button.iconbtn.danger').click();
    await page.locator('.dialog .btn.danger').click();
    await page.waitForSelector('[data-repeat="aid_items"][data-count="3"]');
    // The haircut moved to the top.
    await page.locator('[data-repeat="aid_items"] li').nth(2).locator('button.iconbtn').first().click();
    await page.locator('[data-repeat="aid_items"] li').nth(1).locator('button.iconbtn').first().click();
    await page.waitForFunction(() => document.querySelector('[data-repeat="aid_items"] li .who')?.textContent === '1. 理发');
    assert.deepEqual(await rows(page), ['1. 理发', '2. 大米', '3. 食用油']);
    // 19.9 + 59.9 + 39.9 is 119.69999999999999 in binary; the total is to the fen, and no cash is 0.
    await page.waitForFunction((want) => document.querySelector('[data-name="total_note"]')?.innerText.trim() === want, tx.note(3, '119.7', '0'));
    assert.equal((await note.innerText()).trim(), tx.note(3, '119.7', '0'));
    await answerAll(page, { fund_line: 'key_relief', fund_source: 'township_fund' });
    await sign(page, 'receipt_signature');
    await shot('06-aid');
    await next(page);

    // Follow-up: a next visit before this one is refused.
    await answer(page, 'follow_up', 'yes');
    await answer(page, 'follow_up_help', ['volunteer_service', 'insurance']);
    await answer(page, 'next_visit_date', day(-3));
    await page.waitForSelector('[data-name="next_visit_date"].has-error');
    assert.equal(await error(page, 'next_visit_date').textContent(), tx.nextVisit);
    await shot('07-follow-up-error');
    await saved(page);

    // Review: the problem is listed and finalize is refused; its link leads to the question.
    await next(page);
    await page.waitForSelector('[data-testid=finalize]');
    const problems = page.locator('[data-testid=problem-link]');
    assert.equal(await problems.count(), 1);
    assert.match(await problems.first().innerText(), new RegExp(tx.nextVisit));
    await page.click('[data-testid=finalize]');
    await page.waitForSelector(`.notice.error[role=alert]:has-text("${tx.refused}")`);
    await shot('08-review-refused');
    assert.equal((await storedSubmissions(page))[0].envelope.meta.status, 'draft', 'not finalized');
    await problems.first().click();
    await page.waitForSelector('[data-name="next_visit_date"]');
    await answer(page, 'next_visit_date', day(28));
    await page.waitForSelector('[data-name="next_visit_date"]:not(.has-error)');
    await saved(page);
    await next(page);
    await page.waitForSelector('[data-testid=finalize]');
    assert.equal(await problems.count(), 0, 'no problem left');
    assert.match(await page.locator('main').innerText(), new RegExp(tx.visitType));
    await shot('09-review');
    await page.click('[data-testid=finalize]');
    await page.waitForSelector('.list li[data-instance]', { timeout: 10_000 });
    assert.match(await page.locator('.list li[data-instance] .name').innerText(), new RegExp(`张建国 · ${day(-2)} · ${tx.visitType}`));
    const [stored] = await storedSubmissions(page);
    assert.equal(stored.envelope.meta.status, 'finalized');
    assert.equal(stored.envelope.data.total_amount, 119.7);
    assert.equal(stored.envelope.data.item_count, 3);

    // Export and read the bundle back.
    await page.click('.tabs button:nth-child(4)');
    await page.waitForSelector('[data-testid=export]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export]')]);
    await page.waitForSelector('[data-testid=export-done]');
    await shot('10-exported');
    const zip = readFileSync(await download.path());
    const files = readZip(zip);
    const lines = files['submissions.jsonl'].toString('utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0], /"cash_amount":0\.0[,}]/, 'no cash given is 0, not -0.0');
    assert.match(lines[0], /"total_amount":119\.7[,}]/);
    const sub = JSON.parse(lines[0]);
    assert.equal(sub.meta.form.version, JSON.parse(files['form.json']).version);
    assert.deepEqual(
      sub.data.aid_items.map((i) => [i.item_kind, i.item_name, i.item_amount]),
      [['service', '理发', 19.9], ['goods', '大米', 59.9], ['goods', '食用油', 39.9]],
    );
    assert.equal(sub.data.next_visit_date, day(28));
    assert.ok(sub.data.receipt_signature?.file, 'the signature is named');
    const [head, row] = csv(files['tables/care_visit.csv']);
    const col = (name) => row[head.indexOf(name)];
    assert.equal(col('total_amount'), '119.7');
    assert.equal(col('cash_amount'), '0.0');
    assert.equal(col('item_count'), '3');
    assert.equal(col('visit_date'), day(-2));
    const itemRows = csv(files['tables/care_visit.aid_items.csv']);
    assert.deepEqual(itemRows.slice(1).map((r) => r[itemRows[0].indexOf('item_amount')]), ['19.9', '59.9', '39.9']);
    assert.ok(Object.keys(files).some((p) => p.startsWith('media/') && p.endsWith(sub.data.receipt_signature.file)));

    // The office takes it as it is.
    const dir = mkdtempSync(join(tmpdir(), 'care-visit-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const bundle = join(dir, download.suggestedFilename());
    writeFileSync(bundle, zip);
    const ingested = doorstep(['ingest', '--db', join(dir, 'office.db'), bundle]);
    assert.equal(ingested.status, 0, ingested.stderr);
    assert.match(ingested.stdout, /1 new, 0 duplicate, 0 conflict, 0 rejected/);
    assert.deepEqual(app.errors, []);
  });
}
