// Two windows (tabs) of the app on one interview: opening the app a second time resumes the same
// draft, and each window writes the whole record. Neither may silently undo the other's answers:
// a window writes only over the revision it last read or wrote, and otherwise says what happened
// and lets the surveyor choose which answers to keep.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { answer, answerAll, deleteStored, emergencyAnswers, open, saved, start, storedSubmissions, valueOf } from './app.mjs';

/** Opens the app in a second tab of the same browser (same storage); it resumes the open draft. */
async function secondWindow(app) {
  const page = await app.context.newPage();
  await page.goto(app.url(''));
  await page.waitForSelector('.savebar', { timeout: 30_000 });
  return page;
}

/** The stored submissions, once `ok` holds of them (a select's change is saved a moment later). */
async function storedWhen(page, ok) {
  for (let i = 0; i < 50; i++) {
    const all = await storedSubmissions(page);
    if (ok(all)) return all;
    await new Promise((done) => setTimeout(done, 100));
  }
  assert.fail(`not stored: ${JSON.stringify(await storedSubmissions(page))}`);
}

/**
 * One household draft open in two windows: the first answered 王 and saved, then the second
 * (which resumed it) answered 王建国 and saved.
 */
async function oneDraftInTwoWindows(t) {
  const app = await launch();
  t.after(() => app.close());
  const a = app.page;
  await open(app);
  await start(a, 'household_needs');
  await answer(a, 'head_name', '王');
  await saved(a);
  const b = await secondWindow(app);
  assert.equal(await valueOf(b, 'head_name'), '王', 'the second window resumed the same draft');
  await answer(b, 'head_name', '王建国');
  await saved(b);
  return { app, a, b };
}

async function conflict(page, kind) {
  await page.waitForSelector(`[data-conflict=${kind}]`, { timeout: 5_000 });
  assert.equal(await page.getAttribute('.savebar', 'data-save-state'), 'failed', 'never "saved"');
}

test('two windows on one draft: the later write is refused, and the surveyor chooses', async (t) => {
  const { app, a, b } = await oneDraftInTwoWindows(t);

  // The first window answers on: its write would drop 建国, so it is refused and said.
  await answer(a, 'township', 'chengguan');
  await conflict(a, 'changed');
  assert.match(await a.locator('[data-testid=save-failure]').textContent(), /另一个窗口/);
  await screenshot(a, 'conflict-changed');
  let [stored] = await storedSubmissions(a);
  assert.equal(stored.envelope.data.head_name, '王建国', 'the other window’s answer is on disk');
  assert.equal(stored.envelope.data.township, undefined, 'nothing was written over it');
  // Typing on while the choice is open writes nothing and loses nothing on screen.
  await answer(a, 'head_name', '王大');
  await new Promise((done) => setTimeout(done, 600));
  [stored] = await storedSubmissions(a);
  assert.equal(stored.envelope.data.head_name, '王建国');
  assert.equal(await valueOf(a, 'head_name'), '王大');

  // Keep this window's answers: written over the other window's, which is told on its next write.
  await a.click('[data-testid=keep-this-window]');
  await saved(a);
  [stored] = await storedSubmissions(a);
  assert.equal(stored.envelope.data.head_name, '王大');
  assert.equal(stored.envelope.data.township, 'chengguan');
  await answer(b, 'head_name', '王建国同志');
  await conflict(b, 'changed');
  // The second window takes the saved answers instead: it shows them and saves on from there.
  await b.click('[data-testid=drop-this-window]');
  await b.waitForSelector('[data-save-state=saved]');
  await b.waitForFunction(() => document.querySelector('[data-name="head_name"] input')?.value === '王大');
  assert.equal(await valueOf(b, 'township'), 'chengguan');
  await answer(b, 'village', 'cg_nanjie');
  [stored] = await storedWhen(b, ([s]) => s?.envelope.data.village === 'cg_nanjie');
  assert.deepEqual(
    [stored.envelope.data.head_name, stored.envelope.data.township, stored.envelope.data.village],
    ['王大', 'chengguan', 'cg_nanjie'],
  );

  // Deleted meanwhile (by another window): this one's answers can bring it back.
  await deleteStored(b, stored.envelope.meta.instance_id);
  await answer(b, 'head_name', '王小');
  await conflict(b, 'deleted');
  assert.equal((await storedSubmissions(b)).length, 0, 'not brought back behind the surveyor’s back');
  await screenshot(b, 'conflict-deleted');
  await b.click('[data-testid=keep-this-window]');
  await saved(b);
  [stored] = await storedSubmissions(b);
  assert.equal(stored.envelope.data.head_name, '王小');
  assert.equal(stored.envelope.data.village, 'cg_nanjie');
  assert.deepEqual(app.errors, []);
});

test('finalized in one window, the other keeps its answers as a correction', async (t) => {
  const app = await launch({ locale: 'en-US' });
  t.after(() => app.close());
  const a = app.page;
  await open(app);
  await start(a, 'emergency_aid');
  await answerAll(a, { head_name: '李四', ...emergencyAnswers() });
  await saved(a);

  const b = await secondWindow(app);
  await b.click('[data-testid=next]');
  await b.click('[data-testid=finalize]');
  await b.waitForSelector('.list li[data-instance]');
  const [finalized] = await storedSubmissions(b);
  assert.equal(finalized.envelope.meta.status, 'finalized');

  // The first window's change would turn a finalized (maybe exported) interview back into a draft.
  await answer(a, 'head_name', '李四光');
  await conflict(a, 'finalized');
  assert.match(await a.locator('[data-testid=save-failure]').textContent(), /在另一个窗口.*提交了/);
  await screenshot(a, 'conflict-finalized');
  assert.deepEqual(await storedSubmissions(a), [finalized], 'the finalized interview is untouched');

  await a.click('[data-testid=keep-this-window]');
  await saved(a);
  const all = await storedSubmissions(a);
  assert.equal(all.length, 2);
  const kept = all.find((s) => s.envelope.meta.instance_id === finalized.envelope.meta.instance_id);
  assert.deepEqual(kept, finalized, 'still finalized, as it was');
  const correction = all.find((s) => s !== kept);
  assert.equal(correction.envelope.meta.deprecated_id, finalized.envelope.meta.instance_id);
  assert.equal(correction.envelope.meta.status, 'draft');
  assert.equal(correction.envelope.data.head_name, '李四光');
  // Opened again, the app resumes the correction.
  await a.reload();
  await a.waitForSelector('[data-name="head_name"] input', { timeout: 30_000 });
  assert.equal(await valueOf(a, 'head_name'), '李四光');
  assert.deepEqual(app.errors, []);
});

test('a window shown again, with nothing unsaved, shows what another window did', async (t) => {
  const { app, a, b } = await oneDraftInTwoWindows(t);

  // The surveyor comes back to the first window: it shows the answers saved in the other one.
  const shown = (page) => page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await shown(a);
  await a.waitForFunction(() => document.querySelector('[data-name="head_name"] input')?.value === '王建国');
  assert.match(await a.locator('#fill .notice.ok').textContent(), /另一个窗口.*那里保存的回答/);
  assert.equal(await a.getAttribute('.savebar', 'data-save-state'), 'saved');
  await screenshot(a, 'followed-other-window');
  // Both windows now hold the revision on disk: either may write on.
  await answer(a, 'head_name', '王建');
  await saved(a);
  await shown(b);
  await b.waitForFunction(() => document.querySelector('[data-name="head_name"] input')?.value === '王建');
  await answer(b, 'head_name', '王建军');
  await saved(b);
  const [stored] = await storedSubmissions(b);
  assert.equal(stored.envelope.data.head_name, '王建军');

  // Deleted in the other window: shown again, this one goes to the drafts and says why.
  await deleteStored(b, stored.envelope.meta.instance_id);
  await shown(a);
  await a.waitForSelector('.tabs [aria-current=page]');
  assert.match(await a.locator('.notice.ok').textContent(), /另一个窗口.*删除/);
  assert.equal((await storedSubmissions(a)).length, 0, 'not written back');
  assert.deepEqual(app.errors, []);
});
