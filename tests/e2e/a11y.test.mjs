// The phone promise of issue 3, checked on every screen a surveyor meets, on a 360 x 640 phone
// (lib.mjs's PHONE), in Chinese and in English: the forms list, fill pages with every widget the
// shipped forms use (text, whole and decimal numbers, date, drop-down, radio and likert choices,
// check boxes, long text, GPS, photo, signature), a roster with members, a member's page, a
// confirmation sheet (remove a member), the contents, the review with problems, the drafts, the
// finalized interviews, export and settings. On each screen:
//   1. no horizontal scrolling: the page is no wider than the screen, and no visible element or
//      line of text passes its right edge;
//   2. every control has an accessible name, as Chromium's accessibility tree (read through the
//      DevTools protocol) gives it to a screen reader;
//   3. every visible control is a touch target of at least 44 x 44 CSS px (a check box, radio
//      button or file input counts through the label that wraps it or is tied to it). No link
//      is exempt: the app has none in running text (labels are text only, never HTML).
// And on the fill pages:
//   4. a missing required answer or a failed constraint shows a message in a live region (or
//      role=alert) that was there before the message (so it is announced), and the question's
//      control points to it (aria-describedby or aria-errormessage), still with its hint, and is
//      marked invalid (a group of check boxes cannot be);
//   5. the keyboard: Tab reaches the first question's input and the previous and next buttons,
//      Space answers a radio question and presses a button, Enter presses one; a dialog takes
//      the focus when it opens, Escape closes it, and the focus goes back where it was;
//   6. the on-screen keyboard: with the page resized to 360 x 340 (what the keyboard leaves), each
//      field Tab focuses is in full view, under the bars that stay at the top and above the
//      buttons at the bottom.
// Every offender is reported by tag, attributes, text and a selector, with the screen it is on,
// all of them at the end. Screenshots: target/screenshots/a11y-<lang>-<nn>-<screen>.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PHONE, launch, screenshot } from './lib.mjs';
import { addMember, answer, backToList, install, next, open, saved, sign, start } from './app.mjs';

const WIDTH = PHONE.viewport.width;
const MIN_TARGET = 44;
const KEYBOARD_OPEN_HEIGHT = 340;

// What a finger or the keyboard can act on. A negative tabindex only lets the app move the focus
// there (a page title after navigation), so it is no control.
const CONTROLS =
  'button, a[href], input:not([type=hidden]), select, textarea, [role=button], [tabindex]:not([tabindex^="-"])';

// The roles of Chromium's accessibility tree that must have a name.
const NAMED_ROLES = new Set([
  'button', 'link', 'textbox', 'combobox', 'checkbox', 'radio', 'spinbutton', 'slider', 'listbox', 'searchbox', 'menuitem',
]);

/** An element as a person reads it: tag, id, telling attributes, text, and where it is. Runs in the page. */
function describe(el) {
  if (!(el instanceof Element)) return String(el?.nodeName ?? el);
  let s = el.tagName.toLowerCase();
  if (el.id) s += `#${el.id}`;
  for (const a of ['type', 'role', 'data-testid', 'aria-label', 'for']) {
    const v = el.getAttribute(a);
    if (v !== null) s += `[${a}="${v}"]`;
  }
  const text = (el.innerText ?? el.textContent ?? '').replace(/\s+/g, ' ').trim();
  if (text) s += ` "${text.length > 40 ? `${text.slice(0, 39)}…` : text}"`;
  // The path from the nearest ancestor with an id or a question name.
  const parts = [];
  for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
    if (e !== el && (e.id || e.dataset.name)) {
      parts.unshift(e.dataset.name ? `[data-name="${e.dataset.name}"]` : `#${e.id}`);
      break;
    }
    let p = e.tagName.toLowerCase();
    if (e.classList.length) p += `.${[...e.classList].join('.')}`;
    const same = e.parentElement ? [...e.parentElement.children].filter((c) => c.tagName === e.tagName) : [];
    if (same.length > 1) p += `:nth-of-type(${same.indexOf(e) + 1})`;
    parts.unshift(p);
  }
  return `${s} at ${parts.join(' > ')}`;
}

/** Checks 1 and 3 in the page: { problems, controls } (controls: how many were measured). */
function layoutInPage({ describeSource, width, min, controls }) {
  // The describer comes as source text (the app has no Content-Security-Policy to forbid eval).
  const describe = (0, eval)(`(${describeSource})`);
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({ visibilityProperty: true });
  };
  const problems = [];
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth > width) problems.push(`the page scrolls sideways: it is ${scrollWidth} px wide`);
  for (const el of document.body.querySelectorAll('*')) {
    if (!shown(el)) continue;
    const right = el.getBoundingClientRect().right + window.scrollX;
    if (right > width + 0.5) problems.push(`passes the right edge of the screen (at ${Math.round(right)} px): ${describe(el)}`);
  }
  // Text can run out of its box (a long word in a box that may shrink): each line of text counts,
  // unless a box that clips it on purpose (a title cut short with an ellipsis) holds it.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!node.textContent.trim() || !parent || !shown(parent)) continue;
    let clipped = false;
    for (let e = parent; e && e !== document.body && !clipped; e = e.parentElement) {
      clipped = getComputedStyle(e).overflowX !== 'visible';
    }
    if (clipped) continue;
    range.selectNodeContents(node);
    const right = Math.max(...[...range.getClientRects()].map((r) => r.right)) + window.scrollX;
    if (right > width + 0.5) {
      const text = node.textContent.trim();
      problems.push(`text "${text.length > 30 ? `${text.slice(0, 29)}…` : text}" passes the right edge of the screen (at ${Math.round(right)} px): ${describe(parent)}`);
    }
  }
  let measured = 0;
  for (const el of document.body.querySelectorAll(controls)) {
    if (!shown(el)) continue;
    measured++;
    // A check box, radio button or (visually hidden) file input is tapped through its label.
    const throughLabel = el.matches('input[type=checkbox], input[type=radio], input[type=file]');
    const boxes = [el, ...(throughLabel ? [...(el.labels ?? [])].filter(shown) : [])].map((e) => e.getBoundingClientRect());
    if (boxes.some((r) => r.width >= min - 0.01 && r.height >= min - 0.01)) continue;
    const r = boxes.reduce((a, b) => (Math.min(b.width, b.height) > Math.min(a.width, a.height) ? b : a));
    problems.push(`touch target ${Math.round(r.width)} x ${Math.round(r.height)} px: ${describe(el)}`);
  }
  return { problems, controls: measured };
}

/** Check 2: every control of the accessibility tree that is not hidden has a name. */
async function unnamed(cdp) {
  const { nodes } = await cdp.send('Accessibility.getFullAXTree');
  const problems = [];
  for (const n of nodes) {
    if (n.ignored || !NAMED_ROLES.has(n.role?.value)) continue;
    if ((n.properties ?? []).some((p) => p.name === 'hidden' && p.value?.value === true)) continue;
    if (String(n.name?.value ?? '').trim() !== '') continue;
    let what = `(no DOM node, AX node ${n.nodeId})`;
    if (n.backendDOMNodeId) {
      const { object } = await cdp.send('DOM.resolveNode', { backendNodeId: n.backendDOMNodeId });
      const { result } = await cdp.send('Runtime.callFunctionOn', {
        objectId: object.objectId,
        functionDeclaration: `function () { return (${describe})(this); }`,
        returnByValue: true,
      });
      what = result.value;
    }
    problems.push(`a ${n.role.value} without an accessible name: ${what}`);
  }
  return problems;
}

/**
 * Checks 1 to 3 on what the page shows now. The questions of a fill page are laid out only near
 * the screen (`content-visibility: auto`), and Chromium leaves the others out of the accessibility
 * tree the protocol returns: for the audit (and its screenshot `shot`), every box is laid out as
 * it is once scrolled to.
 */
async function auditScreen(page, cdp, shot = null) {
  await page.evaluate(async () => {
    const style = document.createElement('style');
    style.id = 'a11y-audit-all-laid-out';
    style.textContent = '* { content-visibility: visible !important; }';
    document.head.append(style);
    await new Promise((frame) => requestAnimationFrame(frame));
  });
  try {
    const layout = await page.evaluate(layoutInPage, {
      describeSource: describe.toString(),
      width: WIDTH,
      min: MIN_TARGET,
      controls: CONTROLS,
    });
    const problems = [...layout.problems, ...(await unnamed(cdp))];
    if (shot) {
      // From the top, so that the bars that stay on screen are drawn at the top of the picture.
      const y = await page.evaluate(() => window.scrollY);
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, shot);
      await page.evaluate((y) => window.scrollTo(0, y), y);
    }
    return { problems, controls: layout.controls };
  } finally {
    await page.evaluate(() => document.getElementById('a11y-audit-all-laid-out')?.remove());
  }
}

/**
 * Check 4 on questions made wrong: each has its message in a live region (or an alert) that was
 * there, empty, before the answer went wrong, and its input points to the message.
 * `regions` are the message elements taken before (ElementHandles by question name).
 */
async function errorProblems(page, regions) {
  const problems = [];
  for (const [name, region] of Object.entries(regions)) {
    const r = await region.evaluate(
      (msg, { name, describeSource }) => {
        const describe = (0, eval)(`(${describeSource})`);
        const box = document.querySelector(`[data-name="${name}"]`);
        const out = [];
        if (!msg.isConnected || !box?.contains(msg)) {
          return [`${name}: the message element was replaced (a region inserted with its text is not announced)`];
        }
        const text = msg.textContent.trim();
        if (!text) return [`${name}: no error message is shown: ${describe(box)}`];
        if (!msg.closest('[role=alert], [aria-live]:not([aria-live=off])')) {
          out.push(`${name}: the message "${text}" is neither an alert nor in a live region: ${describe(msg)}`);
        }
        // The question's own control: its radio group or group of check boxes, else its input.
        const control = box.querySelector(
          '[role=radiogroup], [role=group], input:not([type=radio]):not([type=checkbox]):not([type=file]), select, textarea',
        );
        if (!control) return [...out, `${name}: no control found: ${describe(box)}`];
        const refs = ['aria-describedby', 'aria-errormessage'].flatMap((a) => (control.getAttribute(a) ?? '').split(/\s+/));
        if (!msg.id || !refs.includes(msg.id)) {
          out.push(`${name}: the control does not point to its message "${text}" (aria-describedby or aria-errormessage): ${describe(control)}`);
        }
        const hint = box.querySelector('.q-hint[id]');
        if (hint && !refs.includes(hint.id)) out.push(`${name}: the hint is no longer read with the message: ${describe(control)}`);
        if (control.getAttribute('role') !== 'group' && control.getAttribute('aria-invalid') !== 'true') {
          out.push(`${name}: the control is not marked aria-invalid: ${describe(control)}`);
        }
        return out;
      },
      { name, describeSource: describe.toString() },
    );
    problems.push(...r);
  }
  return problems;
}

/** What has the keyboard focus: the first question's input, "previous", "next", or a description. */
function focused() {
  const a = document.activeElement;
  if (!a || a === document.body) return 'nothing';
  const first = document.querySelector('#fill .page-body .q')?.querySelector('input, select, textarea');
  if (first && (a === first || (a.type === 'radio' && first.type === 'radio' && a.name === first.name))) return 'first question';
  const nav = document.querySelector('nav.navbar');
  if (a === nav?.querySelector('[data-testid=next]')) return 'next';
  if (a === nav?.querySelector('button')) return 'previous';
  if (a.closest('.dialog')) return 'in the dialog';
  return `${a.tagName.toLowerCase()} "${(a.textContent ?? '').trim().slice(0, 30)}"`;
}

/** Presses `key` (Tab or Shift+Tab) until `want` has the focus; returns every stop on the way. */
async function tabTo(page, want, key = 'Tab') {
  const stops = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press(key);
    const now = await page.evaluate(focused);
    stops.push(now);
    if (now === want) return stops;
  }
  assert.fail(`${key} never reached ${want}; it stopped on: ${stops.join(', ')}`);
}

/** A small PNG drawn in the page (a photo answer). */
async function picture(page) {
  const base64 = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(320, 200);
    const g = canvas.getContext('2d');
    g.fillStyle = '#8fb3a4';
    g.fillRect(0, 0, 320, 200);
    g.fillStyle = '#7a4b32';
    g.fillRect(90, 70, 140, 130);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
    return btoa(String.fromCharCode(...bytes));
  });
  return Buffer.from(base64, 'base64');
}

/**
 * With the on-screen keyboard open (the page's viewport asks the browser to resize the page, so
 * about 340 of the 640 px are left), each field that brings the keyboard up is, once Tab has
 * focused it, in full view: below the bars that stay at the top, above the buttons at the bottom.
 */
async function keyboardOpenProblems(page) {
  await page.setViewportSize({ width: WIDTH, height: KEYBOARD_OPEN_HEIGHT });
  const problems = [];
  let fields = 0;
  try {
    await page.locator('header button').first().focus(); // Tab on from the top of the page
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      const r = await page.evaluate((describeSource) => {
        const describe = (0, eval)(`(${describeSource})`);
        const a = document.activeElement;
        if (a?.matches('[data-testid=next]')) return { done: true };
        const typed = 'input:not([type=checkbox]):not([type=radio]):not([type=file]):not([type=range]), textarea';
        if (!a?.matches(typed)) return {};
        // The bars that stay on screen: the app's top-level boxes that are sticky or fixed.
        let top = 0;
        let bottom = window.innerHeight;
        for (const bar of document.querySelectorAll('#app > *, body > *')) {
          if (!['sticky', 'fixed'].includes(getComputedStyle(bar).position)) continue;
          const b = bar.getBoundingClientRect();
          if (b.height === 0 || b.height > window.innerHeight / 2) continue;
          if (b.top + b.height / 2 < window.innerHeight / 2) top = Math.max(top, b.bottom);
          else bottom = Math.min(bottom, b.top);
        }
        const f = a.getBoundingClientRect();
        const hidden = f.top < top - 0.5 || f.bottom > bottom + 0.5;
        return { field: true, problem: hidden && `focused, it is at ${Math.round(f.top)}-${Math.round(f.bottom)} px, outside the free ${Math.round(top)}-${Math.round(bottom)} px: ${describe(a)}` };
      }, describe.toString());
      if (r.done) break;
      if (r.field) fields++;
      if (r.problem) problems.push(r.problem);
    }
  } finally {
    await page.setViewportSize(PHONE.viewport);
  }
  assert.ok(fields >= 5, `Tab focused ${fields} fields with the keyboard open`);
  return problems;
}

const pageInfo = (page, text) =>
  page.waitForFunction((text) => document.querySelector('#fill .pageinfo')?.textContent === text, text);

/** A form of one question, installed from a file, to have a finalized interview in a few steps. */
const TINY = {
  format: 'doorstep-form/1',
  id: 'a11y_follow_up',
  version: '2026010101',
  title: { 'zh-CN': '回访', en: 'Follow-up visit' },
  languages: ['zh-CN', 'en'],
  items: [{ type: 'text', name: 'head_name', required: true, label: { 'zh-CN': '户主姓名', en: "Head of household's name" } }],
};

for (const lang of ['zh', 'en']) {
  test(`every screen is usable one-handed and accessible on a 360 x 640 phone (${lang})`, async (t) => {
    const app = await launch();
    t.after(() => app.close());
    const { page } = app;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('DOM.enable');
    await cdp.send('Accessibility.enable');
    const found = [];
    let shot = 0;
    /** Audits what is on screen as `name` and takes its screenshot. */
    const audit = async (name) => {
      const { problems, controls } = await auditScreen(page, cdp, `a11y-${lang}-${String(++shot).padStart(2, '0')}-${name}`);
      assert.ok(controls > 0, `${name}: the audit found controls to measure`);
      found.push(...problems.map((p) => `${name}: ${p}`));
    };
    /** A dialog just opened has the keyboard focus (else Tab wanders the page behind it). */
    const dialogFocus = async (name) => {
      await page.waitForFunction(() => document.activeElement?.closest('.dialog'), null, { timeout: 2_000 }).catch(() => {});
      const now = await page.evaluate(focused);
      if (now !== 'in the dialog') found.push(`${name}: the dialog opened without the focus, which is on ${now}`);
      // Tab and Shift+Tab keep to the dialog: 25 presses either way never leave it.
      for (const key of ['Tab', 'Shift+Tab']) {
        for (let i = 0; i < 25; i++) {
          await page.keyboard.press(key);
          const at = await page.evaluate(focused);
          if (at !== 'in the dialog') {
            found.push(`${name}: ${key} ${i + 1} time(s) left the open dialog for ${at}`);
            break;
          }
        }
      }
    };

    // The forms list.
    await open(app);
    if (lang === 'en') await page.click('[data-testid=switch-language]');
    await page.waitForSelector(`text=${lang === 'en' ? 'Start a new interview' : '开始新调查'}`);
    await page.waitForSelector('[data-form-id="emergency_aid"] button');
    await audit('forms');

    // One page with every kind of question but GPS and signature, then with its answers wrong.
    await start(page, 'emergency_aid');
    await page.waitForSelector('[data-name="urgency"] .opts.likert');
    await audit('fill-all-widgets');
    const wrong = ['township', 'head_name', 'contact_phone', 'event_type', 'event_date', 'affected', 'affected_count', 'amount_requested', 'urgency'];
    const regions = {};
    for (const name of wrong) regions[name] = await page.locator(`[data-name="${name}"] .q-error`).elementHandle();
    await answer(page, 'township', 'chengguan');
    await page.locator('[data-name="township"] select').selectOption(''); // required, now missing
    await answer(page, 'head_name', '李'); // at least two characters
    await answer(page, 'contact_phone', '12345'); // not a mobile number
    await answer(page, 'event_type', 'fire');
    await page.locator('[data-name="event_type"] input[value="fire"]').click(); // chosen again: cleared
    await answer(page, 'event_date', '2099-01-01'); // in the future
    await answer(page, 'affected', ['head', 'whole_family']); // the whole family is alone or nothing
    await answer(page, 'affected_count', '3a'); // not a whole number
    await answer(page, 'amount_requested', '0'); // more than 0
    await answer(page, 'urgency', 'urgent');
    await page.locator('[data-name="urgency"] input[value="urgent"]').click();
    for (const name of wrong) await page.waitForSelector(`[data-name="${name}"].has-error`);
    found.push(...(await errorProblems(page, regions)).map((p) => `fill-errors: ${p}`));
    await audit('fill-errors');
    found.push(...(await keyboardOpenProblems(page)).map((p) => `keyboard-open: ${p}`));

    // The review with problems.
    await next(page);
    await page.waitForSelector('[data-testid=problem-link]');
    await audit('review-problems');
    await page.click('header.bar button:not([data-testid])'); // home
    await page.waitForSelector('.tabs');

    // A household: the first page (drop-downs, date, text), then the keyboard on the second.
    await page.click('.tabs button:nth-child(1)');
    await start(page, 'household_needs');
    await page.waitForSelector('[data-name="head_name"]');
    await audit('fill-place');
    await next(page);
    await pageInfo(page, '2 / 10');
    await page.evaluate(() => document.activeElement?.blur());
    const stops = await tabTo(page, 'first question');
    await page.keyboard.press('Space');
    await page.waitForSelector('[data-name="consent"] input[value="yes"]:checked');
    stops.push(...(await tabTo(page, 'next')));
    assert.ok(stops.includes('previous'), `Tab passes "previous" on its way to "next": ${stops.join(', ')}`);
    await page.keyboard.press('Enter');
    await pageInfo(page, '3 / 10');
    // The new page's title has the focus: a screen reader says where "next" led.
    await page.waitForFunction(() => document.activeElement?.matches('#fill .page-title'), null, { timeout: 2_000 });
    await tabTo(page, 'previous', 'Shift+Tab');
    await page.keyboard.press('Space');
    await pageInfo(page, '2 / 10');
    await audit('fill-consent');
    await next(page);
    await next(page);

    // The roster: a member's page, the list of two, and removing one (asked first).
    await page.waitForSelector('[data-testid=add-member]');
    await addMember(page);
    await audit('member');
    await backToList(page);
    await addMember(page);
    await answer(page, 'member_name', '陈丽');
    await backToList(page);
    await page.waitForSelector('.roster li:nth-child(2) >> text=陈丽');
    await audit('roster');
    const remove = '.roster li:nth-child(2) .iconbtn.danger';
    await page.locator(remove).focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('.dialog[role=alertdialog]');
    await dialogFocus('confirm-remove');
    await audit('confirm-remove');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.dialog', { state: 'detached' });
    assert.equal(await page.locator('.roster li').count(), 2, 'Escape removes nobody');
    const back = await page
      .waitForFunction((remove) => document.activeElement?.matches(remove), remove, { timeout: 2_000 })
      .then(() => true, () => false);
    if (!back) {
      found.push(`confirm-remove: closed, the focus is not back on the remove button but on ${await page.evaluate(focused)}`);
    }

    // The contents, and from there the last page: GPS, photo and signature.
    await page.click('[data-testid=contents]');
    await page.waitForSelector('.toc');
    await dialogFocus('contents');
    await audit('contents');
    await page.locator('.toc li').last().locator('button').click();
    await page.waitForSelector('[data-name="signature"] canvas');
    await page.locator('[data-name="house_photo"] input[type=file]:not([capture])').setInputFiles({
      name: 'house.png',
      mimeType: 'image/png',
      buffer: await picture(page),
    });
    await page.waitForSelector('[data-name="house_photo"] [data-testid=stored-file]');
    await page.waitForSelector('[data-name="house_photo"] img.thumb');
    await sign(page, 'signature');
    await audit('fill-gps-photo-signature');

    // The drafts; a finalized interview (of a form installed from a file); export; settings.
    await page.click('header.bar button:not([data-testid])');
    await page.waitForSelector('.list li[data-instance] >> nth=1');
    await audit('drafts');
    await page.click('.tabs button:nth-child(1)');
    await install(page, TINY);
    await start(page, TINY.id);
    await answer(page, 'head_name', '刘志强');
    await saved(page);
    await next(page);
    await page.click('[data-testid=finalize]');
    await page.waitForSelector('.list li[data-instance]');
    await audit('finalized');
    await page.click('.tabs button:nth-child(4)');
    await page.waitForSelector('[data-testid=export]');
    await page.waitForSelector('.list input[type=checkbox][data-instance]');
    await audit('export');
    await page.click('.tabs button:nth-child(5)');
    await page.waitForSelector('[data-testid=storage] [data-persisted^="Some"]');
    await audit('settings');

    // The audit itself sees what it is there for: offenders put on the last screen are reported.
    await page.evaluate(() => {
      const bad = document.createElement('div');
      bad.id = 'a11y-bad';
      bad.innerHTML =
        '<div style="width:400px">wide</div><button style="width:30px;height:30px">x</button><button></button>' +
        `<p style="display:flex"><span style="flex:1;min-width:0">${'W'.repeat(40)}</span></p>`;
      document.querySelector('main').append(bad);
    });
    const caught = (await auditScreen(page, cdp)).problems.join('\n');
    await page.evaluate(() => document.getElementById('a11y-bad').remove());
    assert.match(caught, /passes the right edge of the screen \(at \d+ px\): div "wide"/, caught);
    assert.match(caught, /touch target 30 x 30 px: button "x"/, caught);
    assert.match(caught, /a button without an accessible name: button at #a11y-bad > button:nth-of-type\(2\)/, caught);
    assert.match(caught, /text "W+…" passes the right edge of the screen \(at \d+ px\): span/, caught);

    assert.deepEqual(found, [], `${found.length} problems:\n${found.join('\n')}`);
    assert.deepEqual(app.errors, []);
  });
}
