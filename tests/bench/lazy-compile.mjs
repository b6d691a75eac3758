// How many WebAssembly functions V8 compiles lazily (on their first call) during the bench's first
// keystroke (the 60 ms after its keydown) and in the click of its first roster add, at CPU 4x, and the
// same for a second keystroke and a second add, with the time the app took to handle each (the
// `input` event's and the click's dispatch): the figures of docs/benchmarks.md ("App speed", third
// pass). Not part of `cargo xtask bench-web`; run it on the site that command built:
//
//   cargo xtask bench-web --runs 1 --rate 4          # builds target/bench-dist
//   node tests/bench/lazy-compile.mjs [runs]         # DOORSTEP_DIST to read another build
//
// With a build made with DOORSTEP_KEEP_NAMES=1, NAMES=1 also lists the functions compiled, by name
// (read from the wasm name section). Counts are stable from run to run; the milliseconds are not.

import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, PHONE, ROOT, startServer } from '../e2e/lib.mjs';

const dist = process.env.DOORSTEP_DIST ?? join(ROOT, 'target', 'bench-dist');
const runs = Number(process.argv[2] ?? 3);
const server = await startServer(dist);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const CATEGORIES = ['devtools.timeline', 'v8.wasm', 'disabled-by-default-v8.wasm.detailed'];

/**
 * The `wasm.CompileLazy` events on the main thread from the (last) event `type` until `ms` after it, or
 * until the end of its dispatch without `ms` (the autosave's write, 150 ms later, is not counted).
 */
function lazyCompiles(events, type, ms) {
  const trigger = events.findLast((e) => e.name === 'EventDispatch' && e.args?.data?.type === type);
  if (!trigger) return [];
  const end = trigger.ts + (ms === undefined ? trigger.dur : ms * 1000);
  return events.filter((e) => e.ph === 'X' && e.tid === trigger.tid && e.name === 'wasm.CompileLazy'
    && e.ts >= trigger.ts && e.ts <= end);
}

async function traced(page, action) {
  await browser.startTracing(page, { categories: CATEGORIES });
  await action();
  await page.waitForTimeout(100);
  return JSON.parse((await browser.stopTracing()).toString()).traceEvents;
}

/** How long the app took to handle the (last) event `type` (its dispatch, in ms), from the same trace. */
function handled(events, type) {
  const e = events.findLast((x) => x.name === 'EventDispatch' && x.args?.data?.type === type);
  return e ? e.dur / 1000 : NaN;
}

/**
 * Opens `route`, waits for `ready`, then traces `first` and `second` (the same action done again, warm):
 * for each, the lazy compilations after the event `type` and the time the app took to handle `handler`.
 */
async function scenario(route, ready, [first, second], type, ms, handler = type) {
  const context = await browser.newContext({ ...PHONE, locale: 'zh-CN', serviceWorkers: 'block' });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await page.goto(server.url + route);
  await ready(page);
  const out = [];
  for (const act of [first, second]) {
    const events = await traced(page, () => act(page));
    out.push({ compiles: lazyCompiles(events, type, ms), handled: handled(events, handler) });
  }
  await context.close();
  return out;
}

const scenarios = {
  'keystroke (bench_pages, q0)': () => scenario(
    '#/bench?form=bench_pages',
    async (page) => {
      await page.locator('#app [data-question="q0"] input').click();
      await page.waitForTimeout(300);
    },
    [
      async (page) => {
        await page.keyboard.press('9');
        await page.locator('#app [data-question="q3"]').waitFor();
      },
      async (page) => {
        await page.waitForTimeout(500);
        await page.keyboard.press('8');
      },
    ],
    'keydown',
    60, // the keydown, the input event and the render of the dependent question
    'input',
  ),
  'add (member 99, then 100, of bench_pages)': () => scenario(
    '#/bench?form=bench_pages&page=household&members=98',
    async (page) => {
      await page.locator('[data-add-repeat="members"]').waitFor();
      await page.waitForTimeout(300);
    },
    [
      async (page) => {
        await page.locator('[data-add-repeat="members"]').click();
        await page.locator('[data-count="99"]').first().waitFor({ state: 'attached' });
      },
      async (page) => {
        await page.click('[data-testid=back-to-list]');
        await page.waitForTimeout(500);
        await page.locator('[data-add-repeat="members"]').click();
        await page.locator('[data-count="100"]').first().waitFor({ state: 'attached' });
      },
    ],
    'click',
  ),
};

/** Function names by index, from the wasm's name section (empty if the build has none). */
function wasmNames(file) {
  const b = readFileSync(file);
  const names = new Map();
  const leb = (i) => { let r = 0, s = 0, x; do { x = b[i++]; r += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80); return [r, i]; };
  let i = 8;
  while (i < b.length) {
    const id = b[i++];
    let size; [size, i] = leb(i);
    const end = i + size;
    if (id === 0) {
      let [len, j] = leb(i);
      if (b.toString('utf8', j, j + len) === 'name') {
        j += len;
        while (j < end) {
          const sub = b[j++];
          let ssize; [ssize, j] = leb(j);
          const send = j + ssize;
          if (sub === 1) {
            let count; [count, j] = leb(j);
            for (let k = 0; k < count; k++) {
              let idx, l; [idx, j] = leb(j); [l, j] = leb(j);
              names.set(idx, b.toString('utf8', j, j + l).replace(/::h[0-9a-f]{16}$/, ''));
              j += l;
            }
          }
          j = send;
        }
      }
    }
    i = end;
  }
  return names;
}

const names = process.env.NAMES ? wasmNames(join(dist, 'doorstep_web_bg.wasm')) : new Map();
for (const [label, run] of Object.entries(scenarios)) {
  const rows = [[], []];
  let last = [];
  for (let r = 0; r < runs; r++) {
    last = await run();
    last.forEach((x, k) => rows[k].push(`${x.compiles.length} (${(x.compiles.reduce((s, e) => s + e.dur, 0) / 1000).toFixed(1)} ms), handled in ${x.handled.toFixed(1)} ms`));
  }
  console.log(`${label}, first time: lazy compilations ${rows[0].join('; ')}`);
  console.log(`${label}, again:      lazy compilations ${rows[1].join('; ')}`);
  if (names.size) {
    for (const e of last[0].compiles) console.log(`    ${names.get(e.args.func_index) ?? e.args.func_index}`);
  }
}
await browser.close();
server.close?.();
process.exit(0);
