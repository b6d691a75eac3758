// Installing a form the phone already has a version of: the same file twice is one form, a newer
// version takes over new interviews, and an older version is installed (for its drafts) with a
// notice that new interviews keep the newer one, rather than a bare "installed" that changed nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { install, open } from './app.mjs';

const form = (version, label) => ({
  format: 'doorstep-form/1',
  id: 'install_twice',
  version,
  title: { 'zh-CN': '走访登记', en: 'Visit log' },
  languages: ['zh-CN', 'en'],
  items: [{ type: 'text', name: 'note', label: { 'zh-CN': label, en: label } }],
});

const listed = (page) => page.locator('[data-form-id="install_twice"] .muted').allTextContents();

for (const lang of ['zh', 'en']) {
  test(`an older version installed after a newer one is said (${lang})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await open(app);
    if (lang === 'en') await page.click('[data-testid=switch-language]');
    const notice = page.locator('.notice[role=status]');

    await install(page, form('3', 'v3'));
    await notice.waitFor();
    assert.equal(await notice.textContent(), lang === 'zh' ? '表单已安装。' : 'The form is installed.');
    // The same file again is still one form.
    await install(page, form('3', 'v3'));
    assert.deepEqual(await listed(page), [lang === 'zh' ? 'install_twice · 版本 3' : 'install_twice · version 3']);

    await install(page, form('2', 'v2'));
    await page.waitForFunction(() => document.querySelector('.notice[role=status]')?.textContent.includes('3）') || document.querySelector('.notice[role=status]')?.textContent.includes('(3)'));
    assert.equal(
      await notice.textContent(),
      lang === 'zh'
        ? '表单已安装，但手机上已有更新的版本（版本 3），新调查仍使用版本 3。'
        : 'The form is installed, but a newer version (3) is already on the phone: new interviews use version 3.',
    );
    assert.deepEqual(await listed(page), [lang === 'zh' ? 'install_twice · 版本 3' : 'install_twice · version 3'], 'new interviews keep version 3');
    await screenshot(page, `install-older-${lang}`, { fullPage: false });

    // A newer one takes over, and is said as installed.
    await install(page, form('4', 'v4'));
    await page.waitForFunction(() => /表单已安装。|The form is installed\./.test(document.querySelector('.notice[role=status]')?.textContent));
    await page.waitForFunction(() => document.querySelector('[data-form-id="install_twice"] .muted')?.textContent.endsWith(' 4'));
    assert.deepEqual(app.errors, []);
  });
}
