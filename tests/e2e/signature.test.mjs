// A signature is the answer as soon as the signer lifts the finger: nobody has to tap a save button.
// Drawn and then left at once for the next page, it is still there on coming back and after a
// reload (in the stored draft, and on the pad); the pad is its one picture, with one clear button
// and no file name; clearing removes the answer. Pictures replaced by a newer stroke do not pile up.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { launch, screenshot } from './lib.mjs';
import { answer, fullDiskWhen, next, nextFrame, open, saved, start, storedMedia, storedSubmissions } from './app.mjs';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const NAME = 'receipt_signature';
const BOX = `[data-name="${NAME}"]`;

/** Draws one stroke on the pad with the mouse (a zigzag, shifted by `shift` px), and does nothing else. */
async function stroke(page, shift = 0) {
  await nextFrame(page);
  const canvas = page.locator(`${BOX} canvas`);
  await canvas.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  const b = await canvas.boundingBox();
  await page.mouse.move(b.x + 20 + shift, b.y + 90);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(b.x + 20 + shift + i * 25, b.y + 90 + (i % 2 ? -40 : 40));
  await page.mouse.up();
}

/** How many dark pixels the pad shows. */
async function ink(page) {
  return page.locator(`${BOX} canvas`).evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++;
    return n;
  });
}

async function waitForInk(page) {
  await page.waitForFunction(
    (box) => {
      const c = document.querySelector(`${box} canvas`);
      if (!c || !c.width) return false;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++;
      return n > 100;
    },
    BOX,
    { timeout: 10_000 },
  );
}

async function draft(page) {
  await saved(page, 10_000);
  return storedDraft(page);
}

/** The stored draft's id and signature answer, as they are on disk now. */
async function storedDraft(page) {
  const [record] = await storedSubmissions(page);
  return { id: record.envelope.meta.instance_id, value: record.envelope.data[NAME] };
}

/** Only one button (clear) shows in the question, and no file name or second picture. */
async function onePicture(page, lang) {
  const buttons = page.locator(`${BOX} button:visible`);
  assert.equal(await buttons.count(), 1, 'one button');
  assert.equal((await buttons.textContent()).trim(), lang === 'zh' ? '清除' : 'Clear');
  assert.equal(await page.locator(`${BOX} img:visible`).count(), 0, 'no thumbnail beside the pad');
  assert.doesNotMatch(await page.locator(BOX).innerText(), /\.png|KB/, 'no file name or size');
}

for (const lang of ['zh', 'en']) {
  test(`a drawn signature is the answer without saving, across pages and a reload; cleared, it is gone (${lang})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await open(app);
    if (lang === 'en') await page.click('[data-testid=switch-language]');
    await start(page, 'care_visit');
    await next(page);
    await next(page);
    await answer(page, 'aid_given', 'yes');
    const canvas = page.locator(`${BOX} canvas`);
    await canvas.waitFor();
    await canvas.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    assert.equal(await ink(page), 0, 'the pad starts empty');
    assert.equal(await page.locator(`${BOX} button:visible`).count(), 0, 'nothing to clear yet, nothing to save');
    await screenshot(page, `signature-empty-${lang}`, { fullPage: false });

    // Drawn, and straight on to the next page: no save button, no waiting.
    await stroke(page);
    await next(page);
    await page.waitForSelector('[data-name="follow_up"]');
    await page.click('.navbar button:first-child');
    await canvas.waitFor();
    await waitForInk(page);
    let { id, value } = await draft(page);
    assert.ok(value, 'the signature is in the stored draft');
    assert.equal(value.media_type, 'image/png');
    assert.match(value.file, /^receipt_signature-[0-9a-f]{12}\.png$/);
    let stored = await storedMedia(page, `${id}/${value.file}`);
    assert.ok(stored.bytes, 'its picture is stored');
    assert.equal(stored.bytes.length, value.size);
    assert.equal(sha256(stored.bytes), value.sha256);
    const first = value.file;

    // A second stroke makes a new picture; the one it replaced is deleted once the draft moved on.
    await stroke(page, 30);
    ({ value } = await draft(page));
    assert.notEqual(value.file, first);
    const key = `${id}/${value.file}`;
    for (let i = 0; i < 50 && (await storedMedia(page, key)).keys.length !== 1; i++) await page.waitForTimeout(100);
    assert.deepEqual((await storedMedia(page, key)).keys, [key], 'only the newest picture is kept');
    await onePicture(page, lang);
    await canvas.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await screenshot(page, `signature-signed-${lang}`, { fullPage: false });

    // Reloaded: the pad shows the stored signature, still the answer.
    await page.reload();
    await canvas.waitFor({ timeout: 30_000 });
    await waitForInk(page);
    assert.equal((await draft(page)).value.file, value.file);
    await onePicture(page, lang);
    await canvas.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await screenshot(page, `signature-reloaded-${lang}`, { fullPage: false });

    // The review does not ask for it.
    const asks = lang === 'zh' ? '请领取人签名确认' : 'Ask the recipient to sign';
    await next(page);
    await next(page);
    await page.waitForSelector('[data-testid=finalize]');
    assert.ok(!(await page.locator('main').innerText()).includes(asks), 'the review does not ask for the signature');
    await page.click('.navbar button:first-child');
    await page.waitForSelector('[data-name="follow_up"]');
    await page.click('.navbar button:first-child');
    await waitForInk(page);

    // Clearing is asked first; "no" keeps the signature.
    const clear = () => page.locator(`${BOX} [data-testid=clear-signature]`).click();
    await clear();
    await screenshot(page, `signature-confirm-clear-${lang}`, { fullPage: false });
    await page.locator('.dialog .btn:not(.danger)').click();
    await page.waitForSelector('.dialog', { state: 'detached' });
    assert.ok((await ink(page)) > 0, 'kept after "no"');
    assert.equal((await draft(page)).value.file, value.file);

    // Cleared: the pad is empty, the answer is gone (and its picture), and the review asks for it.
    await clear();
    await page.locator('.dialog .btn.danger').click();
    await page.waitForSelector('.dialog', { state: 'detached' });
    assert.equal(await ink(page), 0, 'the pad is empty');
    assert.equal(await page.locator(`${BOX} button:visible`).count(), 0, 'nothing left to clear');
    assert.equal((await draft(page)).value, undefined, 'the answer is cleared');
    for (let i = 0; i < 50 && (await storedMedia(page, key)).keys.length !== 0; i++) await page.waitForTimeout(100);
    assert.deepEqual((await storedMedia(page, key)).keys, [], 'its picture is deleted');
    await next(page);
    await next(page);
    await page.waitForSelector('[data-testid=finalize]');
    assert.ok((await page.locator('main').innerText()).includes(asks), 'the review asks for the signature');
    assert.deepEqual(app.errors, []);
  });
}

test("a signature's picture that cannot be stored keeps the indicator from saying saved, and is stored when space is back", async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  // Writes to the media store fail with QuotaExceededError while window.__fullMedia is true; the
  // draft itself still saves.
  await fullDiskWhen(page, '__fullMedia', 'media');
  await open(app);
  await start(page, 'care_visit');
  await next(page);
  await next(page);
  await answer(page, 'aid_given', 'yes');
  await saved(page);
  await page.evaluate(() => {
    window.__fullMedia = true;
  });
  await stroke(page);
  await page.waitForSelector('[data-save-state=failed]', { timeout: 10_000 });
  assert.match(await page.locator('[data-testid=save-state]').textContent(), /存储空间已满/);
  let value;
  for (let i = 0; i < 50 && !value; i++) {
    ({ value } = await storedDraft(page));
    if (!value) await page.waitForTimeout(100);
  }
  assert.ok(value, 'the draft on disk names the signature');
  await page.waitForTimeout(1_500);
  assert.equal(await page.locator('[data-save-state=saved]').count(), 0, 'never "saved" while the picture is not');

  // Space is back: the retry stores the picture, and only then does the indicator say saved.
  await page.evaluate(() => {
    window.__fullMedia = false;
  });
  await saved(page, 15_000);
  const { id } = await storedDraft(page);
  const stored = await storedMedia(page, `${id}/${value.file}`);
  assert.equal(stored.bytes.length, value.size, 'the picture is stored');
  assert.deepEqual(app.errors.filter((e) => !/quota/i.test(e)), []);
});

test('a tap that does not move (the dot of 点, a signature that is one mark) is a dot, and the answer', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await open(app);
  await start(page, 'care_visit');
  await next(page);
  await next(page);
  await answer(page, 'aid_given', 'yes');
  const canvas = page.locator(`${BOX} canvas`);
  await canvas.waitFor();
  await nextFrame(page);
  await canvas.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  const b = await canvas.boundingBox();
  await page.mouse.click(b.x + 60, b.y + 90);
  await page.locator(`${BOX} [data-testid=clear-signature]`).waitFor({ timeout: 5_000 });
  const dots = await ink(page);
  assert.ok(dots > 0 && dots < 100, `one small dot is drawn (${dots} dark pixels)`);
  const { id, value } = await draft(page);
  assert.ok(value, 'the dot is the answer');
  const stored = await storedMedia(page, `${id}/${value.file}`);
  assert.equal(sha256(stored.bytes), value.sha256, 'its picture is stored');
  await screenshot(page, 'signature-dot', { fullPage: false });
  assert.deepEqual(app.errors, []);
});
