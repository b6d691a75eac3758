// Photos are made smaller before they are stored: a camera-sized picture is kept at 1600 px on its
// longest side as a JPEG, a small one is kept byte for byte, and one the browser cannot decode is
// kept as it is, with a message. The stored size is shown.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { launch, screenshot } from './lib.mjs';
import { ONE_PAGE, openForm, saved, storedMedia, storedSubmissions } from './app.mjs';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

/** A JPEG of `width` x `height` made in the page: colour bands with noise, as heavy as a photo. */
async function jpeg(page, width, height, quality) {
  const base64 = await page.evaluate(
    async ([w, h, q]) => {
      const canvas = new OffscreenCanvas(w, h);
      const g = canvas.getContext('2d');
      const img = g.createImageData(w, h);
      let seed = 42;
      for (let i = 0; i < img.data.length; i += 4) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const x = (i / 4) % w;
        const noise = seed % 96;
        img.data[i] = (x * 7) % 160 + noise;
        img.data[i + 1] = (i / 4 / w) % 200 + noise / 2;
        img.data[i + 2] = 90 + noise;
        img.data[i + 3] = 255;
      }
      g.putImageData(img, 0, 0);
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: q });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    },
    [width, height, quality],
  );
  return Buffer.from(base64, 'base64');
}

/** The stored bytes of an attachment, and their decoded size. */
async function storedPhoto(page, key) {
  const { bytes } = await storedMedia(page, key);
  const { width, height } = await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes])).catch(() => null);
    return { width: bitmap?.width, height: bitmap?.height };
  }, bytes.toString('base64'));
  return { length: bytes.length, width, height };
}

/** Gives the photo question a file, through its camera button or its "choose from the phone" one. */
async function pick(page, name, mimeType, buffer, from = 'camera') {
  const input = from === 'camera' ? 'input[type=file][capture]' : 'input[type=file]:not([capture])';
  await page.locator(`[data-name="photo"] ${input}`).setInputFiles({ name, mimeType, buffer });
}

async function photoAnswer(page) {
  await saved(page, 10_000);
  const [record] = await storedSubmissions(page);
  return { id: record.envelope.meta.instance_id, photo: record.envelope.data.photo };
}

for (const lang of ['zh', 'en']) {
  test(`a camera photo is stored at 1600 px, a small one as it is, a broken one kept (${lang})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await openForm(app, ONE_PAGE, lang);
    const note = page.locator('[data-name="photo"] [role=status]');
    assert.equal(await page.locator('[data-name="photo"] input[type=file][capture=environment]').count(), 1, 'one button opens the back camera');
    assert.equal(await page.locator('[data-name="photo"] input[type=file]:not([capture])').count(), 1, 'one picks a photo already on the phone');
    const shown = page.locator('[data-name="photo"] [data-testid=stored-file]');

    const big = await jpeg(page, 4000, 3000, 0.95);
    assert.ok(big.length > 3 * 1024 * 1024, `the camera photo is heavy (${big.length} bytes)`);
    await pick(page, 'IMG_0001.JPG', 'image/jpeg', big);
    await note.getByText('→').waitFor({ timeout: 20_000 });
    let { id, photo } = await photoAnswer(page);
    assert.equal(photo.media_type, 'image/jpeg');
    assert.match(photo.file, /^photo-[0-9a-f]{12}\.jpg$/);
    assert.ok(photo.size < big.length / 4, `stored ${photo.size} bytes of ${big.length}`);
    const media = await storedPhoto(page, `${id}/${photo.file}`);
    assert.deepEqual(media, { length: photo.size, width: 1600, height: 1200 });
    assert.match(await shown.textContent(), new RegExp(`${photo.file} · \\d+\\.\\d\\u00a0KB`), 'the stored size is shown');
    await page.locator('[data-name="photo"]').scrollIntoViewIfNeeded();
    await screenshot(page, `photo-smaller-${lang}`, { fullPage: false });

    // A small photo is stored byte for byte.
    const small = await jpeg(page, 800, 600, 0.6);
    await pick(page, 'small.jpg', 'image/jpeg', small, 'phone');
    await page.waitForFunction((sha) => document.querySelector('[data-name="photo"] [data-testid=stored-file]')?.textContent.includes(sha.slice(0, 12)), sha256(small));
    ({ photo } = await photoAnswer(page));
    assert.equal(photo.sha256, sha256(small));
    assert.equal(photo.size, small.length);
    assert.equal(await note.textContent(), '', 'nothing to say');

    // A picture the browser cannot decode is kept, and the surveyor is told.
    const broken = Buffer.from('not really a jpeg '.repeat(40_000));
    await pick(page, 'broken.jpg', 'image/jpeg', broken);
    await note.getByText(lang === 'zh' ? '按原样保存' : 'stored as it was').waitFor({ timeout: 10_000 });
    ({ photo } = await photoAnswer(page));
    assert.equal(photo.sha256, sha256(broken), 'the original bytes are kept');
    assert.equal(photo.size, broken.length);
    await page.waitForFunction(() => !document.querySelector('[data-name="photo"] img.thumb'), null, { timeout: 5_000 });
    await screenshot(page, `photo-kept-${lang}`, { fullPage: false });
    assert.deepEqual(app.errors, []);
  });
}

test('sound and video are recorded on the phone or chosen from it; other files are chosen', async (t) => {
  const form = {
    format: 'doorstep-form/1',
    id: 'media_kinds',
    version: '1',
    title: '录音录像',
    languages: ['zh-CN'],
    items: [
      { type: 'audio', name: 'voice', label: '户主口述' },
      { type: 'video', name: 'clip', label: '房屋视频' },
      { type: 'file', name: 'doc', label: '证明材料' },
    ],
  };
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await openForm(app, form);
  const inputs = (name) => page.locator(`[data-name="${name}"] input[type=file]`);
  await inputs('voice').first().waitFor({ state: 'attached' });
  assert.deepEqual(
    await inputs('voice').evaluateAll((l) => l.map((i) => [i.accept, i.getAttribute('capture')])),
    [['audio/*', 'user'], ['audio/*', null]],
  );
  assert.deepEqual(
    await inputs('clip').evaluateAll((l) => l.map((i) => [i.accept, i.getAttribute('capture')])),
    [['video/*', 'environment'], ['video/*', null]],
  );
  assert.deepEqual(await inputs('doc').evaluateAll((l) => l.map((i) => i.getAttribute('capture'))), [null]);
  assert.equal(await page.locator('[data-name="voice"] label.btn').first().textContent(), '录音');

  const sound = Buffer.from('RIFF....WAVEfmt '.repeat(64));
  await page.locator('[data-name="voice"] input[type=file]:not([capture])').setInputFiles({ name: 'voice.wav', mimeType: 'audio/wav', buffer: sound });
  await page.locator('[data-name="voice"] [data-testid=stored-file]').waitFor();
  await saved(page);
  const [record] = await storedSubmissions(page);
  assert.equal(record.envelope.data.voice.media_type, 'audio/wav');
  assert.equal(record.envelope.data.voice.size, sound.length);
  assert.equal(record.envelope.data.voice.sha256, sha256(sound));
  await screenshot(page, 'media-kinds', { fullPage: false });
  assert.deepEqual(app.errors, []);
});

for (const lang of ['zh', 'en']) {
  test(`a file that is not a picture is not stored as the photo (${lang})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await openForm(app, ONE_PAGE, lang);
    const small = await jpeg(page, 800, 600, 0.6);
    await pick(page, 'house.jpg', 'image/jpeg', small, 'phone');
    await page.locator('[data-name="photo"] [data-testid=stored-file]').waitFor();

    // The phone's picker offers a document; it is refused and the photo stays.
    await pick(page, '低保申请表.pdf', 'application/pdf', Buffer.from('%PDF-1.4 '.repeat(500)), 'phone');
    const error = page.locator('[data-name="photo"] [role=alert]');
    await error.waitFor();
    assert.equal(
      await error.textContent(),
      lang === 'zh'
        ? '“低保申请表.pdf”不是照片，没有保存。请拍照，或选择一张照片。'
        : '“低保申请表.pdf” is not a photo and was not stored. Take a photo, or choose one.',
    );
    await saved(page);
    const { photo } = await photoAnswer(page);
    assert.equal(photo.sha256, sha256(small), 'the photo taken before is still the answer');
    await screenshot(page, `photo-not-a-picture-${lang}`, { fullPage: false });
    assert.deepEqual(app.errors, []);
  });
}
