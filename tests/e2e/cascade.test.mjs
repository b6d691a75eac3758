// A cascading choice whose parent answer changes after it was answered: the village list of another
// township shows no village chosen, says the one chosen before is not offered any more, and takes
// any village of the new list, the first one shown included.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot } from './lib.mjs';
import { answer, nextFrame, open, saved, start, storedSubmissions } from './app.mjs';

test('changing the township after the village shows no village chosen', async (t) => {
  const app = await launch();
  t.after(() => app.close());
  const { page } = app;
  await open(app);
  await start(page, 'household_needs');
  await answer(page, 'township', 'chengguan');
  await answer(page, 'village', 'cg_nanjie');
  await saved(page);
  await answer(page, 'township', 'shiqiao');
  await saved(page);
  await nextFrame(page);
  await screenshot(page, 'cascade-township-changed');
  const village = page.locator('[data-name="village"] select');
  // It showed a village of the new list that nobody chose (the old one's place in the list).
  assert.equal(await village.inputValue(), '', 'the list shows "choose"');
  assert.match(await page.locator('[data-name="village"] .q-error').textContent(), /所选项已不在可选范围内/);
  // Every village of the new list can be chosen, the one it wrongly showed included.
  const shown = await village.locator('option').evaluateAll((os) => os.map((o) => o.value));
  for (const v of shown.slice(1, 3)) {
    await village.selectOption(v);
    await saved(page);
    const [rec] = await storedSubmissions(page);
    assert.equal(rec.envelope.data.village, v);
    assert.equal(await page.locator('[data-name="village"] .q-error').textContent(), '');
  }
  // Back to the first township: its list again, with nothing chosen from it.
  await answer(page, 'township', 'chengguan');
  await saved(page);
  assert.equal(await village.inputValue(), '');
  assert.deepEqual(app.errors, []);
});
