// The whole flow a surveyor goes through, in Chinese and in English on a 360 x 640 phone:
// fill a household interview with three members, reload in the middle and resume, review,
// finalize, export, and read the downloaded bundle back (every hash in the manifest, the
// submission line, the CSV rows).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { launch, screenshot } from './lib.mjs';
import {
  HOUSEHOLD, addMember, answer, answerAll, backToList, next, open, readZip, saved, sign, start, storedMedia, storedSubmissions,
  valueOf,
} from './app.mjs';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

for (const lang of ['zh', 'en']) {
  test(`a household of three, reloaded mid-way, finalized and exported (${lang})`, async (t) => {
    const app = await launch({ acceptDownloads: true });
    t.after(() => app.close());
    const { page } = app;
    const shot = (name) => screenshot(page, `${lang}-${name}`);
    await open(app);
    if (lang === 'en') {
      await page.click('[data-testid=switch-language]');
      await page.waitForSelector('text=Start a new interview');
    }
    await shot('01-forms');
    await start(page, 'household_needs');
    await answerAll(page, HOUSEHOLD.place);
    await shot('02-page1');
    await next(page);
    await answer(page, 'consent', 'yes');
    await next(page);
    await answerAll(page, HOUSEHOLD.identity);
    await shot('03-identity');
    await next(page);

    // Members: the first is the head, filled in from the identity page.
    await addMember(page);
    assert.equal(await valueOf(page, 'member_name'), '刘志强', 'the head is the first member');
    await answerAll(page, HOUSEHOLD.members[0]);
    await backToList(page);
    await addMember(page);
    await answerAll(page, HOUSEHOLD.members[1]);
    await shot('04-member');
    await backToList(page);
    await addMember(page);
    const third = HOUSEHOLD.members[2];
    await answer(page, 'member_name', third.member_name);
    await answer(page, 'relationship', third.relationship);
    await saved(page);

    // Reload in the middle: the app reopens the interview on the same member's page.
    await page.reload();
    await page.waitForSelector('[data-testid=back-to-list]', { timeout: 30_000 });
    assert.equal(await valueOf(page, 'member_name'), third.member_name, 'the answer typed before the reload is back');
    for (const [k, v] of Object.entries(third)) if (k !== 'member_name' && k !== 'relationship') await answer(page, k, v);
    await backToList(page);
    assert.equal(await page.locator('.roster li').count(), 3);
    // The Chinese form titles the page and its roster alike ("家庭成员"): said once. (In English the page is
    // "Household members" and the roster "Household member", so both show.)
    assert.equal(await page.locator('.roster-box h3').count(), lang === 'zh' ? 0 : 1, 'the page title names the roster once');
    await shot('05-roster');
    await next(page);

    await answerAll(page, HOUSEHOLD.economy);
    await next(page);
    await answerAll(page, HOUSEHOLD.hardship);
    await next(page);
    await answerAll(page, HOUSEHOLD.categories);
    await next(page);
    await shot('06-urgency');
    await next(page);
    await answerAll(page, HOUSEHOLD.help);
    await next(page);
    await sign(page, 'signature');
    await shot('07-evidence');
    await page.click('[data-testid=contents]');
    await shot('08-contents');
    await page.locator('.dialog-back').click({ position: { x: 5, y: 5 } });
    await next(page);

    // Review: no problem left; finalize.
    await page.waitForSelector('[data-testid=finalize]');
    await shot('09-review');
    assert.equal(await page.locator('[data-testid=problem-link]').count(), 0, 'no problem left on the review');
    await page.click('[data-testid=finalize]');
    await page.waitForSelector('.list li[data-instance]', { timeout: 10_000 });
    await shot('10-finalized');
    const stored = await storedSubmissions(page);
    assert.equal(stored.length, 1);
    assert.equal(stored[0].envelope.meta.status, 'finalized');
    assert.equal(stored[0].envelope.data.members.length, 3);

    // Export: the not-yet-exported interview is selected; the bundle is downloaded.
    await page.click('.tabs button:nth-child(4)');
    await page.waitForSelector('[data-testid=export]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export]')]);
    await page.waitForSelector('[data-testid=export-done]');
    await shot('11-export');
    const zip = readFileSync(await download.path());
    assert.match(download.suggestedFilename(), /^household_needs_.+_\d{8}T\d{6}Z\.zip$/);

    // Read it back: every file's hash and size as the manifest says, the line hash, the CSVs.
    const files = readZip(zip);
    const manifest = JSON.parse(files['manifest.json'].toString('utf8'));
    assert.equal(manifest.format, 'doorstep-bundle/1');
    for (const f of manifest.files) {
      assert.ok(files[f.path], `${f.path} is in the bundle`);
      assert.equal(files[f.path].length, f.size, `${f.path} has its size`);
      assert.equal(f.sha256.replace(/^sha256:/, ''), sha256(files[f.path]), `${f.path} has its hash`);
    }
    const lines = files['submissions.jsonl'].toString('utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    assert.equal(manifest.submissions[0].sha256.replace(/^sha256:/, ''), sha256(lines[0]));
    const sub = JSON.parse(lines[0]);
    assert.equal(sub.meta.instance_id, stored[0].envelope.meta.instance_id);
    assert.equal(sub.data.head_name, '刘志强');
    const members = files['tables/household_needs.members.csv'].toString('utf8').replace(/^\uFEFF/, '').trim().split('\n');
    assert.equal(members.length, 1 + 3, 'a header and one row per member');
    assert.ok(Object.keys(files).some((p) => p.startsWith('media/')), 'the signature is in the bundle');

    // The device remembers the bundle; the interview is marked and nothing was deleted.
    const after = await storedSubmissions(page);
    assert.equal(after.length, 1);
    assert.deepEqual(after[0].exported_in, [sha256(zip)]);

    // A correction keeps the signature (copied under its own id, where export looks for it), and
    // tapping edit a second time opens that correction again instead of starting another.
    const original = stored[0].envelope.meta.instance_id;
    for (let round = 0; round < 2; round++) {
      await page.click('.tabs button:nth-child(3)');
      await page.waitForSelector('.list li[data-instance]');
      await page.locator(`.list li[data-instance="${original}"] button`).first().click();
      await page.waitForSelector('.savebar');
      await page.goBack();
      await page.waitForSelector('.tabs');
    }
    const corrections = (await storedSubmissions(page)).filter((s) => s.envelope.meta.deprecated_id === original);
    assert.equal(corrections.length, 1, 'one correction, however often edit is tapped');
    const signature = corrections[0].envelope.data.signature;
    assert.equal(
      (await storedMedia(page, `${corrections[0].envelope.meta.instance_id}/${signature.file}`)).bytes?.length,
      signature.size,
      "the correction's own copy of the signature",
    );

    // Deleting the correction gives its pictures' space back, and leaves the original's.
    const correction = corrections[0].envelope.meta.instance_id;
    await page.click('.tabs button:nth-child(2)');
    await page.locator(`.list li[data-instance="${correction}"] .btn.danger`).click();
    await page.locator('.dialog .btn.danger').click();
    await page.waitForSelector(`.list li[data-instance="${correction}"]`, { state: 'detached' });
    assert.equal((await storedMedia(page, `${correction}/${signature.file}`)).bytes, null, "the correction's picture is deleted");
    assert.equal((await storedMedia(page, `${original}/${signature.file}`)).bytes?.length, signature.size, "the original's is kept");
    assert.deepEqual(app.errors, []);
  });
}
