// A location question when the phone gives none (not allowed, timed out) or a poor one: the
// surveyor is told in the interface language what happened and what to do, never the browser's
// English words, and a poor reading is kept with advice to try again outdoors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { openForm, saved, storedSubmissions } from './app.mjs';

const FORM = {
  format: 'doorstep-form/1',
  id: 'gps_only',
  version: '1',
  title: { 'zh-CN': '定位', en: 'Location' },
  languages: ['zh-CN', 'en'],
  items: [{ type: 'geopoint', name: 'gps', label: { 'zh-CN': '住户位置', en: 'Location of the house' } }],
};

/** The phone's answers to `getCurrentPosition`, set by the test in `window.nextFix`. */
function fakeGeolocation() {
  navigator.geolocation.getCurrentPosition = (ok, fail) => {
    const r = window.nextFix;
    setTimeout(() => {
      if (r.code) fail({ code: r.code, message: r.message });
      else ok({ coords: { latitude: r.lat, longitude: r.lon, altitude: null, accuracy: r.accuracy }, timestamp: Date.now() });
    }, 10);
  };
}

for (const lang of ['zh', 'en']) {
  test(`no location, or a poor one, is said plainly (${lang})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    await page.addInitScript(fakeGeolocation);
    await openForm(app, FORM, lang);
    const box = page.locator('[data-name="gps"]');
    const error = box.locator('[role=alert]');
    const capture = async (fix) => {
      await page.evaluate((f) => (window.nextFix = f), fix);
      await box.locator('button').first().click();
    };

    await capture({ code: 1, message: 'User denied Geolocation' });
    await error.waitFor();
    let text = await error.textContent();
    assert.doesNotMatch(text, /User denied/, 'not the browser\'s words');
    assert.match(text, lang === 'zh' ? /允许.*经纬度/ : /Allow this app.*type the coordinates/);
    await screenshot(page, `location-denied-${lang}`, { fullPage: false });

    await capture({ code: 3, message: 'Timeout expired' });
    await page.waitForFunction(() => !document.querySelector('[data-name="gps"] [role=alert]')?.textContent.includes('允许使用位置') && !document.querySelector('[data-name="gps"] [role=alert]')?.textContent.includes('not allowed'));
    text = await error.textContent();
    assert.doesNotMatch(text, /Timeout expired/);
    assert.match(text, lang === 'zh' ? /30 秒内没有定到位置/ : /within 30 seconds/);
    assert.deepEqual((await storedSubmissions(page))[0].envelope.data.gps ?? null, null, 'nothing is stored');

    // A reading from the network's guess, 1.5 km off: kept, with its accuracy, and the advice.
    await capture({ lat: 30.5, lon: 114.3, accuracy: 1534.26 });
    const accuracy = box.locator('[data-testid=accuracy]');
    await accuracy.waitFor();
    assert.equal(await error.count(), 0, 'the failure is gone');
    assert.match(await accuracy.textContent(), lang === 'zh' ? /±1534 m · 误差较大/ : /±1534 m · That is far off/);
    await saved(page);
    assert.deepEqual((await storedSubmissions(page))[0].envelope.data.gps, { lat: 30.5, lon: 114.3, accuracy: 1534.3 });
    await screenshot(page, `location-poor-${lang}`, { fullPage: false });

    // A good reading says only its accuracy.
    await capture({ lat: 30.5001, lon: 114.3001, accuracy: 8 });
    await page.waitForFunction(() => document.querySelector('[data-name="gps"] [data-testid=accuracy]')?.textContent.includes('±8 m'));
    assert.doesNotMatch(await accuracy.textContent(), /·/);
    assert.deepEqual(app.errors, []);
  });
}
