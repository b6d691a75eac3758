// The harness of the end-to-end tests: starts Debian's Chromium through playwright-core
// (never a browser Playwright downloads), opens the app served by `cargo xtask test` /
// `cargo xtask e2e`, collects console errors, takes screenshots, and can kill the browser
// hard to prove that no answer is lost.
//
// Environment (set by the xtask; defaults suit a `cargo xtask serve` running by hand):
//   DOORSTEP_URL   base URL of the served site, ending in '/' (default http://127.0.0.1:8080/)
//   DOORSTEP_DIST  folder of the built site (for tests that serve it themselves: startServer)
//   DOORSTEP_CLI   the `doorstep` command, to read exported bundles back with the engine
//                  (default target/debug/doorstep): see doorstep()
//
// Typical test:
//   import { test } from 'node:test';
//   import assert from 'node:assert/strict';
//   import { launch, screenshot } from './lib.mjs';
//   test('opens', async (t) => {
//     const app = await launch();
//     t.after(() => app.close());
//     await app.page.goto(app.url('#/forms'));
//     await screenshot(app.page, 'forms');
//     assert.deepEqual(app.errors, []);
//   });

import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BASE_URL = withSlash(process.env.DOORSTEP_URL ?? 'http://127.0.0.1:8080/');
export const DIST = process.env.DOORSTEP_DIST ?? join(ROOT, 'target', 'dist');
export const SCREENSHOTS = join(ROOT, 'target', 'screenshots');
export const CHROMIUM = '/usr/bin/chromium';
export const CLI = process.env.DOORSTEP_CLI ?? join(ROOT, 'target', 'debug', 'doorstep');

// As root, in a sandbox with no network but the package registries: no sandbox, no GPU, and
// none of Chromium's own background connections (each would be refused and logged).
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// A phone of the kind surveyors carry (issue 3: usable one-handed on 360 x 640).
export const PHONE = {
  viewport: { width: 360, height: 640 },
  hasTouch: true,
  isMobile: true,
};

function withSlash(url) {
  return url.endsWith('/') ? url : `${url}/`;
}

/** A URL of the app: `url('#/forms')`, `url('forms/index.json')`. */
export function url(path = '', base = BASE_URL) {
  return new URL(path, base).href;
}

function contextOptions(options) {
  const { viewport, locale, timezoneId, ...rest } = options;
  return {
    ...PHONE,
    viewport: viewport ?? PHONE.viewport,
    locale: locale ?? 'zh-CN',
    timezoneId: timezoneId ?? 'Asia/Shanghai',
    ...rest,
  };
}

// Records console errors and uncaught exceptions of every page of a context, as readable
// strings, so a test can end with `assert.deepEqual(app.errors, [])`.
function watchErrors(context) {
  const errors = [];
  const watch = (page) => {
    page.on('console', (message) => {
      if (message.type() === 'error') {
        const where = message.location();
        errors.push(`console error: ${message.text()}${where?.url ? ` (${where.url}:${where.lineNumber})` : ''}`);
      }
    });
    page.on('pageerror', (error) => errors.push(`uncaught: ${error.stack ?? error.message}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return errors;
}

/**
 * Starts a fresh browser with a fresh, in-memory profile and one page.
 * Options: anything of Playwright's `browser.newContext` (viewport defaults to 360 x 640,
 * locale to zh-CN, time zone to Asia/Shanghai), plus `base` (the site URL).
 * Returns { browser, context, page, errors, url(path), close() }.
 */
export async function launch(options = {}) {
  const { base = BASE_URL, ...rest } = options;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext(contextOptions(rest));
  const errors = watchErrors(context);
  const page = await context.newPage();
  return {
    browser,
    context,
    page,
    errors,
    url: (path) => url(path, base),
    close: () => browser.close().catch(() => {}),
  };
}

const profiles = [];
process.on('exit', () => profiles.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A new empty profile folder for `launchPersistent`, removed when the process exits. */
export function tempProfile() {
  const dir = mkdtempSync(join(tmpdir(), 'doorstep-profile-'));
  profiles.push(dir);
  return dir;
}

/**
 * Starts Chromium on a profile kept on disk (IndexedDB, service worker and caches survive a
 * restart). Start again with the same folder to find what the last run stored.
 * Returns { context, page, errors, url(path), close(), kill() }; `kill()` ends every process
 * of this browser with SIGKILL, as a dead battery would, and waits until they are gone.
 */
export async function launchPersistent(userDataDir = tempProfile(), options = {}) {
  const { base = BASE_URL, ...rest } = options;
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    ...contextOptions(rest),
  });
  const errors = watchErrors(context);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    errors,
    userDataDir,
    url: (path) => url(path, base),
    close: () => context.close().catch(() => {}),
    kill: () => killBrowser(userDataDir),
  };
}

// Playwright does not expose the process of a persistent context, so the browser is found by
// its profile folder, unique to the test, on its command line; its renderer, GPU and utility
// processes are then found as its descendants.
function browserPids(userDataDir) {
  const needle = `--user-data-dir=${userDataDir}`;
  const parents = new Map();
  const roots = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      // The parent id is the 4th field of /proc/PID/stat, after the parenthesised name.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue; // already dead, only waiting to be reaped
      parents.set(Number(entry), Number(fields[1]));
      if (cmdline.split('\0').includes(needle)) roots.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  const pids = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (!pids.has(pid) && pids.has(parent)) {
        pids.add(pid);
        grew = true;
      }
    }
  }
  return [...pids];
}

/** SIGKILLs every process of the browser using `userDataDir`; resolves to their ids when none is left. */
export async function killBrowser(userDataDir) {
  const pids = browserPids(userDataDir);
  if (pids.length === 0) throw new Error(`no browser process uses the profile ${userDataDir}; was it launched with launchPersistent?`);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 10_000;
  while (browserPids(userDataDir).length > 0) {
    if (Date.now() > deadline) throw new Error(`the browser on ${userDataDir} did not die within 10 s of SIGKILL`);
    await new Promise((done) => setTimeout(done, 50));
  }
  return pids;
}

/**
 * Writes `target/screenshots/NAME.png` (full page unless `fullPage: false`) and returns its path.
 * A full page is taken from the top and the scroll put back after: taken where the page is
 * scrolled, it would show the sticky bars in the middle of the picture.
 */
export async function screenshot(page, name, options = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  const fullPage = options.fullPage ?? true;
  const y = fullPage ? await page.evaluate(() => window.scrollY) : 0;
  if (y) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage, ...options });
  if (y) await page.evaluate((y) => window.scrollTo(0, y), y);
  return path;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * Serves the built site (DOORSTEP_DIST) from this test process on a free loopback port, for
 * tests that must take the server away (offline start) rather than only block the network.
 * Returns { url, close() }.
 */
export async function startServer(dir = DIST) {
  const root = resolve(dir);
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      response.writeHead(400).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = readFileSync(file);
      response.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Cache-Control': 'no-cache',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections?.();
        server.close(() => done());
      }),
  };
}

/** Chromium's version line, for reports (bench-web), or null when it cannot run. */
export function chromiumVersion() {
  const result = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

/**
 * Runs the `doorstep` command (`doorstep(['lint', file])`) and returns { status, stdout, stderr };
 * `input` is written to its standard input. Time zone and clock are the caller's to fix (TZ in
 * `env`, `--now` in the arguments).
 */
export function doorstep(args, { input, env } = {}) {
  const result = spawnSync(CLI, args, { input, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new Error(`cannot run ${CLI}: ${result.error.message}; build it with \`cargo build -p doorstep-cli\``);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
