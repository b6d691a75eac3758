// Helpers that drive the surveyor app the way a surveyor does: by the questions' names
// (`data-name` on each question box), through the real widgets.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

/** Opens the app and waits until it has mounted (tabs, or a reopened interview). */
export async function open(app, path = '') {
  await app.page.goto(app.url(path));
  await app.page.waitForSelector('.tabs, .savebar, .fatal', { timeout: 30_000 });
}

/** Starts a new interview on a shipped form from the forms tab. */
export async function start(page, formId) {
  await page.waitForSelector(`[data-form-id="${formId}"] button`, { timeout: 30_000 });
  await page.click(`[data-form-id="${formId}"] button`);
  await page.waitForSelector('.savebar', { timeout: 10_000 });
}

/** Answers the visible question `name` with `value` (string, number or array for select_multiple). */
export async function answer(page, name, value) {
  const box = page.locator(`[data-name="${name}"]`).first();
  await box.waitFor({ state: 'visible', timeout: 10_000 });
  if (await box.locator('select').count()) {
    await box.locator('select').selectOption(String(value));
  } else if (await box.locator('input[type=radio]').count()) {
    await box.locator(`input[type=radio][value="${value}"]`).check();
  } else if (await box.locator('input[type=checkbox]').count() && Array.isArray(value)) {
    for (const v of value) await box.locator(`input[type=checkbox][value="${v}"]`).check();
  } else if (await box.locator('textarea').count()) {
    await box.locator('textarea').fill(String(value));
  } else {
    await box.locator('input').first().fill(String(value));
  }
}

/** The value shown in the input of question `name`. */
export async function valueOf(page, name) {
  const box = page.locator(`[data-name="${name}"]`).first();
  if (await box.locator('select').count()) return box.locator('select').inputValue();
  if (await box.locator('input[type=radio]').count()) {
    return box.locator('input[type=radio]:checked').getAttribute('value').catch(() => null);
  }
  return box.locator('input, textarea').first().inputValue();
}

export async function next(page) {
  await page.click('[data-testid=next]');
}

/** Waits until the indicator says the newest change is on disk. */
export async function saved(page, timeout = 5_000) {
  await page.waitForSelector('[data-save-state=saved]', { timeout });
}

/** Adds a roster member (opens its page). */
export async function addMember(page) {
  await page.click('[data-testid=add-member]');
  await page.waitForSelector('[data-testid=back-to-list]');
}

export async function backToList(page) {
  await page.click('[data-testid=back-to-list]');
  await page.waitForSelector('[data-testid=add-member]');
}

/**
 * Waits for the page's next animation frame: the app scrolls a new page to its top (and focuses its
 * title) in the frame after rendering it, so coordinates read before then may be stale. (Locator
 * actions wait for the element to be stable; raw mouse moves do not.)
 */
export async function nextFrame(page) {
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
}

/** Draws a stroke on the signature pad of question `name` (the stroke is the answer) and waits until it is saved. */
export async function sign(page, name) {
  await nextFrame(page);
  const canvas = page.locator(`[data-name="${name}"] canvas`);
  // Centre the pad on screen: off screen, or under the bottom bar, the strokes would miss it.
  await canvas.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  const b = await canvas.boundingBox();
  await page.mouse.move(b.x + 20, b.y + 90);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(b.x + 20 + i * 25, b.y + 90 + (i % 2 ? -40 : 40));
  await page.mouse.up();
  await page.locator(`[data-name="${name}"] [data-testid=clear-signature]`).waitFor();
  await page.waitForSelector('[data-save-state=saved]');
}

/** The keys of the media store, and the bytes stored under `key` (a Buffer, or null when there are none). */
export async function storedMedia(page, key) {
  const r = await page.evaluate(
    (key) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('doorstep');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const os = req.result.transaction('media').objectStore('media');
          const keys = os.getAllKeys();
          const get = os.get(key ?? '');
          get.onsuccess = () => {
            let s = '';
            if (get.result) for (const b of get.result) s += String.fromCharCode(b);
            resolve({ keys: keys.result, bytes: get.result ? btoa(s) : null });
            req.result.close();
          };
          get.onerror = () => reject(get.error);
        };
      }),
    key,
  );
  return { keys: r.keys, bytes: r.bytes && Buffer.from(r.bytes, 'base64') };
}

/**
 * A full disk: from the next page load on, IndexedDB puts throw QuotaExceededError while
 * `window[flag]` is true (only puts into the object store `store`, when one is named).
 */
export async function fullDiskWhen(page, flag, store = null) {
  await page.addInitScript(
    ({ flag, store }) => {
      window[flag] = false;
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (...args) {
        if (window[flag] && (store === null || this.name === store)) {
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        }
        return put.apply(this, args);
      };
    },
    { flag, store },
  );
}

/** Every stored submission record (read straight from IndexedDB, as JSON). */
export async function storedSubmissions(page) {
  return storedRecords(page, 'submissions');
}

/** Every record of one of the app's IndexedDB stores (`submissions`, `bundles`, ...), parsed. */
export async function storedRecords(page, store) {
  return page.evaluate(
    (store) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('doorstep');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const get = db.transaction(store).objectStore(store).getAll();
          get.onsuccess = () => {
            resolve(get.result.map((s) => JSON.parse(s)));
            db.close();
          };
          get.onerror = () => reject(get.error);
        };
      }),
    store,
  );
}

/** The household of three used by several tests (the answers of forms/spec's ordinary family). */
export const HOUSEHOLD = {
  place: { township: 'chengguan', village: 'cg_nanjie', head_name: '刘志强' },
  identity: {
    head_sex: 'male',
    head_birth_date: '1981-02-15',
    head_id: '13082619810215141X',
    has_mobile: 'yes',
    head_phone: '15912345678',
    household_type: 'only_child',
  },
  // The first member is the head, filled in from the answers above.
  members: [
    { health: 'healthy', disabled: 'no', work_ability: 'full' },
    {
      member_name: '陈丽',
      relationship: 'spouse',
      sex: 'female',
      birth_date: '1983-07-30',
      member_id: '130826198307302621',
      health: 'healthy',
      disabled: 'no',
      work_ability: 'full',
    },
    {
      member_name: '刘洋',
      relationship: 'son',
      sex: 'male',
      birth_date: '2006-05-10',
      health: 'healthy',
      disabled: 'no',
      work_ability: 'full',
      schooling: 'college',
    },
  ],
  economy: { income_sources: ['wages', 'farming'], annual_income: 96000, dibao: 'no', poverty_status: 'none', housing: 'safe' },
  hardship: { hardship_causes: ['none'], basic_needs: 'ok', repro_health_need: 'no', fp_worker: 'no' },
  categories: { categories_confirm: 'accept' },
  help: { help_needed: ['health_check', 'skills_training'] },
};

/** A valid emergency report (`emergency_aid`), the event yesterday. */
export function emergencyAnswers() {
  return {
    contact_phone: '13912345678',
    township: 'chengguan',
    village: 'cg_nanjie',
    event_type: 'fire',
    event_date: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10),
    affected: ['head'],
    affected_count: 2,
    amount_requested: 3000,
    urgency: 'urgent',
  };
}

/**
 * Deletes a stored record behind the app's back (a submission, as another window of the app would;
 * or an attachment under `<instance_id>/<file>` in `media`).
 */
export async function deleteStored(page, key, store = 'submissions') {
  await page.evaluate(
    ({ key, store }) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('doorstep');
        req.onsuccess = () => {
          const tx = req.result.transaction(store, 'readwrite');
          tx.objectStore(store).delete(key);
          tx.oncomplete = () => {
            req.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    { key, store },
  );
}

/** Starts, fills (`head_name`, a signature) and finalizes one interview of `formId`. */
export async function finalizeSigned(page, formId, name) {
  await start(page, formId);
  await answer(page, 'head_name', name);
  await sign(page, 'signature');
  await saved(page);
  await next(page);
  await page.click('[data-testid=finalize]');
  await page.waitForSelector('.list li[data-instance]');
}

export async function answerAll(page, answers) {
  for (const [name, value] of Object.entries(answers)) await answer(page, name, value);
}

/** The shipped form, as the tests' reference. */
export function shippedForm(id) {
  return JSON.parse(readFileSync(join(ROOT, 'forms', `${id}.form.json`), 'utf8'));
}

/** Reads a ZIP of stored entries (what the engine writes) into { path: Buffer }. */
export function readZip(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const files = {};
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory');
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    if (method !== 0) throw new Error(`${name} is compressed`);
    const lNameLen = buf.readUInt16LE(local + 26);
    const lExtraLen = buf.readUInt16LE(local + 28);
    const start = local + 30 + lNameLen + lExtraLen;
    files[name] = buf.subarray(start, start + size);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

/** A one-page form with questions above two rosters (one driven by a count, one by the surveyor) and a photo. */
export const ONE_PAGE = {
  format: 'doorstep-form/1',
  id: 'one_page_rosters',
  version: '2026112301',
  title: { 'zh-CN': '地块与成员', en: 'Plots and members' },
  languages: ['zh-CN', 'en'],
  settings: { navigation: 'scroll' },
  items: [
    ...Array.from({ length: 6 }, (_, i) => ({
      type: 'text',
      name: `q${i + 1}`,
      label: { 'zh-CN': `问题 ${i + 1}`, en: `Question ${i + 1}` },
    })),
    { type: 'integer', name: 'n', label: { 'zh-CN': '有几块地？', en: 'How many plots?' } },
    {
      type: 'repeat',
      name: 'plots',
      label: { 'zh-CN': '地块', en: 'Plots' },
      count: '${n}',
      max: 5,
      items: [{ type: 'decimal', name: 'plot_mu', label: { 'zh-CN': '面积（亩）', en: 'Area (mu)' } }],
    },
    {
      type: 'repeat',
      name: 'members',
      label: { 'zh-CN': '家庭成员', en: 'Household members' },
      items: [{ type: 'text', name: 'member_name', label: { 'zh-CN': '姓名', en: 'Name' } }],
    },
    { type: 'text', name: 'remarks', label: { 'zh-CN': '备注', en: 'Remarks' } },
    { type: 'image', name: 'photo', label: { 'zh-CN': '房屋照片', en: 'Photo of the house' } },
  ],
};

/** Installs a form (an object) from a file, as a supervisor does, and waits until it is listed. */
/** Opens the app, switches to English for `lang === 'en'`, installs `form` from a file and starts it. */
export async function openForm(app, form, lang = 'zh') {
  await open(app);
  if (lang === 'en') await app.page.click('[data-testid=switch-language]');
  await install(app.page, form);
  await start(app.page, form.id);
}

export async function install(page, form) {
  await page.waitForSelector('#form-file');
  await page
    .locator('#form-file')
    .setInputFiles({ name: `${form.id}.form.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(form)) });
  await page.waitForSelector(`[data-form-id="${form.id}"]`, { timeout: 10_000 });
}
