// The smallest end-to-end check: the built app opens in Chromium on a phone-sized screen,
// has its title, mounts, and logs no console error on the way.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';

test('the app opens without console errors', async (t) => {
  const app = await launch();
  t.after(() => app.close());

  const response = await app.page.goto(app.url(''), { waitUntil: 'networkidle' });
  assert.equal(response?.status(), 200, 'index.html is served');
  assert.match(await app.page.title(), /Doorstep/, 'the page has its title');
  // index.html shows a static "loading" paragraph in #app until the WebAssembly app mounts and
  // replaces it: its disappearance means the app started.
  const mounted = await app.page
    .waitForFunction(() => document.querySelector('#app') && !document.querySelector('#app .loading'), null, {
      timeout: 20_000,
    })
    .then(() => true, () => false);
  await screenshot(app.page, 'smoke-start');
  assert.deepEqual(app.errors, [], 'no console error or uncaught exception');
  assert.ok(mounted, 'the app replaced the loading screen within 20 s (see target/screenshots/smoke-start.png)');
});
