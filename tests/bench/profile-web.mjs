// A look inside one bench scenario (not part of `cargo xtask bench-web`): where the time goes at
// CPU 4x, from CDP's Performance metrics and a sampling CPU profile summarised by function.
// node tests/bench/profile-web.mjs [load-pages|load-scroll|member|key-scroll|key-pages] [rate]
// Serves DOORSTEP_DIST (default target/bench-dist) itself.
// Environment: TRACE=1 (main-thread trace after the interaction; WINDOW ms after, PRE ms before, MIN ms shortest),
// NOPROFILE=1 (no CPU profiler: in-page times undistorted), INCLUSIVE=<regexp> (inclusive time by function; build
// with DOORSTEP_KEEP_NAMES=1), SETTLE=<ms> (member: wait before the click; 0 as the bench), MEMBERS, COUNT_DOM=1
// (DOM writes by attribute, with their time), JSCLICK=1, RAWCLICK=1 (a raw tap at the button's box: no
// Playwright listeners, but it can miss a button the new page's scroll moves), NOWAIT=1.
import { chromium } from 'playwright-core';
import { join } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, PHONE, ROOT, startServer } from '../e2e/lib.mjs';

const scenario = process.argv[2] ?? 'load-pages';
const rate = Number(process.argv[3] ?? 4);
const server = await startServer(process.env.DOORSTEP_DIST ?? join(ROOT, 'target', 'bench-dist'));
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const context = await browser.newContext({ ...PHONE, locale: 'zh-CN', serviceWorkers: 'block' });
const page = await context.newPage();
page.on('console', (m) => m.type() === 'error' && console.log('console:', m.text()));
const cdp = await context.newCDPSession(page);
await cdp.send('Emulation.setCPUThrottlingRate', { rate });
await cdp.send('Performance.enable');
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
const route = { 'load-pages': '#/bench?form=bench_pages', 'load-scroll': '#/bench?form=bench_scroll', member: '#/bench?form=bench_pages&page=household&members=' + (process.env.MEMBERS ?? 99), 'key-scroll': '#/bench?form=bench_scroll', 'key-pages': '#/bench?form=bench_pages' }[scenario];
const tracing = process.env.TRACE === '1';
const start = async () => {
  if (tracing) await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink.user_timing'] });
  if (!process.env.NOPROFILE) await cdp.send('Profiler.start');
  return metrics();
};
let before;
if (scenario.startsWith('load')) {
  before = await start();
  await page.goto(server.url + route);
  await page.locator('#app [data-question]').first().waitFor();
  await page.waitForTimeout(3000);
} else {
  await page.goto(server.url + route);
  if (scenario === 'member') {
    await page.locator('[data-add-repeat="members"]').waitFor();
    // SETTLE=0 clicks at once, as the bench does (what is still running then delays the click).
    await page.waitForTimeout(Number(process.env.SETTLE ?? 2000));
    before = await start();
    if (process.env.COUNT_DOM) await page.evaluate(() => { window.COUNT_DOM = 1; });
    await page.evaluate((m) => { window.MEMBERS = m; }, process.env.MEMBERS ?? '99');
    await page.evaluate(() => {
      window.__m = { attrs: {}, removed: 0, inserted: 0 };
      if (window.COUNT_DOM) {
        const set = Element.prototype.setAttribute;
        window.__m.ms = {}; Element.prototype.setAttribute = function (k, v) { window.__m.attrs[k] = (window.__m.attrs[k] ?? 0) + 1; const t = performance.now(); const r = set.call(this, k, v); const mk = k === "type" ? k + "=" + v : k; window.__m.ms[mk] = (window.__m.ms[mk] ?? 0) + performance.now() - t; return r; };
        const rm = Node.prototype.removeChild;
        Node.prototype.removeChild = function (c) { window.__m.removed++; return rm.call(this, c); };
        const ins = Node.prototype.insertBefore;
        Node.prototype.insertBefore = function (a, b) { window.__m.inserted++; return ins.call(this, a, b); };
      }
      addEventListener('click', (e) => { window.__m.click = e.timeStamp; window.__m.handlerStart = performance.now(); }, { capture: true, once: true });
      // After the app's own (delegated) click listener: the rest until `done` is rendering.
      addEventListener('click', () => { window.__m.handlerEnd = performance.now(); }, { once: true });
      new MutationObserver(() => { if (!window.__m.done && document.querySelector('[data-count="' + (Number(window.MEMBERS ?? 99) + 1) + '"]')) window.__m.done = performance.now(); }).observe(document, { subtree: true, childList: true, attributes: true });
    });
    if (process.env.JSCLICK) await page.evaluate(() => document.querySelector('[data-add-repeat="members"]').click());
    else if (process.env.RAWCLICK) {
      const add = page.locator('[data-add-repeat="members"]');
      await add.scrollIntoViewIfNeeded();
      const box = await add.boundingBox();
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    } else await page.locator('[data-add-repeat="members"]').click();
    await page.locator('[data-count="' + (Number(process.env.MEMBERS ?? 99) + 1) + '"]').first().waitFor({ state: 'attached' });
    console.log('in-page:', await page.evaluate(() => JSON.stringify({ click: window.__m.click, handler: window.__m.handlerStart - window.__m.click, handlerEnd: window.__m.handlerEnd - window.__m.click, done: window.__m.done - window.__m.click, attrs: window.__m.attrs, ms: window.__m.ms, removed: window.__m.removed, inserted: window.__m.inserted })));
  } else {
    await page.locator('#app [data-question="q0"] input').click();
    await page.waitForTimeout(3000);
    before = await start();
    await page.evaluate(() => {
      const k = window.__k = {};
      addEventListener('keydown', (e) => { k.down = e.timeStamp; }, { capture: true, once: true });
      addEventListener('input', () => { k.input = performance.now() - k.down; }, { capture: true, once: true });
      addEventListener('input', () => { k.inputEnd = performance.now() - k.down; }, { once: true });
      new MutationObserver((_, mo) => {
        const q = document.querySelector('#app [data-question="q3"]');
        if (q && k.down !== undefined) { k.dom = performance.now() - k.down; q.getBoundingClientRect(); k.layout = performance.now() - k.down; mo.disconnect(); }
      }).observe(document, { subtree: true, childList: true });
    });
    await page.keyboard.press('9');
    await page.locator('#app [data-question="q3"]').waitFor();
    console.log('in-page:', await page.evaluate(() => JSON.stringify(window.__k)));
  }
  if (!process.env.NOWAIT) await page.waitForTimeout(400);
}
const after = await metrics();
if (tracing) {
  const events = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
  // From the interaction's event: every main-thread event over 1 ms in the next 150 ms.
  const trigger = events.find((e) => e.name === 'EventDispatch' && ['click', 'keydown'].includes(e.args?.data?.type));
  const t0 = trigger ? trigger.ts : events.filter((e) => e.name === 'RunTask')[0].ts;
  const tid = trigger?.tid;
  const rows = events.filter((e) => e.ph === 'X' && (tid === undefined || e.tid === tid) && e.ts >= t0 - Number(process.env.PRE ?? 1) * 1000 && e.ts <= t0 + Number(process.env.WINDOW ?? 150) * 1000 && e.dur > Number(process.env.MIN ?? 1) * 1000);
  for (const e of rows.sort((x, y) => x.ts - y.ts)) {
    const detail = e.args?.data?.type ?? e.args?.data?.functionName ?? '';
    console.log(`+${((e.ts - t0) / 1000).toFixed(1).padStart(6)} ms  ${(e.dur / 1000).toFixed(1).padStart(6)} ms  ${e.name} ${detail}`);
  }
}
const { profile } = process.env.NOPROFILE ? { profile: { nodes: [], samples: [], timeDeltas: [] } } : await cdp.send('Profiler.stop');
for (const k of ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'Nodes', 'JSHeapUsedSize']) {
  const d = after[k] - (before[k] ?? 0);
  console.log(k.padEnd(22), k.endsWith('Duration') ? `${(d * 1000).toFixed(1)} ms (delta)` : `${after[k]}`);
}
// Self time by function.
const self = new Map();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = profile.timeDeltas;
profile.samples.forEach((id, i) => {
  const n = byId.get(id);
  const f = n.callFrame;
  const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}${f.url ? ':' + f.lineNumber : ''}`;
  self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
});
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log(`profile: ${total.toFixed(0)} ms sampled`);
for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${v.toFixed(1).padStart(8)} ms  ${k}`);
// Inclusive time by function (each function counted once per sample): where the app's time goes.
if (process.env.INCLUSIVE) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map();
  profile.samples.forEach((id, i) => {
    const seen = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const f = byId.get(n).callFrame;
      const key = (f.functionName || '(anon)').replace(/::h[0-9a-f]{16}$/, '').slice(0, 150);
      if (!seen.has(key)) { seen.add(key); incl.set(key, (incl.get(key) ?? 0) + (dt[i] ?? 0) / 1000); }
    }
  });
  const re = new RegExp(process.env.INCLUSIVE === '1' ? '.' : process.env.INCLUSIVE);
  for (const [k, v] of [...incl.entries()].filter(([k]) => re.test(k)).sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 50))) console.log(`${v.toFixed(1).padStart(8)} ms  ${k}`);
}
await browser.close();
await server.close();
