// A look inside one bench scenario (not part of `cargo xtask bench-web`): where the time goes at
// CPU 4x, from CDP's Performance metrics and a sampling CPU profile summarised by function.
// node tests/bench/profile-web.mjs [load-pages|load-scroll|member|key-scroll|key-pages] [rate]
// Serves DOORSTEP_DIST (default target/bench-dist) itself.
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
const route = { 'load-pages': '#/bench?form=bench_pages', 'load-scroll': '#/bench?form=bench_scroll', member: '#/bench?form=bench_pages&page=household&members=99', 'key-scroll': '#/bench?form=bench_scroll', 'key-pages': '#/bench?form=bench_pages' }[scenario];
const start = async () => { await cdp.send('Profiler.start'); return metrics(); };
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
    await page.waitForTimeout(2000);
    before = await start();
    await page.locator('[data-add-repeat="members"]').click();
    await page.locator('[data-count="100"]').first().waitFor({ state: 'attached' });
  } else {
    await page.locator('#app [data-question="q0"] input').click();
    await page.waitForTimeout(3000);
    before = await start();
    await page.keyboard.press('9');
    await page.locator('#app [data-question="q3"]').waitFor();
  }
  await page.waitForTimeout(400);
}
const after = await metrics();
const { profile } = await cdp.send('Profiler.stop');
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
await browser.close();
await server.close();
