// The database deleted while a draft is open (storage cleared, or `indexedDB.deleteDatabase` in
// another tab): the surveyor is told, keeps the answers, and the kept draft can still be opened,
// with the form it was started on stored again (a form installed from a file is nowhere else).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './lib.mjs';
import { answer, install, open, saved, start, storedRecords, storedSubmissions, valueOf } from './app.mjs';

const SMALL = {
  format: 'doorstep-form/1',
  id: 'deleted_db',
  version: '1',
  title: { 'zh-CN': '小表', en: 'Small' },
  languages: ['zh-CN', 'en'],
  items: [{ type: 'text', name: 'note', label: { 'zh-CN': '备注', en: 'Note' } }],
};

test('a draft kept after its database was deleted in another tab opens again, with its form', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await open(app);
  await install(page, SMALL);
  await start(page, 'deleted_db');
  await answer(page, 'note', 'a');
  await saved(page);
  const other = await app.context.newPage();
  await other.goto(app.url('manifest.webmanifest'));
  const outcome = await other.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.deleteDatabase('doorstep');
        req.onsuccess = () => resolve('deleted');
        req.onerror = () => reject(req.error);
        req.onblocked = () => resolve('blocked');
      }),
  );
  assert.equal(outcome, 'deleted', 'the app lets go of the database');
  await answer(page, 'note', 'ab');
  // Never "saved": the surveyor is told the interview is gone and chooses to keep it.
  await page.waitForSelector('[data-testid=keep-this-window]', { timeout: 10_000 });
  assert.equal(await page.locator('[data-save-state=saved]').count(), 0);
  await page.click('[data-testid=keep-this-window]');
  await saved(page);
  assert.deepEqual((await storedSubmissions(page)).map((s) => s.envelope.data.note), ['ab']);
  assert.ok((await storedRecords(page, 'forms')).some((f) => f.id === 'deleted_db'), 'the form is stored again');
  // Started again, the app opens the draft where it was left.
  await page.reload();
  await page.waitForSelector('[data-name="note"] input', { timeout: 30_000 });
  assert.equal(await valueOf(page, 'note'), 'ab');
  assert.deepEqual(app.errors, []);
});
