// The browser killed (SIGKILL, as a dead battery would) at the worst moments of a change that
// touches several records: deleting an interview (the draft and its photos), removing a roster
// member, and right after a photo is chosen. Not by timing: a trap in the page catches the app's
// own IndexedDB request and kills the browser either while that transaction is held open (it never
// commits) or as soon as it has committed. Whatever the moment, after a restart everything is
// consistent: the interview fully there or fully gone with its photos, the member there or gone,
// and an answer never names a photo that is not stored.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchPersistent, tempProfile } from './lib.mjs';
import { ONE_PAGE, addMember, answer, backToList, install, open, saved, start, storedMedia, storedSubmissions } from './app.mjs';

/**
 * Lets the test arm a trap (`arm`): the next `op` ('put' or 'delete') the app asks of `store`
 * (whose value contains `match`, when given) kills the browser, `when` 'held' (its transaction
 * is kept open and never commits; killed `wait` ms later) or 'committed' (once it has committed).
 * Resolves `app.killed` when the browser is dead.
 */
async function trapped(profile) {
  const app = await launchPersistent(profile);
  let dying = null;
  let done;
  app.killed = new Promise((resolve) => (done = resolve));
  await app.context.exposeFunction('__kill', () => {
    dying ??= app.kill().then(done);
    return null;
  });
  await app.context.addInitScript(() => {
    window.__trap = null;
    for (const op of ['put', 'delete']) {
      const original = IDBObjectStore.prototype[op];
      IDBObjectStore.prototype[op] = function (...args) {
        const request = original.apply(this, args);
        const t = window.__trap;
        const value = op === 'put' && typeof args[0] === 'string' ? args[0] : '';
        if (t && t.op === op && t.store === this.name && (!t.match || value.includes(t.match))) {
          window.__trap = null;
          const tx = this.transaction;
          if (t.when === 'committed') {
            tx.addEventListener('complete', () => window.__kill());
          } else {
            // Never committed: the app's commit() is ignored and requests keep it active.
            tx.__held = true;
            const store = this;
            const spin = () => {
              try {
                store.count().onsuccess = spin;
              } catch {
                // the transaction ended: the browser is being killed
              }
            };
            spin();
            setTimeout(() => window.__kill(), t.wait ?? 0);
          }
        }
        return request;
      };
    }
    const commit = IDBTransaction.prototype.commit;
    IDBTransaction.prototype.commit = function () {
      if (!this.__held) commit.apply(this);
    };
  });
  return app;
}

const arm = (page, trap) => page.evaluate((trap) => (window.__trap = trap), trap);

/** A small JPEG made in the page (kept byte for byte by the app). */
async function smallJpeg(page, shade) {
  const b64 = await page.evaluate(async (shade) => {
    const canvas = new OffscreenCanvas(64, 48);
    const g = canvas.getContext('2d');
    g.fillStyle = `rgb(${shade}, 90, 40)`;
    g.fillRect(0, 0, 64, 48);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg' })).arrayBuffer());
    return btoa(String.fromCharCode(...bytes));
  }, shade);
  return Buffer.from(b64, 'base64');
}

async function pickPhoto(page, shade) {
  const buffer = await smallJpeg(page, shade);
  await page.locator('[data-name="photo"] input[type=file][capture]').setInputFiles({ name: 'IMG.JPG', mimeType: 'image/jpeg', buffer });
}

/** What is stored after a restart: the submissions and the media keys. */
async function afterRestart(profile) {
  const app = await launchPersistent(profile);
  await open(app);
  const submissions = await storedSubmissions(app.page);
  const { keys } = await storedMedia(app.page);
  return { app, submissions, keys };
}

/** Every photo an answer names is stored. */
function assertNamedPhotosStored(submissions, keys) {
  for (const s of submissions) {
    const photo = s.envelope.data.photo;
    if (photo) assert.ok(keys.includes(`${s.envelope.meta.instance_id}/${photo.file}`), `the photo ${photo.file} the answer names is stored`);
  }
}

async function draftWithPhoto(app) {
  const { page } = app;
  await open(app);
  await install(page, ONE_PAGE);
  await start(page, ONE_PAGE.id);
  await answer(page, 'q1', '张家');
  await pickPhoto(page, 10);
  await page.locator('[data-name="photo"] [data-testid=stored-file]').waitFor({ timeout: 20_000 });
  await saved(page, 10_000);
  const [record] = await storedSubmissions(page);
  assert.ok(record.envelope.data.photo, 'the photo is answered');
  return record.envelope.meta.instance_id;
}

for (const when of ['held', 'committed']) {
  test(`killed while deleting an interview (${when}): it is fully there or fully gone, photos with it`, async (t) => {
    const profile = tempProfile();
    const app = await trapped(profile);
    const { page } = app;
    const id = await draftWithPhoto(app);
    const before = (await storedMedia(page)).keys.filter((k) => k.startsWith(`${id}/`));
    assert.equal(before.length, 1);
    await page.click('header.bar button:first-child');
    await page.waitForSelector('.tabs');
    await page.click('.tabs button:nth-child(2)');
    await page.locator(`.list li[data-instance="${id}"] button.danger`).click();
    await arm(page, { store: 'submissions', op: 'delete', when, wait: 300 });
    await page.locator('.dialog button.danger').click();
    await app.killed;

    const after = await afterRestart(profile);
    t.after(() => after.app.close());
    const mine = after.keys.filter((k) => k.startsWith(`${id}/`));
    if (when === 'held') {
      assert.deepEqual(after.submissions.map((s) => s.envelope.meta.instance_id), [id], 'the interview is still there');
      assert.deepEqual(mine, before, 'with its photo');
      assertNamedPhotosStored(after.submissions, after.keys);
    } else {
      assert.deepEqual(after.submissions, [], 'the interview is gone');
      assert.deepEqual(mine, [], 'its photo too');
    }
    assert.deepEqual(after.app.errors, []);
  });

  test(`killed while removing a roster member (${when}): the member is there or gone, never half`, async (t) => {
    const profile = tempProfile();
    const app = await trapped(profile);
    const { page } = app;
    await open(app);
    await install(page, ONE_PAGE);
    await start(page, ONE_PAGE.id);
    for (const name of ['甲', '乙']) {
      await addMember(page);
      await answer(page, 'member_name', name);
      await backToList(page);
    }
    await saved(page);
    const names = (s) => (s.envelope.data.members ?? []).map((m) => m.member_name);
    assert.deepEqual(names((await storedSubmissions(page))[0]), ['甲', '乙']);
    await page.locator('[data-repeat="members"] li').nth(1).locator('button.iconbtn.danger').click();
    // The first write of the draft after the removal.
    await arm(page, { store: 'submissions', op: 'put', when, wait: 300 });
    await page.locator('.dialog .btn.danger').click();
    await app.killed;

    const after = await afterRestart(profile);
    t.after(() => after.app.close());
    assert.equal(after.submissions.length, 1);
    const stored = names(after.submissions[0]);
    assert.deepEqual(stored, when === 'held' ? ['甲', '乙'] : ['甲']);
    // The reopened interview shows what is stored.
    await after.app.page.waitForSelector('[data-repeat="members"] li');
    assert.equal(await after.app.page.locator('[data-repeat="members"] li').count(), stored.length);
    assert.deepEqual(after.app.errors, []);
  });
}

// The photo's bytes are written first, then the answer naming them: killed at each of the four
// moments, the answer names a photo only when it is stored.
for (const [store, when] of [
  ['media', 'held'],
  ['media', 'committed'],
  ['submissions', 'held'],
  ['submissions', 'committed'],
]) {
  test(`killed right after a photo is chosen (${store} write ${when}): the answer never names a photo not stored`, async (t) => {
    const profile = tempProfile();
    const app = await trapped(profile);
    const { page } = app;
    await open(app);
    await install(page, ONE_PAGE);
    await start(page, ONE_PAGE.id);
    await answer(page, 'q1', '李家');
    await saved(page);
    // Held, the media write is kept open past the autosave's delay: nothing may name it meanwhile.
    await arm(page, { store, op: 'put', when, match: store === 'submissions' ? 'photo-' : undefined, wait: 1_500 });
    await pickPhoto(page, 200);
    await app.killed;

    const after = await afterRestart(profile);
    t.after(() => after.app.close());
    assert.equal(after.submissions.length, 1);
    const [s] = after.submissions;
    assert.equal(s.envelope.data.q1, '李家', 'the answers before the photo are there');
    assertNamedPhotosStored(after.submissions, after.keys);
    const named = Boolean(s.envelope.data.photo);
    assert.equal(named, store === 'submissions' && when === 'committed', 'the answer names the photo only once both are written');
    assert.deepEqual(after.app.errors, []);
  });
}

const SIGNED = {
  format: 'doorstep-form/1',
  id: 'kill_signed',
  version: '1',
  title: { 'zh-CN': '签名', en: 'Signed' },
  languages: ['zh-CN', 'en'],
  items: [
    { type: 'text', name: 'head_name', label: { 'zh-CN': '户主姓名', en: 'Head of household' } },
    { type: 'image', name: 'signature', label: { 'zh-CN': '签名', en: 'Signature' }, appearance: 'signature' },
  ],
};

// A signature is the answer as soon as the stroke ends, its picture written in the background: with
// that write slow (held open past the autosave's delay), a kill must not leave a draft naming it.
// It did: the autosave wrote the draft naming the signature while the picture's write was still
// open. The draft's transaction now stores the pictures not yet on disk with it
// (`interviews::pending_media`, `storage::update_with_media`).
test('killed while a signature is being written: the draft never names a picture not stored', async (t) => {
  const profile = tempProfile();
  const app = await trapped(profile);
  const { page } = app;
  await open(app);
  await install(page, SIGNED);
  await start(page, SIGNED.id);
  await answer(page, 'head_name', '赵');
  await saved(page);
  await arm(page, { store: 'media', op: 'put', when: 'held', wait: 1_500 });
  const canvas = page.locator('[data-name="signature"] canvas');
  await canvas.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  const b = await canvas.boundingBox();
  await page.mouse.move(b.x + 20, b.y + 90);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(b.x + 20 + i * 25, b.y + 90 + (i % 2 ? -40 : 40));
  await page.mouse.up();
  await app.killed;

  const after = await afterRestart(profile);
  t.after(() => after.app.close());
  assert.equal(after.submissions.length, 1);
  const [s] = after.submissions;
  assert.equal(s.envelope.data.head_name, '赵');
  const signature = s.envelope.data.signature;
  if (signature) assert.ok(after.keys.includes(`${s.envelope.meta.instance_id}/${signature.file}`), `the signature ${signature.file} the draft names is stored`);
  assert.deepEqual(after.app.errors, []);
});
