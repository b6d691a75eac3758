// The export history keeps every bundle: after the app was closed and opened again, a bundle is
// saved again from the history, made again from the stored interviews, attachments and form, and
// it is the very file first downloaded (byte for byte), also for a form encrypted to an office
// key (the office still opens it). A bundle whose interviews were deleted is not made again: the
// history says so and offers nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { doorstep, launchPersistent, screenshot, tempProfile } from './lib.mjs';
import { finalizeSigned, install, open, readZip, storedRecords } from './app.mjs';

const visit = (id, settings) => ({
  format: 'doorstep-form/1',
  id,
  version: '1',
  title: { 'zh-CN': '回访', en: 'Follow-up visit' },
  languages: ['zh-CN', 'en'],
  instance_name: '${head_name}',
  ...(settings ? { settings } : {}),
  items: [
    { type: 'text', name: 'head_name', label: { 'zh-CN': '户主姓名', en: 'Head of household' }, required: true },
    { type: 'image', name: 'signature', label: { 'zh-CN': '签名', en: 'Signature' }, appearance: 'signature' },
  ],
});

const tab = (page, n) => page.click(`.tabs button:nth-child(${n})`);

/** Exports what awaits export; returns the download's file name and bytes. */
async function exportNow(page) {
  await tab(page, 4);
  await page.waitForFunction(() => document.querySelectorAll('.list input[type=checkbox]:checked').length === 1);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export]')]);
  await page.waitForSelector('[data-testid=export-done]');
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

/** In a browser on `profile`: installs `form`, fills and exports one interview of household `name`,
 * and closes the browser; returns the download's file name and bytes. */
async function exportInNewProfile(t, profile, form, name) {
  const app = await launchPersistent(profile);
  t.after(() => app.close());
  await open(app);
  await install(app.page, form);
  await finalizeSigned(app.page, form.id, name);
  const first = await exportNow(app.page);
  assert.deepEqual(app.errors, []);
  await app.close();
  return first;
}

/** Opens the app again on the same profile (a new browser: the first one was closed) at the export tab. */
async function reopen(t, profile) {
  const app = await launchPersistent(profile);
  t.after(() => app.close());
  await open(app);
  await tab(app.page, 4);
  await app.page.waitForSelector('[data-testid=bundles] li');
  return app;
}

/** Saves the bundle of the history's row `file` again; returns its download. */
async function saveAgain(page, file) {
  const row = page.locator('[data-testid=bundles] li', { hasText: file });
  const [download] = await Promise.all([page.waitForEvent('download'), row.locator('[data-testid=save-bundle-again]').click()]);
  await row.locator('[data-testid=bundle-remade]').waitFor();
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

/** The history's controls are big enough to tap and the page does not scroll sideways. */
async function checkLayout(page) {
  for (const control of await page.locator('[data-testid=bundles] li :is(button, a, summary)').all()) {
    const box = await control.boundingBox();
    assert.ok(box.height >= 44, `${await control.innerText()}: ${box.height} px high`);
  }
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling');
  // The body clips what is wider than the screen (overflow-x: clip), so a long file name that
  // does not wrap would be cut off rather than scroll: nothing in the history is wider than its box.
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid=bundles] li, [data-testid=bundles] li *')]
      .filter((el) => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== 'inline')
      .map((el) => `${el.tagName}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`),
  );
  assert.deepEqual(wide, [], 'nothing is cut off');
}

test('a bundle is saved again from the history after the app was closed, byte for byte', async (t) => {
  const profile = tempProfile();
  const form = visit('return_visit');
  const first = await exportInNewProfile(t, profile, form, '王一');
  assert.match(first.name, /^return_visit_.+\.zip$/);
  assert.ok(Object.keys(readZip(first.bytes)).some((p) => p.startsWith('media/')), 'the signature is in the bundle');

  const app = await reopen(t, profile);
  const { page } = app;
  const row = page.locator('[data-testid=bundles] li', { hasText: first.name });
  const button = row.locator('[data-testid=save-bundle-again]');
  assert.equal(await button.getAttribute('aria-label'), `重新保存这个数据包: ${first.name}`);
  await checkLayout(page);
  await row.scrollIntoViewIfNeeded();
  await screenshot(page, 'bundles-history-zh', { fullPage: false });

  const again = await saveAgain(page, first.name);
  assert.equal(again.name, first.name);
  assert.ok(again.bytes.equals(first.bytes), 'the same bytes as the first download');
  assert.match(await row.locator('[data-testid=bundle-remade]').innerText(), /与第一次导出的文件完全相同/);
  // The link of the bytes made again saves them once more (a phone may block the first download).
  const [copy] = await Promise.all([page.waitForEvent('download'), row.locator('[data-testid=bundle-remade] a').click()]);
  assert.ok(readFileSync(await copy.path()).equals(first.bytes));
  await checkLayout(page);
  await screenshot(page, 'bundles-remade-zh', { fullPage: false });

  // In English.
  await page.click('[data-testid=switch-language]');
  await row.locator('[data-testid=bundle-remade]:has-text("the very file first exported")').waitFor();
  await checkLayout(page);
  await screenshot(page, 'bundles-remade-en', { fullPage: false });

  // Its interview deleted, the bundle cannot be made again: said, and nothing offered.
  await tab(page, 3);
  await page.locator('.list li[data-instance] button.danger').click();
  await page.locator('.dialog button.danger').click();
  await page.waitForSelector('.list li[data-instance]', { state: 'detached' });
  await tab(page, 4);
  const gone = page.locator('[data-testid=bundles] li', { hasText: first.name });
  await gone.locator('[data-testid=save-bundle-again]').waitFor();
  let downloads = 0;
  page.on('download', () => downloads++);
  await gone.locator('[data-testid=save-bundle-again]').click();
  const said = gone.locator('[data-testid=bundle-not-remade]');
  await said.waitFor();
  assert.match(await said.innerText(), /Cannot save .+ again: 1 of its interviews was deleted from this phone/);
  assert.equal(await gone.locator('[data-testid=bundle-remade]').count(), 0);
  assert.equal(await gone.locator('[data-testid=save-bundle-again]').count(), 0, 'no button that can only fail again');
  await checkLayout(page);
  await gone.scrollIntoViewIfNeeded();
  await screenshot(page, 'bundles-not-remade-en', { fullPage: false });
  await page.click('[data-testid=switch-language]');
  await said.filter({ hasText: '其中 1 份调查已从手机上删除' }).waitFor();
  await screenshot(page, 'bundles-not-remade-zh', { fullPage: false });
  assert.equal(downloads, 0, 'nothing was downloaded');
  assert.deepEqual(app.errors, []);
});

test('an encrypted bundle is saved again byte for byte, and the office opens it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'doorstep-bundles-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'office.key');
  const keygen = doorstep(['keygen', '-o', key]);
  assert.equal(keygen.status, 0, keygen.stderr);
  const form = visit('sealed_visit', { encrypt_to: [keygen.stdout.trim()] });

  const profile = tempProfile();
  const first = await exportInNewProfile(t, profile, form, '李二');
  assert.match(first.name, /^sealed_visit_.+\.zip\.age$/);

  const app = await reopen(t, profile);
  const again = await saveAgain(app.page, first.name);
  assert.equal(again.name, first.name);
  assert.ok(again.bytes.equals(first.bytes), 'the same encrypted bytes as the first download');
  await app.page.click('[data-testid=switch-language]');
  await app.page.locator('[data-testid=bundle-remade]:has-text("the very file first exported")').waitFor();
  await checkLayout(app.page);
  await screenshot(app.page, 'bundles-encrypted-en', { fullPage: false });

  const path = join(dir, again.name);
  writeFileSync(path, again.bytes);
  const ingest = doorstep(['ingest', '--db', join(dir, 'office.db'), '--identity', key, path]);
  assert.equal(ingest.status, 0, `ingest: ${ingest.stdout}${ingest.stderr}`);
  assert.match(ingest.stdout, /total: 1 new/, ingest.stdout);

  // Its interview deleted, the record forgets the entropy that would open the file (a lost phone).
  const kept = async () => (await storedRecords(app.page, 'bundles')).find((b) => b.file_name === first.name).made_with;
  assert.equal((await kept()).entropy.length, 128);
  await tab(app.page, 3);
  await app.page.locator('.list li[data-instance] button.danger').click();
  await app.page.locator('.dialog button.danger').click();
  await app.page.waitForSelector('.list li[data-instance]', { state: 'detached' });
  const after = await kept();
  assert.equal(after.entropy, undefined, 'the entropy is gone with the interview');
  assert.equal(after.form_hash.length > 0, true, 'the rest of the record stays');
  assert.deepEqual(app.errors, []);
});
