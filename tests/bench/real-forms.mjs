// The app's speed on the shipped forms (forms/household_needs.form.json), beyond what `cargo xtask
// bench-web` measures on generated forms: CPU 4x slowdown (CDP `Emulation.setCPUThrottlingRate`),
// 360 x 640, headless Chromium (Debian's), each run in a fresh browser context.
//
//   cargo xtask dist                                   # builds the site into $CARGO_TARGET_DIR/dist
//   DOORSTEP_DIST=$CARGO_TARGET_DIR/dist node tests/bench/real-forms.mjs [--runs N] [--rate R] [--only a,b]
//
// Serves DOORSTEP_DIST itself (default target/dist). Scenarios (--only): typing (the 18-digit ID number
// and a phone number key by key), cascade (township, then village), relevance (choices that show or
// hide questions), roster (the 10th and 20th member added, a member's page opened, back to the list),
// review (a household of 10 with problems; another of 10 finalized), lists (300 drafts and 300 finalized:
// opening each tab, typing a search), export (200 finalized interviews in one bundle).
//
// How a time is taken: a probe in the page (installed before the app's scripts) starts at the input
// event's `timeStamp` (keydown, click, change) and ends at the DOM change, seen by a MutationObserver
// (the first time a selector matches, or the last mutation made while the event was handled), as
// tests/bench/bench-web.mjs does ("-" when nothing changed); `task` is when a MessageChannel message,
// posted by a listener that runs after the app's, arrives: after the event's task and microtasks, and
// in practice after the frame Chromium renders in between (style, layout, paint), so about when the
// change is painted; for a screen that waits on IndexedDB it comes before the change. Long tasks
// (over 50 ms) are counted while typing the ID number and while exporting. The figures are medians
// over the runs (and over the keys, for typing), with the smallest and largest "dom" beside them.
//
// PROFILE=<regexp> takes a sampling CPU profile of each figure whose name matches (for the keys:
// "ID number 1", "search drafts 2", ...) and prints self and inclusive time by function (TOP=N rows);
// build with `DOORSTEP_KEEP_NAMES=1 cargo xtask dist --out <dir>` for the wasm's function names.
// Each scenario takes 10-25 s; a run of all of them about 80 s (the first household is filled once).
//
// Interviews are seeded the way the app writes them: one household is filled by driving the app at
// CPU 1x (the answers of tests/e2e/app.mjs HOUSEHOLD), and its stored record (record.rs,
// `SubmissionRecord`, JSON text in the `submissions` store under its instance id) and its signature
// (`media`, `<instance id>/<file>`) are copied with new ids, names and members.

import { chromium } from 'playwright-core';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CHROMIUM, CHROMIUM_ARGS, PHONE, ROOT, startServer } from '../e2e/lib.mjs';
import { HOUSEHOLD, addMember, answer, answerAll, backToList, next, saved, sign, start } from '../e2e/app.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt('--runs', 5));
const RATE = Number(opt('--rate', 4));
const ONLY = opt('--only', 'typing,cascade,relevance,roster,review,lists,export').split(',');
const DIST = process.env.DOORSTEP_DIST ?? join(ROOT, 'target', 'dist');

function probe() {
  const rf = { cur: null, long: [] };
  window.__rf = rf;
  try {
    new PerformanceObserver((l) => l.getEntries().forEach((e) => rf.long.push([e.startTime, e.duration]))).observe({ type: 'longtask', buffered: false });
  } catch {}
  new MutationObserver(() => {
    const w = rf.cur;
    if (!w || w.start === null) return;
    const now = performance.now();
    if (w.task === null) w.lastMut = now;
    if (w.sel && w.doneAt === null && document.querySelector(w.sel)) w.doneAt = now;
    if (w.early && w.earlyAt === null && document.querySelector(w.early)) w.earlyAt = now;
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  // start: the event whose timeStamp starts the time; end: the event after whose handling `task` is taken.
  // early: a selector whose first match is also timed (the first row of a long list).
  rf.arm = (startType, endType, sel, early) => {
    const w = (rf.cur = { start: null, lastMut: null, task: null, doneAt: null, sel, early, earlyAt: null });
    addEventListener(startType, (e) => { if (w.start === null) w.start = e.timeStamp; }, { capture: true, once: true });
    addEventListener(endType, () => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { w.task = performance.now(); };
      ch.port2.postMessage(0);
    }, { once: true });
  };
  rf.result = () => {
    const w = rf.cur;
    if (!w || w.start === null) return null;
    const dom = w.sel ? w.doneAt : w.lastMut;
    const since = (t) => (t === null ? null : t - w.start);
    return { dom: since(dom), task: since(w.task), early: since(w.earlyAt) };
  };
}

const median = (v) => {
  const k = v.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  return k.length ? k[Math.floor((k.length - 1) / 2)] : null;
};
const max = (v) => Math.max(...v.filter((x) => x !== null && x !== undefined));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const frames = (page, n = 2) => page.evaluate((n) => new Promise((r) => { const f = (k) => (k ? requestAnimationFrame(() => f(k - 1)) : r()); f(n); }), n);

const server = await startServer(DIST);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

async function newApp(rate = 1) {
  const context = await browser.newContext({ ...PHONE, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', serviceWorkers: 'block', acceptDownloads: true });
  await context.addInitScript(probe);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  const cdp = await context.newCDPSession(page);
  const throttle = (r) => cdp.send('Emulation.setCPUThrottlingRate', { rate: r });
  await throttle(rate);
  await page.goto(server.url);
  await page.waitForSelector('.tabs, .savebar', { timeout: 60_000 });
  return { context, page, errors, throttle, close: () => context.close() };
}

// Waits for the app to be idle (its warm-ups run in idle callbacks) before a measured input.
const settle = async (page, ms = 800) => {
  await frames(page, 2);
  await sleep(ms);
};

// One measured input: arms the probe, runs `act`, waits for the selector (or the task's end).
async function measure(page, startType, endType, sel, act, timeout = 20_000, early = null) {
  await page.evaluate(([s, e, q, f]) => window.__rf.arm(s, e, q, f), [startType, endType, sel ?? null, early]);
  await act();
  await page.waitForFunction(
    (sel) => { const w = window.__rf.cur; return w && w.task !== null && (!sel || w.doneAt !== null); },
    sel ?? null,
    { timeout, polling: 20 },
  );
  await sleep(30);
  return page.evaluate(() => window.__rf.result());
}

// A tap where a person taps: at the element's centre, without Playwright's actionability frames.
async function tap(page, selector) {
  const el = page.locator(selector).first();
  await el.evaluate((e) => e.scrollIntoView({ block: 'center' }));
  await frames(page, 2);
  const b = await el.boundingBox();
  await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2);
}

async function typeKeys(page, text, gap = 120, name = 'keys') {
  const out = [];
  for (const ch of text) {
    out.push(await m(null, page, 'keydown', 'input', null, () => page.keyboard.press(ch), undefined, `${name} ${ch}`));
    await sleep(gap);
  }
  return out;
}

async function longTasks(page, since) {
  return page.evaluate((since) => window.__rf.long.filter(([t]) => t >= since).map(([, d]) => d), since);
}

// ---- seeding -------------------------------------------------------------------------------------

// Fills one household at CPU 1x (to the last page, signed) and returns its record and signature.
async function makeTemplate() {
  const app = await newApp(1);
  const { page } = app;
  await start(page, 'household_needs');
  await answerAll(page, HOUSEHOLD.place);
  await next(page);
  await answer(page, 'consent', 'yes');
  await next(page);
  await answerAll(page, HOUSEHOLD.identity);
  await next(page);
  for (const m of HOUSEHOLD.members) {
    await addMember(page);
    await answerAll(page, m);
    await backToList(page);
  }
  await next(page);
  for (const part of ['economy', 'hardship', 'categories']) {
    await answerAll(page, HOUSEHOLD[part]);
    await next(page);
  }
  await next(page);
  await answerAll(page, HOUSEHOLD.help);
  await next(page);
  await sign(page, 'signature');
  await saved(page);
  const [record, media] = await page.evaluate(() => new Promise((resolve) => {
    indexedDB.open('doorstep').onsuccess = (ev) => {
      const db = ev.target.result;
      const tx = db.transaction(['submissions', 'media']);
      tx.objectStore('submissions').getAll().onsuccess = (e) => {
        const rec = JSON.parse(e.target.result[0]);
        tx.objectStore('media').getAll().onsuccess = (m) => {
          resolve([rec, Array.from(m.target.result[0])]);
          db.close();
        };
      };
    };
  }));
  await app.close();
  return { record, media };
}

// A copy of the template with `n` members (the head, then copies of the son with other names).
function household(tpl, { n = 3, status = 'draft', index = 0, page = null, drop = [] } = {}) {
  const r = structuredClone(tpl.record);
  const id = `uuid:${randomUUID()}`;
  const name = `户主${String(index).padStart(3, '0')}`;
  r.envelope.meta.instance_id = id;
  r.envelope.data.head_name = name;
  r.name = r.name.replace(HOUSEHOLD.place.head_name, name);
  const members = r.envelope.data.members;
  members[0].member_name = name;
  const son = members[2];
  while (members.length < n) members.push({ ...structuredClone(son), member_name: `成员${members.length + 1}` });
  members.length = n;
  for (const [i, key] of drop) delete members[i][key];
  r.envelope.data.household_size = n;
  if (status === 'finalized') {
    r.envelope.meta.status = 'finalized';
    r.envelope.meta.finalized_at = r.envelope.meta.updated_at;
  }
  if (page !== null) r.page = page;
  r.member = null;
  r.rev = 1;
  return r;
}

// Writes records (and each one's copy of the signature) as the app does, then reloads the app.
async function seed(app, tpl, records) {
  const file = tpl.record.envelope.data.signature.file;
  await app.page.evaluate(([recs, file, bytes]) => new Promise((resolve, reject) => {
    indexedDB.open('doorstep').onsuccess = (ev) => {
      const db = ev.target.result;
      const tx = db.transaction(['submissions', 'media'], 'readwrite', { durability: 'strict' });
      const media = new Uint8Array(bytes);
      for (const r of recs) {
        tx.objectStore('submissions').put(JSON.stringify(r), r.envelope.meta.instance_id);
        tx.objectStore('media').put(media, `${r.envelope.meta.instance_id}/${file}`);
      }
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }), [records, file, tpl.media]);
  await app.page.reload();
  await app.page.waitForSelector('.tabs, .savebar', { timeout: 60_000 });
}

// Opens a seeded draft from the drafts list (it opens on the page its record names).
async function openDraft(page, id) {
  await page.click('.tabs button:nth-child(2)');
  await page.locator(`.list li[data-instance="${id}"] button`).first().click();
  await page.waitForSelector('.savebar');
}

// ---- scenarios -----------------------------------------------------------------------------------

const results = {};
const add = (name, r) => (results[name] ??= []).push(r);
// PROFILE=<regexp>: a sampling CPU profile of the figures it matches (self and inclusive time by
// function; build with DOORSTEP_KEEP_NAMES=1 for the wasm's names), printed after each.
const PROFILE = process.env.PROFILE ? new RegExp(process.env.PROFILE) : null;
async function m(name, page, startType, endType, sel, act, timeout, profileName = name, early = null) {
  const profiling = PROFILE?.test(profileName);
  let cdp;
  if (profiling) {
    cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  const r = await measure(page, startType, endType, sel, act, timeout, early);
  if (name) add(name, r);
  if (name && early) add(`${name}: first row`, { dom: r.early, task: r.task });
  if (profiling) {
    const { profile } = await cdp.send('Profiler.stop');
    printProfile(profileName, profile);
    await cdp.detach();
  }
  return r;
}

function printProfile(name, profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const incl = new Map();
  const key = (f) => `${(f.functionName || '(anon)').replace(/::h[0-9a-f]{16}$/, '').slice(0, 140)}`;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    self.set(key(byId.get(id).callFrame), (self.get(key(byId.get(id).callFrame)) ?? 0) + ms);
    const seen = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const k = key(byId.get(n).callFrame);
      if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + ms); }
    }
  });
  const top = (m, n) => [...m.entries()].filter(([k]) => !['(root)', '(idle)'].includes(k)).sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log(`--- profile of ${name}: self`);
  for (const [k, v] of top(self, 20)) console.log(`${v.toFixed(1).padStart(8)} ms  ${k}`);
  console.log(`--- inclusive`);
  for (const [k, v] of top(incl, Number(process.env.TOP ?? 40))) console.log(`${v.toFixed(1).padStart(8)} ms  ${k}`);
}

async function typing(tpl) {
  const app = await newApp(1);
  const { page } = app;
  const r = household(tpl, { page: 2 });
  delete r.envelope.data.head_id;
  delete r.envelope.data.head_phone;
  r.envelope.data.has_mobile = 'no';
  await seed(app, tpl, [r]);
  await openDraft(page, r.envelope.meta.instance_id);
  await page.waitForSelector('[data-name="head_id"] input');
  await app.throttle(RATE);
  await page.locator('[data-name="head_id"] input').click();
  await settle(page, 1500);
  const t0 = await page.evaluate(() => performance.now());
  const keys = await typeKeys(page, HOUSEHOLD.identity.head_id, 120, 'ID number');
  const long = await longTasks(page, t0);
  add('ID number: first key', keys[0]);
  keys.slice(1).forEach((k) => add('ID number: each later key', k));
  add('ID number: last key (message goes)', keys.at(-1));
  add('ID number: long tasks while typing', { count: long.length, max: long.length ? max(long) : 0 });
  // has_mobile yes shows the phone question (relevance), then the phone is typed.
  await m('has_mobile yes -> phone shown', page, 'click', 'click', '[data-name="head_phone"] input', () => tap(page, '[data-name="has_mobile"] input[value="yes"]'));
  await page.locator('[data-name="head_phone"] input').click();
  await settle(page);
  for (const k of await typeKeys(page, HOUSEHOLD.identity.head_phone, 120, 'phone')) add('phone: each key', k);
  await app.close();
}

async function cascade(tpl) {
  const app = await newApp(1);
  const { page } = app;
  const r = household(tpl, { page: 0 });
  delete r.envelope.data.township;
  delete r.envelope.data.village;
  await seed(app, tpl, [r]);
  await openDraft(page, r.envelope.meta.instance_id);
  await page.waitForSelector('[data-name="township"] select');
  await app.throttle(RATE);
  await settle(page, 1500);
  // selectOption dispatches input and change; the time runs from its input event.
  await m('township -> villages offered', page, 'input', 'change', null, () => page.locator('[data-name="township"] select').selectOption(HOUSEHOLD.place.township));
  await settle(page);
  await m('village picked', page, 'input', 'change', null, () => page.locator('[data-name="village"] select').selectOption(HOUSEHOLD.place.village));
  await app.close();
}

async function relevance(tpl) {
  const app = await newApp(1);
  const { page } = app;
  const r = household(tpl, { page: 5 });
  r.envelope.data.hardship_causes = [];
  delete r.envelope.data.hardship_causes;
  await seed(app, tpl, [r]);
  await openDraft(page, r.envelope.meta.instance_id);
  await page.waitForSelector('[data-name="hardship_causes"]');
  await app.throttle(RATE);
  await settle(page, 1500);
  const boxes = await page.locator('[data-name="hardship_causes"] input[type=checkbox]').evaluateAll((l) => l.map((e) => e.value));
  // Each tick (and untick) of the hardship causes: questions on the page come and go.
  for (const v of boxes.filter((v) => v !== 'none').slice(0, 4)) {
    await m('tick a hardship cause', page, 'click', 'click', null, () => tap(page, `[data-name="hardship_causes"] input[value="${v}"]`));
    await settle(page, 400);
  }
  for (const v of boxes.filter((v) => v !== 'none').slice(0, 4)) {
    await m('untick a hardship cause', page, 'click', 'click', null, () => tap(page, `[data-name="hardship_causes"] input[value="${v}"]`));
    await settle(page, 400);
  }
  await app.close();
}

async function roster(tpl) {
  for (const n of [9, 19]) {
    const app = await newApp(1);
    const { page } = app;
    const r = household(tpl, { n, page: 3 });
    await seed(app, tpl, [r]);
    await openDraft(page, r.envelope.meta.instance_id);
    await page.waitForSelector(`[data-repeat="members"][data-count="${n}"]`);
    await app.throttle(RATE);
    await settle(page, 1500);
    await m(`add the ${n + 1}th member`, page, 'click', 'click', '[data-testid=back-to-list]', () => tap(page, '[data-testid=add-member]'));
    await settle(page);
    await m(`back to the list of ${n + 1}`, page, 'click', 'click', 'ul.roster[data-repeat="members"]:not([hidden] *)', () => tap(page, '[data-testid=back-to-list]'));
    await settle(page);
    await m(`open member 5 of ${n + 1}`, page, 'click', 'click', '[data-testid=back-to-list]', () => tap(page, '.roster li[data-member="4"] button.who'));
    await settle(page);
    // A change on a member's page re-evaluates the household's counts over all members.
    await m(`member answer (health) with ${n + 1}`, page, 'click', 'click', null, () => tap(page, '[data-name="health"] input[value="chronic"], [data-name="health"] input:not(:checked)'));
    await app.close();
  }
}

async function review(tpl) {
  for (const variant of ['problems', 'finalize']) {
    const app = await newApp(1);
    const { page } = app;
    const drop = variant === 'problems' ? [[3, 'health'], [5, 'sex'], [7, 'birth_date'], [8, 'disabled']] : [];
    const r = household(tpl, { n: 10, page: 9, drop });
    await seed(app, tpl, [r]);
    await openDraft(page, r.envelope.meta.instance_id);
    await page.waitForSelector('[data-name="signature"]');
    await app.throttle(RATE);
    await settle(page, 1500);
    const sel = variant === 'problems' ? '[data-testid=problem-link]' : '[data-testid=finalize]';
    await m(`review of 10 members (${variant})`, page, 'click', 'click', sel, () => tap(page, '[data-testid=next]'));
    if (variant === 'finalize') {
      await settle(page);
      await m('finalize (to the finalized list)', page, 'click', 'click', '.list li[data-instance]', () => tap(page, '[data-testid=finalize]'));
    }
    await app.close();
  }
}

async function lists(tpl) {
  const app = await newApp(1);
  const { page } = app;
  const recs = [];
  for (let i = 0; i < 300; i++) recs.push(household(tpl, { index: i, page: 3 }));
  for (let i = 300; i < 600; i++) recs.push(household(tpl, { index: i, status: 'finalized' }));
  await seed(app, tpl, recs);
  await app.throttle(RATE);
  await settle(page, 1500);
  const first = '.list li[data-instance]';
  await m('drafts tab, 300 listed', page, 'click', 'click', '.list li[data-instance]:nth-child(300)', () => tap(page, '.tabs button:nth-child(2)'), undefined, undefined, first);
  await settle(page);
  await page.locator('input.search').click();
  await settle(page);
  // "1" then "12" (names are 户主000 to 户主599): each key filters the list again.
  const keys = await typeKeys(page, '12', 200, 'search drafts');
  keys.forEach((k, i) => add(`search drafts, key ${i + 1}`, k));
  await page.fill('input.search', '');
  await settle(page);
  // A finalized row says whether it was exported (a second .muted line); the drafts' rows do not.
  await m('finalized tab, 300 listed', page, 'click', 'click', '.list li[data-instance]:nth-child(300) > .muted + .muted', () => tap(page, '.tabs button:nth-child(3)'), undefined, undefined, '.list li[data-instance] > .muted + .muted');
  await settle(page);
  await page.locator('input.search').click();
  await settle(page);
  const fkeys = await typeKeys(page, '45', 200, 'search finalized');
  fkeys.forEach((k, i) => add(`search finalized, key ${i + 1}`, k));
  await app.close();
}

async function exporting(tpl) {
  const app = await newApp(1);
  const { page } = app;
  const recs = [];
  for (let i = 0; i < 200; i++) recs.push(household(tpl, { index: i, status: 'finalized' }));
  await seed(app, tpl, recs);
  await app.throttle(RATE);
  await settle(page, 1500);
  await m('export tab (200 to export)', page, 'click', 'click', '[data-testid=export]', () => tap(page, '.tabs button:nth-child(4)'));
  await settle(page);
  const t0 = await page.evaluate(() => performance.now());
  await m('export 200 (to the notice)', page, 'click', 'click', '[data-testid=export-done]', () => tap(page, '[data-testid=export]'), 120_000);
  const long = await longTasks(page, t0);
  add('export 200: longest task', { count: long.length, max: long.length ? max(long) : 0 });
  await app.close();
}

const tpl = await makeTemplate();
const scenarios = { typing, cascade, relevance, roster, review, lists, export: exporting };
for (let run = 0; run < RUNS; run++) {
  for (const name of ONLY) {
    try {
      await scenarios[name](tpl);
    } catch (e) {
      console.error(`run ${run + 1}, ${name}: ${e.message.split('\n')[0]}`);
    }
  }
  process.stderr.write(`run ${run + 1} of ${RUNS} done\n`);
}

const fmt = (v) => (v === null || v === undefined ? '   -  ' : v.toFixed(1).padStart(7));
console.log(`real forms at ${RATE}x, ${RUNS} runs, ${new Date().toISOString()}`);
console.log(`${'figure'.padEnd(44)}   dom ms  task ms   (min-max dom)   n`);
for (const [name, rs] of Object.entries(results)) {
  if ('count' in rs[0]) {
    console.log(`${name.padEnd(44)} ${rs.map((r) => `${r.count} over 50 ms, longest ${r.max.toFixed(0)} ms`).join('; ')}`);
    continue;
  }
  const dom = rs.map((r) => r?.dom);
  const task = rs.map((r) => r?.task);
  const known = dom.filter((x) => x !== null && x !== undefined);
  console.log(`${name.padEnd(44)} ${fmt(median(dom))}  ${fmt(median(task))}   (${known.length ? `${Math.min(...known).toFixed(1)}-${Math.max(...known).toFixed(1)}` : '-'})   ${rs.length}`);
}
await browser.close();
await server.close();
