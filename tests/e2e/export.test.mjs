// The export screen when an interview cannot go out: its signature is gone from the phone (a
// cleaner app, a storage failure). The other interviews are exported, one bundle per form, and the
// refused one is named as in the lists, with what to do, in the interface language: not by its
// instance id with the bundle writer's English words.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { deleteStored, finalizeSigned, install, open, storedSubmissions } from './app.mjs';

const form = (id, title) => ({
  format: 'doorstep-form/1',
  id,
  version: '1',
  title: { 'zh-CN': title, en: title },
  languages: ['zh-CN', 'en'],
  instance_name: '${head_name}',
  items: [
    { type: 'text', name: 'head_name', label: { 'zh-CN': '户主姓名', en: 'Head of household' }, required: true },
    { type: 'image', name: 'signature', label: { 'zh-CN': '签名', en: 'Signature' }, appearance: 'signature' },
  ],
});

const tab = (page, n) => page.click(`.tabs button:nth-child(${n})`);

async function finalized(page, formId, name) {
  await tab(page, 1);
  await finalizeSigned(page, formId, name);
}

for (const lang of ['zh', 'en']) {
  test(`an interview whose signature is gone is refused by name, with what to do (${lang})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await open(app);
    if (lang === 'en') await page.click('[data-testid=switch-language]');
    await install(page, form('visit_a', '走访甲'));
    await install(page, form('visit_b', '走访乙'));
    await finalized(page, 'visit_a', '王建国');
    await finalized(page, 'visit_b', '李秀英');
    await finalized(page, 'visit_a', '张伟');
    const zhang = (await storedSubmissions(page)).find((s) => s.name === '张伟');
    const id = zhang.envelope.meta.instance_id;
    await deleteStored(page, `${id}/${zhang.envelope.data.signature.file}`, 'media');

    await tab(page, 4);
    await page.waitForFunction(() => document.querySelectorAll('.list input[type=checkbox]:checked').length === 3);
    const downloads = [];
    page.on('download', (d) => downloads.push(d.suggestedFilename()));
    await page.click('[data-testid=export]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=export-done]').length === 2);
    const refused = page.locator(`p.diag[data-instance="${id}"]`);
    await refused.waitFor();
    const text = await refused.textContent();
    assert.doesNotMatch(text, /uuid:|is missing|not found on the device/, text);
    assert.match(
      text,
      lang === 'zh'
        ? /^张伟：手机上找不到它的照片或签名文件（signature-[0-9a-f]{12}\.png）。请在“已完成”里点这份调查的“修改”/
        : /^张伟: Its photo or signature files \(signature-[0-9a-f]{12}\.png\) are no longer on the phone\. Tap “Edit”/,
    );
    await screenshot(page, `export-refused-${lang}`);

    // The two others went out, one bundle per form; the refused one is still to export.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=bundles] li').length === 2);
    assert.equal(downloads.length, 2);
    const stored = await storedSubmissions(page);
    assert.deepEqual(stored.filter((s) => s.exported_in?.length).map((s) => s.name).sort(), ['李秀英', '王建国']);
    assert.equal(await page.locator('.list input[type=checkbox]:checked').count(), 1);
    assert.equal(await page.locator(`.list input[data-instance="${id}"]`).isChecked(), true);
    assert.deepEqual(app.errors, []);
  });
}
