// The lists of interviews and the export screen show a form's title in the interface language
// (with the form's default language as the fallback), for new records and for records written
// before the titles were kept, which stay readable.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { answer, open, saved, start, storedSubmissions } from './app.mjs';

const ZH_TITLE = '家庭需求评估（生育关怀行动）';
const EN_TITLE = 'Household needs assessment (family care action)';

/** Writes records as an older app did: `form_title` in the form's default language, nothing else. */
async function putOldRecords(page) {
  await page.evaluate(
    (title) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('doorstep');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const forms = db.transaction('forms').objectStore('forms').getAll();
          forms.onsuccess = () => {
            const form = forms.result.map((f) => JSON.parse(f)).find((f) => f.id === 'household_needs');
            const tx = db.transaction('submissions', 'readwrite');
            const store = tx.objectStore('submissions');
            for (const [id, status, name] of [['uuid:old-draft', 'draft', '王家'], ['uuid:old-final', 'finalized', '李家']]) {
              const meta = {
                instance_id: id,
                form: { id: form.id, version: form.version, hash: form.hash },
                status,
                started_at: '2026-11-20T09:00:00+08:00',
                updated_at: '2026-11-20T10:00:00+08:00',
                device_id: 'web-old',
                surveyor: '',
              };
              if (status === 'finalized') meta.finalized_at = meta.updated_at;
              store.put(JSON.stringify({ envelope: { meta, data: {} }, name, form_title: title, page: 0 }), id);
            }
            tx.oncomplete = () => {
              db.close();
              resolve();
            };
            tx.onerror = () => reject(tx.error);
          };
        };
      }),
    ZH_TITLE,
  );
}

const tab = (page, n) => page.click(`.tabs button:nth-child(${n})`);
const subtitles = (page) => page.locator('.list li .muted').allTextContents();

test('lists and export show the form title in the interface language', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await open(app);
  await page.waitForSelector('[data-form-id="household_needs"]');
  await putOldRecords(page);
  await page.click('[data-testid=switch-language]');
  await page.waitForSelector('text=Start a new interview');

  // Records from before: their form's titles come from the installed form.
  await tab(page, 2);
  await page.waitForSelector('.list li[data-instance="uuid:old-draft"]');
  assert.match((await subtitles(page))[0], new RegExp(`^${EN_TITLE.replace(/[()]/g, '\\$&')} · updated`));
  await screenshot(page, 'titles-drafts-en', { fullPage: false });
  await tab(page, 3);
  await page.waitForSelector('.list li[data-instance="uuid:old-final"]');
  assert.ok((await subtitles(page))[0].startsWith(EN_TITLE));
  await tab(page, 4);
  await page.waitForSelector('[data-instance="uuid:old-final"]');
  assert.ok((await page.locator('.list li .muted').first().textContent()).startsWith(EN_TITLE));
  await screenshot(page, 'titles-export-en', { fullPage: false });

  // A new record keeps the titles in every language.
  await tab(page, 1);
  await start(page, 'emergency_aid');
  await answer(page, 'head_name', '赵六');
  await saved(page);
  const fresh = (await storedSubmissions(page)).find((r) => r.envelope.meta.form.id === 'emergency_aid');
  assert.deepEqual(fresh.form_titles, { 'zh-CN': '紧急救助报告', en: 'Emergency aid report' });
  assert.equal(fresh.form_title, '紧急救助报告', 'what an older app reads');
  await page.click('header.bar button:first-child');
  await page.waitForSelector('.list li[data-instance]');
  assert.ok((await subtitles(page)).some((s) => s.startsWith('Emergency aid report · ')));

  // In Chinese, the same lists in Chinese.
  await page.click('[data-testid=switch-language]');
  await page.waitForFunction((title) => [...document.querySelectorAll('.list li .muted')].some((e) => e.textContent.startsWith(title)), ZH_TITLE);
  assert.ok((await subtitles(page)).some((s) => s.startsWith('紧急救助报告 · ')));
  await screenshot(page, 'titles-drafts-zh', { fullPage: false });
  assert.deepEqual(app.errors, []);
});
