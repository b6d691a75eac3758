// The app's speed in headless Chromium (issue 3, "Speed"), run by `cargo xtask bench-web`, which
// builds the site with the generated forms `bench_scroll` and `bench_pages` and serves it.
// What the app provides for it (a route and data attributes) is in docs/bench-web-protocol.md.
// Options: --runs N (default 3), --rate R (repeatable; default 1 and 4).

import { chromium } from 'playwright-core';
import { gzipSync } from 'node:zlib';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_URL, CHROMIUM, CHROMIUM_ARGS, DIST, PHONE, ROOT, chromiumVersion, url } from '../e2e/lib.mjs';

const options = parseArgs(process.argv.slice(2));
const LOAD_TIMEOUT = 60_000;
const STEP_TIMEOUT = 10_000;

function parseArgs(args) {
  const parsed = { runs: 3, rates: [] };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') parsed.runs = Number(args[++i]);
    else if (args[i] === '--rate') parsed.rates.push(Number(args[++i]));
    else throw new Error(`unknown argument ${args[i]}; use --runs N or --rate R`);
  }
  if (!(parsed.runs >= 1)) throw new Error('--runs needs a number of at least 1');
  if (parsed.rates.length === 0) parsed.rates = [1, 4];
  return parsed;
}

// Installed in every page before its own scripts: records, from inside the page, when things
// appear in the DOM. Times are performance.now(), so they count from navigation start, and the
// start of an interaction is its event's timeStamp on the same clock. Visibility needs layout,
// so each time includes style and layout of the change, not only the DOM write.
function pageProbe() {
  const bench = { firstQuestion: null, appQuestion: null, armed: [] };
  window.__bench = bench;
  const visible = (element) => {
    if (!element || element.closest('[hidden]')) return false;
    const rect = element.getBoundingClientRect();
    return rect.width > 0 && rect.height > 0 && rect.bottom > 0 && rect.top < innerHeight;
  };
  const check = () => {
    const now = performance.now();
    if (bench.firstQuestion === null || bench.appQuestion === null) {
      for (const element of document.querySelectorAll('[data-question]')) {
        if (visible(element)) {
          if (bench.firstQuestion === null) bench.firstQuestion = now;
          // The first question drawn by the app itself, not by index.html's plain first page.
          if (bench.appQuestion === null && !element.closest('[data-prerendered]')) bench.appQuestion = now;
          if (bench.appQuestion !== null) break;
        }
      }
    }
    for (const watch of bench.armed) {
      if (watch.start !== null && watch.end === null && watch.done(visible)) watch.end = now;
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  // Waits for `done` to hold after the next event of type `event`; returns the watch, whose
  // `end - start` is the measured time.
  bench.arm = (name, event, done) => {
    const watch = { name, start: null, end: null, done };
    bench.armed.push(watch);
    addEventListener(event, (e) => { if (watch.start === null) watch.start = e.timeStamp; }, { capture: true, once: true });
    return watch;
  };
  bench.result = (name) => {
    const watch = bench.armed.find((w) => w.name === name);
    return watch && watch.end !== null ? watch.end - watch.start : null;
  };
}

// A numeric question without relevance on the form's first page, and the nearest later question
// on that page made relevant by it (`${q} > k`): typing 9 shows it.
function dependentPair(form) {
  const page = form.items.find((item) => item.type === 'group');
  const items = page.items;
  let best = null;
  for (let i = 0; i < items.length; i++) {
    const dependent = items[i];
    const match = /^\$\{(\w+)\} > (\d+)$/.exec(dependent.relevant ?? '');
    if (!match || dependent.type === 'calculate') continue;
    const j = items.findIndex((item) => item.name === match[1]);
    const typed = items[j];
    if (j < 0 || j >= i || typed.relevant || !['integer', 'decimal'].includes(typed.type) || Number(match[2]) >= 9) continue;
    if (!best || i - j < best.distance) best = { typed: typed.name, dependent: dependent.name, distance: i - j };
  }
  if (!best) throw new Error(`the generated form ${form.id} has no question made relevant by a number on its first page`);
  return best;
}

const median = (values) => {
  const known = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  return known.length ? known[Math.floor((known.length - 1) / 2)] : null;
};

async function newPage(browser, rate) {
  // Service workers are blocked: the first visit's precaching would compete with the app for
  // the (throttled) CPU and the measure would depend on the service worker's strategy.
  const context = await browser.newContext({ ...PHONE, locale: 'zh-CN', serviceWorkers: 'block' });
  await context.addInitScript(pageProbe);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  return { context, page, cdp, errors };
}

async function waitFor(page, predicate, arg, timeout, what) {
  try {
    await page.waitForFunction(predicate, arg, { timeout, polling: 50 });
    return true;
  } catch {
    notes.add(what);
    return false;
  }
}

const notes = new Set();

// One load of a form: first question, then a keystroke with its dependent question and the
// autosave that follows, then the heap. Each in a fresh context (empty cache and IndexedDB).
async function loadRun(browser, rate, formId, pair, measureTransfer) {
  const { context, page, cdp, errors } = await newPage(browser, rate);
  const result = {};
  const responses = [];
  if (measureTransfer) page.on('response', (response) => responses.push(response));
  try {
    await page.goto(url(`#/bench?form=${formId}`), { waitUntil: 'commit' });
    const shown = await waitFor(page, () => window.__bench.firstQuestion !== null, null, LOAD_TIMEOUT,
      `no visible [data-question] on #/bench?form=${formId}: is the bench route there?`);
    if (!shown) return result;
    result.firstQuestion = await page.evaluate(() => window.__bench.firstQuestion);
    // Interaction starts once the app has taken over (typing into the plain first page works too,
    // but then the keystroke would measure the app's start, not the keystroke).
    const ready = await waitFor(page, () => window.__bench.appQuestion !== null, null, LOAD_TIMEOUT,
      `the app never rendered a [data-question] outside [data-prerendered] on ${formId}`);
    if (!ready) return result;
    result.appQuestion = await page.evaluate(() => window.__bench.appQuestion);

    if (measureTransfer) result.transfer = await transfer(responses);

    const input = page.locator(`[data-question="${pair.typed}"] :is(input, textarea)`).first();
    try {
      await input.click({ timeout: STEP_TIMEOUT });
    } catch {
      notes.add(`no input to click in [data-question="${pair.typed}"] on ${formId}`);
      return result;
    }
    await page.evaluate(({ dependent }) => {
      const bench = window.__bench;
      bench.arm('keystroke', 'keydown', (visible) => visible(document.querySelector(`[data-question="${dependent}"]`)));
      let left = false;
      bench.arm('autosave', 'keydown', () => {
        const state = document.querySelector('[data-save-state]')?.getAttribute('data-save-state');
        if (state !== 'saved') left = true;
        return left && state === 'saved';
      });
    }, pair);
    await page.keyboard.press('9');
    if (await waitFor(page, () => window.__bench.result('keystroke') !== null, null, STEP_TIMEOUT,
      `[data-question="${pair.dependent}"] did not appear after typing 9 into ${pair.typed}`)) {
      result.keystroke = await page.evaluate(() => window.__bench.result('keystroke'));
    }
    if (await waitFor(page, () => window.__bench.result('autosave') !== null, null, STEP_TIMEOUT,
      'no [data-save-state] went to "saved" after a keystroke')) {
      result.autosave = await page.evaluate(() => window.__bench.result('autosave'));
    }

    await cdp.send('HeapProfiler.collectGarbage');
    result.heap = (await cdp.send('Runtime.getHeapUsage')).usedSize;
    result.wasmMemory = await page.evaluate(() => globalThis.doorstepWasm?.memory?.buffer?.byteLength ?? null);
    return result;
  } finally {
    if (errors.length) notes.add(`console errors on ${formId}: ${errors.slice(0, 3).join(' | ')}`);
    await context.close();
  }
}

async function memberRun(browser, rate) {
  const { context, page, errors } = await newPage(browser, rate);
  try {
    await page.goto(url('#/bench?form=bench_pages&page=household&members=99'), { waitUntil: 'commit' });
    const add = page.locator('[data-add-repeat="members"]').first();
    try {
      await add.waitFor({ state: 'visible', timeout: LOAD_TIMEOUT });
    } catch {
      notes.add('no visible [data-add-repeat="members"] on #/bench?form=bench_pages&page=household&members=99');
      return null;
    }
    await page.evaluate(() => {
      window.__bench.arm('member', 'click', () => document.querySelector('[data-repeat="members"][data-count="100"]') !== null);
    });
    // Playwright's click waits for the button to stand still (the new page scrolls in the frame after
    // it renders) and checks the hit target. A raw tap at its box (profile-web.mjs RAWCLICK=1) leaves
    // Playwright's listeners out of the measured events but can land where the button was before that
    // scroll; an A/B of 15 runs each found the same medians (docs/benchmarks.md, session 10).
    await add.click();
    const added = await waitFor(page, () => window.__bench.result('member') !== null, null, STEP_TIMEOUT,
      'no [data-repeat="members"][data-count="100"] after adding the 100th member');
    return added ? await page.evaluate(() => window.__bench.result('member')) : null;
  } finally {
    if (errors.length) notes.add(`console errors on the roster: ${errors.slice(0, 3).join(' | ')}`);
    await context.close();
  }
}

// What every response the page needed to show its first question weighed, by kind: `served` is
// the body as it came over the wire (the server sends the site's gzip copies, made with zopfli),
// `gzip9` the same bodies in gzip -9, the figure recorded before the site was precompressed.
async function transfer(responses) {
  const kinds = {};
  for (const response of responses) {
    let body;
    try {
      body = await response.body();
    } catch {
      continue; // a redirect or a response without a body
    }
    const path = new URL(response.url()).pathname;
    const kind = path.startsWith('/forms/') ? 'forms' : path.endsWith('.wasm') ? 'wasm' : path.endsWith('.js') ? 'js' : 'html, css, other';
    const gzip9 = gzipSync(body, { level: 9 }).length;
    const encoded = (await response.headers())['content-encoding'] === 'gzip';
    const served = encoded ? (await response.request().sizes()).responseBodySize : gzip9;
    const sums = (kinds[kind] ??= { served: 0, gzip9: 0 });
    sums.served += served;
    sums.gzip9 += gzip9;
  }
  return kinds;
}

async function main() {
  const form = JSON.parse(readFileSync(join(DIST, 'forms', 'bench_pages.form.json'), 'utf8'));
  const pair = dependentPair(form);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const results = { date: new Date().toISOString(), chromium: chromiumVersion(), url: BASE_URL, runs: options.runs, pair, rates: {} };
  console.log(`${results.chromium}; ${options.runs} run(s) per figure, median; typing into ${pair.typed}, expecting ${pair.dependent}`);
  try {
    // One quick look first, so that an app without the bench hooks gets one clear message
    // rather than a minute-long timeout per figure.
    const { context, page } = await newPage(browser, 1);
    await page.goto(url('#/bench?form=bench_pages'), { waitUntil: 'commit' });
    const ready = await waitFor(page, () => window.__bench.firstQuestion !== null, null, 30_000, 'preflight');
    await context.close();
    if (!ready) {
      console.error('no visible [data-question] within 30 s on #/bench?form=bench_pages: the app does not implement docs/bench-web-protocol.md yet');
      process.exitCode = 1;
      return;
    }
    notes.delete('preflight');
    for (const rate of options.rates) {
      const figures = {};
      const scroll = [];
      const pages = [];
      const members = [];
      for (let run = 0; run < options.runs; run++) {
        if (process.stdout.isTTY) process.stdout.write(`  CPU ${rate}x, run ${run + 1}/${options.runs}\r`);
        scroll.push(await loadRun(browser, rate, 'bench_scroll', pair, run === 0 && rate === options.rates[0]));
        pages.push(await loadRun(browser, rate, 'bench_pages', pair, run === 0 && rate === options.rates[0]));
        members.push(await memberRun(browser, rate));
      }
      figures.firstQuestionScroll = median(scroll.map((r) => r.firstQuestion));
      figures.firstQuestionPages = median(pages.map((r) => r.firstQuestion));
      figures.appQuestionScroll = median(scroll.map((r) => r.appQuestion));
      figures.appQuestionPages = median(pages.map((r) => r.appQuestion));
      figures.keystrokeScroll = median(scroll.map((r) => r.keystroke));
      figures.keystrokePages = median(pages.map((r) => r.keystroke));
      figures.member100 = median(members);
      figures.autosave = median([...scroll, ...pages].map((r) => r.autosave));
      figures.heapScroll = median(scroll.map((r) => r.heap));
      figures.wasmMemoryScroll = median(scroll.map((r) => r.wasmMemory));
      results.rates[rate] = figures;
      if (scroll[0]?.transfer) results.transferScroll = scroll[0].transfer;
      if (pages[0]?.transfer) results.transferPages = pages[0].transfer;
    }
  } finally {
    await browser.close();
  }
  printTable(results);
  mkdirSync(join(ROOT, 'target'), { recursive: true });
  writeFileSync(join(ROOT, 'target', 'bench-web.json'), JSON.stringify(results, null, 2) + '\n');
  console.log('\nwritten to target/bench-web.json');
}

function printTable(results) {
  const rates = Object.keys(results.rates);
  const ms = (v) => (v === null || v === undefined ? 'n/a' : v < 100 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);
  const mb = (v) => (v === null || v === undefined ? 'n/a' : `${(v / 1024 / 1024).toFixed(1)} MB`);
  const kib = (v) => (v === null || v === undefined ? 'n/a' : `${(v / 1024).toFixed(1)} KiB`);
  const rows = [
    ['first question, one page', 'firstQuestionScroll', ms, 2700],
    ['first question, paged', 'firstQuestionPages', ms, 500],
    ['  same, drawn by the app, one page', 'appQuestionScroll', ms, null],
    ['  same, drawn by the app, paged', 'appQuestionPages', ms, null],
    ['keystroke -> dependent, one page', 'keystrokeScroll', ms, 16],
    ['keystroke -> dependent, paged', 'keystrokePages', ms, 16],
    ['add the 100th member', 'member100', ms, 16],
    ['autosave, keystroke -> saved', 'autosave', ms, 300],
    ['JS heap, one page', 'heapScroll', mb, 15 * 1024 * 1024],
    ['wasm memory, one page', 'wasmMemoryScroll', mb, null],
  ];
  const slowest = rates[rates.length - 1];
  const head = ['', ...rates.map((r) => `CPU ${r}x`), `target (${slowest}x)`, ''];
  const lines = [head];
  for (const [label, key, format, target] of rows) {
    const last = results.rates[slowest][key];
    const verdict = target === null || last === null || last === undefined ? '' : last <= target ? 'ok' : 'MISSED';
    lines.push([label, ...rates.map((r) => format(results.rates[r][key])), target === null ? '' : format(target), verdict]);
  }
  const transferRows = [['transfer (gzip), paged', results.transferPages], ['transfer (gzip), one page', results.transferScroll]];
  for (const [label, kinds] of transferRows) {
    if (!kinds) continue;
    const shell = (measure) => Object.entries(kinds).filter(([kind]) => kind !== 'forms').reduce((sum, [, sizes]) => sum + sizes[measure], 0);
    const served = shell('served');
    const blank = rates.slice(1).map(() => '');
    lines.push([`${label}: app shell as served`, kib(served), ...blank, kib(230 * 1024), served <= 230 * 1024 ? 'ok' : 'MISSED']);
    lines.push([`${label}: app shell in gzip -9`, kib(shell('gzip9')), ...blank, '', '']);
    lines.push([`${label}: forms as served`, kib(kinds.forms?.served ?? 0), ...blank, '', '']);
  }
  const widths = head.map((_, column) => Math.max(...lines.map((line) => String(line[column]).length)));
  console.log('');
  for (const line of lines) {
    console.log(line.map((cell, column) => (column === 0 ? String(cell).padEnd(widths[column]) : String(cell).padStart(widths[column]))).join('  '));
  }
  for (const note of notes) console.log(`note: ${note}`);
}

await main();
