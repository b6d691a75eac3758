// Versions: a draft stays bound to the form version it was started with when a newer version is
// installed (its questions, its answers, its rules, and the bundle it is exported in), and an
// update of the app itself never makes the drafts stored on the phone unreadable.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, doorstep, launch, launchPersistent, screenshot, startServer, tempProfile } from './lib.mjs';
import { answer, install, next, open, readZip, saved, start, storedSubmissions, valueOf } from './app.mjs';

const FORM_ID = 'follow_up_visit';

// Version 1: the head's name (required) and the size of the household.
const V1 = {
  format: 'doorstep-form/1',
  id: FORM_ID,
  version: '1',
  title: { 'zh-CN': '回访', en: 'Follow-up visit' },
  languages: ['zh-CN', 'en'],
  instance_name: '${head_name}',
  items: [
    { type: 'text', name: 'head_name', label: { 'zh-CN': '户主姓名', en: 'Head of household' }, required: true },
    { type: 'integer', name: 'people', label: { 'zh-CN': '家里几口人？', en: 'How many people live here?' } },
  ],
};

// Version 2: the household question is asked differently, and whether the family was visited
// before is a new required question.
const V2 = {
  ...V1,
  version: '2',
  choices: {
    yes_no: [
      { value: 'yes', label: { 'zh-CN': '是', en: 'Yes' } },
      { value: 'no', label: { 'zh-CN': '否', en: 'No' } },
    ],
  },
  items: [
    V1.items[0],
    { type: 'integer', name: 'people', label: { 'zh-CN': '常住人口（人）', en: 'Usual residents' } },
    { type: 'select_one', name: 'visited_before', label: { 'zh-CN': '以前走访过吗？', en: 'Visited before?' }, choices: 'yes_no', required: true },
  ],
};

const label = (page, name) => page.locator(`[data-name="${name}"] .q-label`).first().textContent();
const tab = (page, n) => page.click(`.tabs button:nth-child(${n})`);

/** Leaves the interview for the drafts list (the ⌂ button of the header). */
async function home(page) {
  await page.click('header.bar button:first-child');
  await page.waitForSelector('.tabs');
}

/** Opens the draft `id` from the drafts list. */
async function reopen(page, id) {
  await tab(page, 2);
  await page.locator(`.list li[data-instance="${id}"] button.grow`).click();
  await page.waitForSelector('.savebar');
}

const byName = async (page, name) => (await storedSubmissions(page)).find((s) => s.envelope.data.head_name === name);

test('a draft keeps the form version it was started with: questions, answers, rules and bundle', async (t) => {
  const app = await launch({ acceptDownloads: true });
  t.after(() => app.close());
  const { page } = app;
  await open(app);

  // A draft on version 1.
  await install(page, V1);
  await page.waitForSelector(`[data-form-id="${FORM_ID}"] .muted:has-text("版本 1")`);
  await start(page, FORM_ID);
  assert.equal(await label(page, 'people'), '家里几口人？');
  await answer(page, 'head_name', '王一');
  await saved(page);
  const first = await byName(page, '王一');
  assert.equal(first.envelope.meta.form.version, '1');
  await home(page);

  // Version 2 is installed: a new interview uses it.
  await tab(page, 1);
  await install(page, V2);
  await page.waitForSelector(`[data-form-id="${FORM_ID}"] .muted:has-text("版本 2")`);
  assert.equal(await page.locator(`[data-form-id="${FORM_ID}"]`).count(), 1, 'one entry per form: its newest version');
  await start(page, FORM_ID);
  assert.equal(await label(page, 'people'), '常住人口（人）', "version 2's label");
  await page.waitForSelector('[data-name="visited_before"]');
  await answer(page, 'head_name', '李二');
  await saved(page);
  const second = await byName(page, '李二');
  assert.equal(second.envelope.meta.form.version, '2');
  assert.notEqual(second.envelope.meta.form.hash, first.envelope.meta.form.hash);
  await home(page);
  // The list tells the draft on the older version apart.
  const row = (draft) => page.locator(`.list li[data-instance="${draft.envelope.meta.instance_id}"]`);
  await row(first).locator('[data-testid=older-version]:has-text("此草稿使用旧版本表单 · 版本 1")').waitFor();
  assert.equal(await row(second).locator('[data-testid=older-version]').count(), 0);
  await screenshot(page, 'versions-drafts', { fullPage: false });

  // The first draft reopens on version 1: its questions, its answer, and its rules (the question
  // version 2 requires is not there, and finalizing does not ask for it).
  await reopen(page, first.envelope.meta.instance_id);
  assert.equal(await valueOf(page, 'head_name'), '王一');
  assert.equal(await label(page, 'people'), '家里几口人？', "version 1's label");
  assert.equal(await page.locator('[data-name="visited_before"]').count(), 0, "version 2's new question is not in version 1");
  await screenshot(page, 'versions-v1-draft');
  await answer(page, 'people', '4');
  await saved(page);
  await next(page);
  await page.waitForSelector('[data-testid=finalize]');
  assert.equal(await page.locator('[data-testid=problem-link]').count(), 0, 'nothing is missing by version 1');
  await page.click('[data-testid=finalize]');
  await page.waitForSelector(`.list li[data-instance="${first.envelope.meta.instance_id}"]`);

  // The second draft is held to version 2's rules: the new required question must be answered.
  await reopen(page, second.envelope.meta.instance_id);
  assert.equal(await valueOf(page, 'head_name'), '李二');
  await next(page);
  await page.click('[data-testid=finalize]');
  await page.waitForSelector('[data-testid=problem-link]');
  assert.match(await page.locator('[data-testid=problem-link]').first().textContent(), /以前走访过吗？/);
  await page.locator('[data-testid=problem-link]').first().click();
  await answer(page, 'visited_before', 'no');
  await saved(page);
  await next(page);
  await page.click('[data-testid=finalize]');
  await page.waitForSelector(`.list li[data-instance="${second.envelope.meta.instance_id}"]`);

  const stored = await storedSubmissions(page);
  const versions = Object.fromEntries(stored.map((s) => [s.envelope.meta.instance_id, s.envelope.meta]));
  assert.equal(versions[first.envelope.meta.instance_id].status, 'finalized');
  assert.equal(versions[first.envelope.meta.instance_id].form.version, '1', 'finalizing kept version 1');
  assert.equal(versions[second.envelope.meta.instance_id].form.version, '2');

  // The export tab counts what is in no bundle yet.
  await page.waitForFunction(() => document.querySelector('[data-testid=to-export]')?.textContent === '2');
  // Export: a bundle holds one form.json, so the two versions leave in two bundles, each with its own form.
  await tab(page, 4);
  // Both are selected (not exported yet).
  await page.waitForFunction(() => document.querySelectorAll('.list input[type=checkbox]:checked').length === 2);
  const downloads = new Promise((resolve) => {
    const got = [];
    page.on('download', (d) => {
      got.push(d);
      if (got.length === 2) resolve(got);
    });
  });
  await page.click('[data-testid=export]');
  const bundles = await downloads;
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=export-done]').length === 2);
  await page.waitForSelector('[data-testid=to-export]', { state: 'detached' });
  // The bundles made on this phone are listed with the form version each holds.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=bundles] li').length === 2);
  const history = await page.locator('[data-testid=bundles]').innerText();
  assert.match(history, /版本 1 ·/, history);
  assert.match(history, /版本 2 ·/, history);
  // Each lists the interviews it holds, by name, when opened.
  for (const summary of await page.locator('[data-testid=bundles] details summary').all()) await summary.click();
  const held = await page.locator('[data-testid=bundles] details p').allInnerTexts();
  assert.deepEqual(held.sort(), ['李二', '王一'], held.join(' | '));
  await screenshot(page, 'versions-export');
  const names = bundles.map((d) => d.suggestedFilename());
  assert.notEqual(names[0], names[1], `two bundles, two file names (${names.join(', ')})`);

  const dir = mkdtempSync(join(tmpdir(), 'doorstep-versions-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const seen = {};
  for (const d of bundles) {
    const path = join(dir, d.suggestedFilename());
    await d.saveAs(path);
    const files = readZip(readFileSync(path));
    const form = JSON.parse(files['form.json'].toString('utf8'));
    const manifest = JSON.parse(files['manifest.json'].toString('utf8'));
    const lines = files['submissions.jsonl'].toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1, `${d.suggestedFilename()} holds one interview`);
    const meta = lines[0].meta;
    assert.equal(meta.form.version, form.version, "the submission's version is that of the bundle's form");
    assert.equal(manifest.form.version, form.version);
    assert.equal(meta.form.hash, manifest.form.hash);
    seen[meta.instance_id] = { version: meta.form.version, data: lines[0].data };
  }
  assert.deepEqual(seen, {
    [first.envelope.meta.instance_id]: { version: '1', data: { head_name: '王一', people: 4 } },
    [second.envelope.meta.instance_id]: { version: '2', data: { head_name: '李二', visited_before: 'no' } },
  });

  // A phone may block the second of two downloads no tap started; each bundle's notice has a link
  // that saves the very same file again.
  const again = page.waitForEvent('download');
  await page.locator('[data-testid=export-done]').nth(1).getByRole('link').click();
  const copy = await again;
  assert.equal(copy.suggestedFilename(), names[1]);
  const copyPath = join(dir, `again-${names[1]}`);
  await copy.saveAs(copyPath);
  assert.ok(readFileSync(copyPath).equals(readFileSync(join(dir, names[1]))), 'the same bytes');
  rmSync(copyPath);

  // The engine reads both back: every hash verified, every submission valid by its own version.
  const ingest = doorstep(['ingest', '--db', join(dir, 'office.db'), ...readdirSync(dir).filter((f) => f.endsWith('.zip')).map((f) => join(dir, f))]);
  assert.equal(ingest.status, 0, `ingest: ${ingest.stdout}${ingest.stderr}`);
  assert.match(ingest.stdout, /total: 2 new, 0 duplicate, 0 conflict, 0 rejected/, ingest.stdout);
  assert.deepEqual(app.errors, []);
});

/** Every cache of the site's service worker. */
const cacheNames = (page) => page.evaluate(() => caches.keys());

test('an app update keeps the stored drafts readable and writable', async (t) => {
  // A copy of the built site on one origin for the whole test: IndexedDB belongs to the origin,
  // so the updated app must be served from the same host and port as the one it replaces.
  const site = mkdtempSync(join(tmpdir(), 'doorstep-site-'));
  cpSync(DIST, site, { recursive: true });
  const server = await startServer(site);
  const app = await launchPersistent(tempProfile(), { base: server.url });
  t.after(async () => {
    await app.close();
    await server.close();
    rmSync(site, { recursive: true, force: true });
  });
  const { page } = app;
  const before = readFileSync(join(DIST, '.doorstep-dist'), 'utf8').trim();
  assert.match(before, /^[0-9a-f]{16}$/);

  // The first visit: the worker installs, then takes the page (no update: nothing served it before).
  await open(app);
  await page.waitForSelector('[data-form-id="household_needs"]', { timeout: 30_000 });
  await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated', null, { timeout: 20_000 });
  assert.deepEqual(await cacheNames(page), [`doorstep-${before}`]);
  assert.equal(await page.locator('[data-testid=app-updated]').count(), 0, 'the first visit is no update');
  await tab(page, 5);
  assert.equal(await page.locator('[data-testid=app-version]').getAttribute('data-version'), before);

  // A draft with an answer, saved.
  await tab(page, 1);
  await start(page, 'household_needs');
  await answer(page, 'head_name', '赵六');
  await saved(page);
  const [draft] = await storedSubmissions(page);
  const id = draft.envelope.meta.instance_id;
  await home(page);
  await page.waitForSelector(`.list li[data-instance="${id}"]`);

  // A new build: its version is in the worker's cache name and in index.html, so the browser
  // installs the new worker on the next visit, and the new worker deletes the old cache.
  const after = before === '0123456789abcdef' ? 'fedcba9876543210' : '0123456789abcdef';
  for (const file of ['sw.js', 'index.html']) {
    const text = readFileSync(join(site, file), 'utf8');
    assert.ok(text.includes(before), `${file} holds the build version`);
    writeFileSync(join(site, file), text.replaceAll(before, after));
  }

  // Reopened: the old worker still serves the old app, and the new one takes over meanwhile; the
  // app says it was updated.
  await page.reload();
  await page.waitForSelector('[data-testid=app-updated]', { timeout: 30_000 });
  assert.match(await page.locator('[data-testid=app-updated]').textContent(), /应用已更新/);
  await screenshot(page, 'update-notice', { fullPage: false });
  // The page changes hands when the new worker starts activating; it is activated once it has
  // deleted the caches of older versions.
  await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated');
  assert.deepEqual(await cacheNames(page), [`doorstep-${after}`], "the old version's cache is gone");

  // Reopened again, with the notice's button: the new version runs, and says nothing more.
  await Promise.all([page.waitForEvent('load'), page.click('[data-testid=app-updated] button')]);
  await page.waitForSelector('.tabs');
  await tab(page, 5);
  await page.waitForSelector(`[data-testid=app-version][data-version="${after}"]`);
  await screenshot(page, 'update-settings', { fullPage: false });
  assert.equal(await page.locator('[data-testid=app-updated]').count(), 0);

  // The draft is listed, opens with its answer, and typing still saves.
  await tab(page, 2);
  await page.waitForSelector(`.list li[data-instance="${id}"] .name:has-text("赵六")`);
  await screenshot(page, 'update-drafts', { fullPage: false });
  await reopen(page, id);
  assert.equal(await valueOf(page, 'head_name'), '赵六');
  await answer(page, 'head_name', '赵六一');
  await saved(page);
  const stored = (await storedSubmissions(page)).find((s) => s.envelope.meta.instance_id === id);
  assert.equal(stored.envelope.data.head_name, '赵六一');
  assert.equal(stored.envelope.meta.started_at, draft.envelope.meta.started_at, 'the same draft, not a new one');

  // And the updated app reopens it where the surveyor left it.
  await page.reload();
  await page.waitForSelector('[data-name="head_name"] input', { timeout: 30_000 });
  assert.equal(await valueOf(page, 'head_name'), '赵六一');
  assert.deepEqual(app.errors, []);
});
