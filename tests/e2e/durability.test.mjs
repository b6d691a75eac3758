// Never lose an interview: the app starts with the network gone after one visit (service
// worker), answers survive the browser being killed mid-typing, a full disk is reported and
// nothing is lost, and a browser without IndexedDB gets a clear message, not a blank page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, launchPersistent, screenshot, startServer, tempProfile } from './lib.mjs';
import { answer, fullDiskWhen, next, open, saved, start, storedSubmissions, valueOf } from './app.mjs';

test('the app starts and works offline after one visit', async (t) => {
  // Our own server, so that it can be taken away entirely.
  const server = await startServer();
  const app = await launchPersistent(tempProfile(), { base: server.url });
  t.after(async () => {
    await app.close();
    await server.close();
  });
  const { page } = app;
  await open(app);
  await page.waitForSelector('[data-form-id="emergency_aid"]', { timeout: 30_000 });
  // The worker has installed (precached the shell and the forms) and controls the page.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20_000 });

  await server.close();
  await app.context.setOffline(true);
  await page.reload();
  await page.waitForSelector('[data-form-id="emergency_aid"]', { timeout: 30_000 });
  await start(page, 'emergency_aid');
  const first = page.locator('.q input[type=text]').first();
  await first.fill('离线测试');
  await saved(page);
  await screenshot(page, 'offline-fill');
  assert.deepEqual(app.errors.filter((e) => !e.includes('net::ERR_')), []);
});

test('answers typed before the browser is killed are there on restart', async (t) => {
  const profile = tempProfile();
  let app = await launchPersistent(profile);
  await open(app);
  await start(app.page, 'household_needs');
  await answer(app.page, 'head_name', '王');
  await saved(app.page);
  // Keep typing, then kill every browser process with SIGKILL 400 ms after the last key:
  // the autosave writes within 300 ms.
  const box = app.page.locator('[data-name="head_name"] input');
  await box.pressSequentially('建国', { delay: 60 });
  await new Promise((done) => setTimeout(done, 400));
  await app.kill();

  app = await launchPersistent(profile);
  t.after(() => app.close());
  await open(app);
  await app.page.waitForSelector('[data-name="head_name"] input', { timeout: 30_000 });
  assert.equal(await valueOf(app.page, 'head_name'), '王建国', 'every character typed before the kill is there');
  await screenshot(app.page, 'after-kill');
});

test('a full disk is reported, the answers stay, and saving resumes when space is back', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  // Every put fails with QuotaExceededError while window.__full is true.
  await fullDiskWhen(page, '__full');
  await open(app);
  await start(page, 'household_needs');
  await answer(page, 'head_name', '张三');
  await saved(page);
  await page.evaluate(() => {
    window.__full = true;
  });
  await answer(page, 'head_name', '张三丰');
  await page.waitForSelector('[data-save-state=failed]', { timeout: 5_000 });
  const message = await page.locator('[data-testid=save-state]').textContent();
  assert.match(message, /存储空间已满/);
  await screenshot(page, 'quota-full');
  // Nothing is lost on screen, and navigating keeps it.
  await next(page);
  await page.click('[data-testid=contents]');
  await page.locator('.toc button').first().click();
  assert.equal(await valueOf(page, 'head_name'), '张三丰');
  assert.equal(await page.locator('[data-save-state=saved]').count(), 0, 'never "saved" while it is not');
  // Space is back: the retry writes the newest answers.
  await page.evaluate(() => {
    window.__full = false;
  });
  await saved(page, 15_000);
  const stored = await storedSubmissions(page);
  assert.equal(stored[0].envelope.data.head_name, '张三丰');
});

test('without IndexedDB the app says so instead of showing a blank page', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  await app.page.addInitScript(() => {
    Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });
  });
  await open(app);
  const text = await app.page.locator('.fatal').textContent();
  assert.match(text, /无法在本机保存数据/);
  await screenshot(app.page, 'no-indexeddb');
});
