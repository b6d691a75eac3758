// The surveyor's name: asked for on the forms screen while there is none (every interview keeps
// the name it was started under, in its meta and in the form's `username` question, and the office
// cannot tell who made one without it), and a name changed between interviews goes only into the
// interviews started after the change.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { answer, install, open, saved, start, storedSubmissions } from './app.mjs';

const FORM = {
  format: 'doorstep-form/1',
  id: 'named_visit',
  version: '1',
  title: { 'zh-CN': '走访', en: 'Visit' },
  languages: ['zh-CN', 'en'],
  instance_name: '${head_name}',
  items: [
    { type: 'text', name: 'head_name', label: { 'zh-CN': '户主姓名', en: 'Head of household' } },
    { type: 'username', name: 'surveyor' },
  ],
};

/** Leaves the interview for the lists (the ⌂ button of the header). */
async function home(page) {
  await page.click('header.bar button:first-child');
  await page.waitForSelector('.tabs');
}

const tab = (page, n) => page.click(`.tabs button:nth-child(${n})`);

async function setName(page, name) {
  await tab(page, 5);
  await page.fill('#surveyor', name);
  await page.click('form.card button[type=submit]');
  await page.locator('.notice[role=status]').waitFor();
}

test('the surveyor is asked for a name before the first interview; each keeps the name it was started under', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await open(app);
  await install(page, FORM);
  const ask = page.locator('[data-testid=no-surveyor]');
  await ask.waitFor();
  assert.match(await ask.textContent(), /还没有填写调查员姓名/);
  await screenshot(page, 'forms-no-surveyor', { fullPage: false });
  await ask.locator('button').click();
  await page.waitForSelector('#surveyor');

  await setName(page, '  陈晓梅 ');
  await tab(page, 1);
  await page.waitForSelector('[data-form-id="named_visit"]');
  assert.equal(await ask.count(), 0, 'no longer asked');
  await start(page, FORM.id);
  await answer(page, 'head_name', '王建国');
  await saved(page);
  await home(page);

  await setName(page, '周磊');
  await tab(page, 1);
  await start(page, FORM.id);
  await answer(page, 'head_name', '李秀英');
  await saved(page);
  await home(page);

  const by = Object.fromEntries((await storedSubmissions(page)).map((s) => [s.name, [s.envelope.meta.surveyor, s.envelope.data.surveyor]]));
  assert.deepEqual(by, { 王建国: ['陈晓梅', '陈晓梅'], 李秀英: ['周磊', '周磊'] });

  // An empty name asks again.
  await setName(page, '   ');
  await tab(page, 1);
  await ask.waitFor();
  assert.deepEqual(app.errors, []);
});

test('an interview started before a name was entered is finalized under the name entered since', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await open(app);
  await install(page, FORM);
  await start(page, FORM.id);
  await answer(page, 'head_name', '赵刚');
  await saved(page);
  await home(page);
  await setName(page, '陈晓梅');
  // Opened again from the drafts and finalized.
  await tab(page, 2);
  await page.locator('.list li[data-instance] button').first().click();
  await page.waitForSelector('[data-testid=next]');
  await page.click('[data-testid=next]');
  await page.click('[data-testid=finalize]');
  await page.waitForSelector('.list li[data-instance]');
  const [done] = await storedSubmissions(page);
  assert.equal(done.envelope.meta.status, 'finalized');
  assert.equal(done.envelope.meta.surveyor, '陈晓梅', 'the office learns whose it is');
  assert.deepEqual(app.errors, []);
});
