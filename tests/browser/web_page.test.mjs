// web_page.test.mjs — the debate room page (web/, served by tribune at /app/)
// used the way people use it: each participant is its own headless Chromium
// with a sine tone as microphone, driving the page through its labels and
// buttons only. alice (moderator, 440 Hz, joins with the keyboard) and bob
// (700 Hz) join through the form and the development token endpoint; each
// sees the other listed and speaking, hears (an attached <audio>) and sees
// mute state; the moderator's timer reaches bob; carol (1000 Hz) joins late
// straight from a #token= link and sees the running timer; chat both ways
// (needs tribune's data channels); leaving and joining again. Screenshots at
// 1280x800 and 375x812 go to tests/browser/artifacts/.
//
// The page is built with `make -C <repo> web` (once; npm ci needs the
// network, so run `make web` before run.sh when web/node_modules is missing),
// and tribune runs with `--dev --app-dir <repo>/web/dist`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { HERE, launchChromium, loopbackOnly, sleep } from './lib/browser.mjs';
import { startTribuneForBrowsers } from './lib/tribune.mjs';
import { REPO_ROOT, TRIBUNE_BIN } from '../interop/lib/server.mjs';

const pexecFile = promisify(execFile);
const WEB_DIST = path.join(REPO_ROOT, 'web', 'dist');
const ARTIFACTS = path.join(HERE, 'artifacts');
const TONES = { alice: 440, bob: 700, carol: 1000 };
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };

/** `make web` once: the bundle in web/dist (npm ci only if node_modules is stale). */
async function buildWeb() {
  try {
    await pexecFile('make', ['-C', REPO_ROOT, '--no-print-directory', 'web'],
      { timeout: 120000 });
  } catch (e) {
    throw new Error(`make web failed (inside run.sh's namespace npm ci cannot download: ` +
      `run \`make web\` first): ${e.stderr || e.message}`);
  }
  for (const f of ['index.html', 'app.js', 'style.css'])
    await fs.access(path.join(WEB_DIST, f));
}

/** True when the binary serves the page itself (--app-dir in its --help). */
async function tribuneHasAppDir() {
  try {
    const { stdout, stderr } = await pexecFile(TRIBUNE_BIN, ['--help'], { timeout: 5000 });
    return /--app-dir/.test(stdout + stderr);
  } catch (e) {
    return /--app-dir/.test(`${e.stdout}${e.stderr}`);
  }
}

/** An HS256 token as an organiser's backend would make it for a #token= link. */
function signToken({ key, secret, identity, name, room, admin = false, ttlS = 600 }) {
  const now = Math.floor(Date.now() / 1000);
  const video = { roomJoin: true, room, canPublish: true, canSubscribe: true,
    canPublishData: true, ...(admin ? { roomAdmin: true } : {}) };
  const claims = { iss: key, sub: identity, name, nbf: now - 10, exp: now + ttlS, video };
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Content types of the stand-in static server (last test). */
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/** One participant: a Chromium with its tone as microphone, at desktop size. */
const launch = ({ name, wav, tmpRoot, timeoutMs = 15000 }) =>
  launchChromium({ name, wav, tmpRoot, timeoutMs, extra: { viewport: DESKTOP } });

describe('the debate room page at /app/', () => {
  const ctx = { people: {}, shots: [] };
  const room = `debate-${process.pid}`;

  /** Runs fn; a failure message gets the pages' last log lines and tribune's stderr. */
  async function explained(fn) {
    try {
      return await fn();
    } catch (e) {
      const logs = Object.values(ctx.people).flatMap((p) => p.logs.slice(-15));
      e.message += `\npage logs:\n${logs.join('\n')}\ntribune stderr (tail):\n` +
        `${ctx.srv?.stderr().split('\n').filter((l) => !/DEBUG/.test(l)).slice(-20).join('\n')}`;
      throw e;
    }
  }

  const pageOf = (who) => ctx.people[who].page;
  const person = (who, name) => pageOf(who).locator(`#people li[data-name="${name}"]`);

  async function shot(who, file, size) {
    const page = pageOf(who);
    await page.setViewportSize(size);
    await sleep(300);
    const p = path.join(ARTIFACTS, file);
    await page.screenshot({ path: p, fullPage: true });
    await page.setViewportSize(DESKTOP);
    ctx.shots.push(p);
    console.log(`screenshot: ${p}`);
    return p;
  }

  /** Fills the join form with the mouse and the labels; waits for the room. */
  async function joinWithForm(who, { admin = false } = {}) {
    const page = pageOf(who);
    await page.getByLabel('Your name').fill(who);
    assert.equal(await page.getByRole('textbox', { name: 'Room' }).inputValue(), room, 'room prefilled from ?room=');
    if (admin) await page.getByLabel('I am the moderator').check();
    await page.getByRole('button', { name: 'Join' }).click();
    await page.locator('#room-view').waitFor({ state: 'visible', timeout: 20000 });
  }

  before(async () => {
    assert.ok(loopbackOnly() || process.env.TB_BROWSER_ANY_NET === '1',
      'run inside tests/browser/run.sh (loopback-only namespace)');
    await buildWeb();
    await fs.mkdir(ARTIFACTS, { recursive: true });
    ctx.tmpRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'tribune-webpage-'));
    assert.ok(await tribuneHasAppDir(), `${TRIBUNE_BIN} has no --app-dir (too old)`);
    ctx.srv = await startTribuneForBrowsers({ args: ['--dev', '--app-dir', WEB_DIST] });
    ctx.appUrl = `${ctx.srv.url}/app/`;
    await pexecFile(path.join(HERE, 'lib', 'tones.sh'), [path.join(ctx.tmpRoot, 'tones'),
      ...Object.values(TONES).map(String)], { timeout: 20000 });
    const people = await Promise.all(Object.entries(TONES).map(([name, hz]) => launch({
      name, wav: path.join(ctx.tmpRoot, 'tones', `tone-${hz}.wav`), tmpRoot: ctx.tmpRoot })));
    for (const p of people) ctx.people[p.name] = p;
  });

  after(async () => {
    await Promise.all(Object.values(ctx.people).map((p) => p.close()));
    await ctx.srv?.stop();
    if (ctx.tmpRoot) await fs.rm(ctx.tmpRoot, { recursive: true, force: true });
    if (ctx.shots.length) console.log(`screenshots:\n  ${ctx.shots.join('\n  ')}`);
  });

  it('tribune serves the page and its assets at /app/, and dev tokens', async () => {
    for (const [file, type] of [['', 'text/html'], ['app.js', 'javascript'], ['style.css', 'text/css']]) {
      const r = await fetch(`${ctx.appUrl}${file}`);
      assert.equal(r.status, 200, `GET /app/${file}`);
      assert.match(r.headers.get('content-type') || '', new RegExp(type), `type of /app/${file}`);
      await r.arrayBuffer();
    }
    const r = await fetch(`${ctx.appUrl}token`, { method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ room, identity: 'probe', name: 'probe', admin: false }) });
    assert.equal(r.status, 200, 'POST /app/token in --dev');
    const body = await r.json();
    assert.equal(typeof body.token, 'string');
    assert.equal(typeof body.url, 'string');
  });

  it('alice joins with the keyboard as moderator, bob with the form', () => explained(async () => {
    const a = pageOf('alice');
    await a.goto(`${ctx.appUrl}?room=${encodeURIComponent(room)}`);
    await a.locator('#join-view').waitFor({ state: 'visible' });
    await shot('alice', 'web_page-join-phone.png', PHONE);
    // keyboard only: the name field has focus; Tab, Tab, Space, Tab, Enter
    await a.waitForFunction(() => document.activeElement?.id === 'join-name');
    await a.keyboard.type('alice');
    await a.keyboard.press('Tab');
    assert.equal(await a.evaluate(() => document.activeElement.id), 'join-room');
    await a.keyboard.press('Tab');
    await a.keyboard.press('Space');
    assert.equal(await a.getByLabel('I am the moderator').isChecked(), true);
    await a.keyboard.press('Tab');
    assert.equal(await a.evaluate(() => document.activeElement.id), 'join-button');
    await a.keyboard.press('Enter');
    await a.locator('#room-view').waitFor({ state: 'visible', timeout: 20000 });
    assert.equal(await a.locator('#timer-controls').isVisible(), true, 'moderator controls');

    await pageOf('bob').goto(`${ctx.appUrl}?room=${encodeURIComponent(room)}`);
    await joinWithForm('bob');
    assert.equal(await pageOf('bob').locator('#timer-controls').isVisible(), false,
      'no timer controls without roomAdmin');
  }));

  it('each sees the other listed, speaking, and has their audio attached', () => explained(
    async () => {
      for (const [who, other] of [['alice', 'bob'], ['bob', 'alice']]) {
        const page = pageOf(who);
        await person(who, other).waitFor({ timeout: 10000 });
        await person(who, who).waitFor();
        assert.equal(await page.locator('#people li').count(), 2, `${who}'s list`);
        assert.match(await person(who, who).innerText(), /\(you/);
        await page.locator(`#people li[data-name="${other}"][data-speaking="true"]`)
          .waitFor({ timeout: 15000 });
        await page.waitForFunction(() => document.querySelectorAll('#audio-sink audio').length
          === 1 && !document.querySelector('#audio-sink audio').paused, null, { timeout: 10000 });
        await page.waitForFunction(() => document.getElementById('mic-level').value > 0.3, null,
          { timeout: 10000 });
        assert.equal(await page.getByRole('button', { name: 'Microphone' })
          .getAttribute('aria-pressed'), 'true');
      }
    }));

  it('muting shows on the other page and stops the speaking indicator', () => explained(
    async () => {
      const mic = pageOf('alice').getByRole('button', { name: 'Microphone' });
      await mic.click();
      assert.equal(await mic.getAttribute('aria-pressed'), 'false');
      await pageOf('bob').locator('#people li[data-name="alice"][data-muted="true"]')
        .waitFor({ timeout: 10000 });
      assert.equal(await person('bob', 'alice').getAttribute('data-speaking'), 'false');
      await shot('bob', 'web_page-muted-phone.png', PHONE);
      await pageOf('alice').waitForFunction(() =>
        document.getElementById('mic-level').value < 0.05, null, { timeout: 5000 });
      await mic.press('Enter'); // keyboard toggles it back
      await pageOf('alice').waitForFunction(() => document.getElementById('mic-button')
        .getAttribute('aria-pressed') === 'true', null, { timeout: 5000 });
      await pageOf('bob').locator('#people li[data-name="alice"][data-muted="false"]')
        .waitFor({ timeout: 10000 });
      await pageOf('bob').locator('#people li[data-name="alice"][data-speaking="true"]')
        .waitFor({ timeout: 15000 });
    }));

  it('the moderator\'s 2-minute timer counts down on bob\'s page', () => explained(async () => {
    const a = pageOf('alice');
    await a.getByLabel('Duration').selectOption('120');
    await a.getByRole('button', { name: 'Start timer' }).click();
    assert.equal(await a.locator('#timer-error').innerText(), '', 'no error on alice\'s page');
    const b = pageOf('bob');
    await b.waitForFunction(() => document.getElementById('timer').dataset.state === 'running',
      null, { timeout: 10000 });
    const first = Number(await b.locator('#timer').getAttribute('data-left'));
    assert.ok(first > 110 && first <= 120, `bob's countdown starts near 2:00: ${first}`);
    assert.match(await b.locator('#timer').innerText(), /^[12]:[0-5]\d$/);
    await sleep(2100);
    const later = Number(await b.locator('#timer').getAttribute('data-left'));
    // (a background page's timers may run only once a second: one second of slack)
    assert.ok(later <= first - 1 && later >= first - 4, `counting down: ${first} -> ${later}`);
    assert.match(await b.locator('#timer-info').innerText(), /started by alice/);
  }));

  it('carol joins late from a #token= link and sees the running timer', () => explained(
    async () => {
      const token = signToken({ key: ctx.srv.key, secret: ctx.srv.secret,
        identity: 'carol-1', name: 'carol', room });
      const c = pageOf('carol');
      await c.goto(`${ctx.appUrl}#token=${token}`);
      await c.locator('#room-view').waitFor({ state: 'visible', timeout: 20000 });
      assert.equal(await c.locator('#join-view').isVisible(), false, 'no form with a token');
      await c.waitForFunction(() => document.getElementById('timer').dataset.state === 'running',
        null, { timeout: 5000 });
      const left = Number(await c.locator('#timer').getAttribute('data-left'));
      assert.ok(left > 100 && left < 120, `carol's countdown: ${left}`);
      assert.equal(await c.locator('#people li').count(), 3);
      await person('alice', 'carol').waitFor({ timeout: 10000 });
      await person('bob', 'carol').waitFor({ timeout: 10000 });
      await shot('carol', 'web_page-phone.png', PHONE);
    }));

  it('chat: alice to the others and bob back', () => explained(async () => {
    const say = async (who, text) => {
      const page = pageOf(who);
      await page.getByLabel('Message').fill(text);
      await page.getByLabel('Message').press('Enter');
      const mine = page.locator('#chat-log li.mine').filter({ hasText: text });
      await mine.waitFor();
      await page.waitForFunction((t) => [...document.querySelectorAll('#chat-log li.mine')]
        .some((li) => li.textContent.includes(t) && li.dataset.sent), text, { timeout: 12000 });
      const sent = await mine.getAttribute('data-sent');
      assert.equal(sent, 'true', `${who}'s message was not delivered: ` +
        `${await mine.innerText()}`);
    };
    const seen = async (who, from, text) => {
      const li = pageOf(who).locator(`#chat-log li[data-from="${from}"]`)
        .filter({ hasText: text });
      await li.waitFor({ timeout: 10000 });
      assert.match(await li.locator('time').innerText(), /\d{1,2}:\d\d/);
    };
    await say('alice', 'Hello from alice');
    await seen('bob', 'alice', 'Hello from alice');
    await seen('carol', 'alice', 'Hello from alice');
    await say('bob', 'Hi alice, bob here');
    await seen('alice', 'bob', 'Hi alice, bob here');
  }));

  it('screenshots at desktop and phone width', () => explained(async () => {
    await shot('alice', 'web_page-desktop.png', DESKTOP);
    await shot('bob', 'web_page-bob-phone.png', PHONE);
  }));

  it('bob leaves and joins again; the moderator resets the timer', () => explained(async () => {
    const b = pageOf('bob');
    await b.getByRole('button', { name: 'Leave' }).click();
    await b.getByRole('heading', { name: 'You left the room' }).waitFor({ timeout: 10000 });
    await person('alice', 'bob').waitFor({ state: 'detached', timeout: 10000 });
    await b.getByRole('button', { name: 'Join again' }).click();
    await joinWithForm('bob');
    await person('alice', 'bob').waitFor({ timeout: 10000 });
    await b.waitForFunction(() => document.getElementById('timer').dataset.state === 'running',
      null, { timeout: 5000 });
    await pageOf('alice').getByRole('button', { name: 'Reset' }).click();
    for (const who of ['bob', 'carol']) {
      await pageOf(who).waitForFunction(() => document.getElementById('timer').dataset.state
        === 'idle', null, { timeout: 10000 });
      assert.equal(await pageOf(who).locator('#timer').innerText(), '0:00');
    }
  }));

  it('everybody leaves', () => explained(async () => {
    for (const who of ['carol', 'bob', 'alice']) {
      const page = pageOf(who);
      await page.getByRole('button', { name: 'Leave' }).click();
      await page.getByRole('heading', { name: 'You left the room' }).waitFor({ timeout: 10000 });
      assert.equal(await page.locator('#audio-sink audio').count(), 0);
    }
  }));

  it('without a token endpoint and without a token, the page says what to do', () =>
    explained(async () => {
      // tribune without --dev serves the page but has no token endpoint
      const prod = await startTribuneForBrowsers({ args: ['--app-dir', WEB_DIST] });
      try {
        const r = await fetch(`${prod.url}/app/token`, { method: 'POST', body: '{}' });
        assert.equal(r.status, 404, 'POST /app/token without --dev');
        const page = pageOf('alice');
        await page.goto(`${prod.url}/app/?room=x`);
        await page.getByRole('heading', { name: 'You need an invitation link' })
          .waitFor({ timeout: 10000 });
        assert.equal(await page.locator('#join-view').isVisible(), false);
      } finally {
        await prod.stop();
      }
      // behind a static file server that answers 405 to the POST, the same
      const s = http.createServer(async (req, res) => {
        const name = new URL(req.url, 'http://x').pathname.replace(/^\/app\/?/, '')
          || 'index.html';
        if (req.method !== 'GET') { res.writeHead(405).end(); return; }
        if (!TYPES[path.extname(name)]) { res.writeHead(404).end(); return; }
        try {
          res.writeHead(200, { 'content-type': TYPES[path.extname(name)] })
            .end(await fs.readFile(path.join(WEB_DIST, path.basename(name))));
        } catch { res.writeHead(404).end(); }
      }).listen(0, '127.0.0.1');
      await once(s, 'listening');
      try {
        const page = pageOf('alice');
        await page.goto(`http://127.0.0.1:${s.address().port}/app/?room=x`);
        await page.getByRole('heading', { name: 'You need an invitation link' })
          .waitFor({ timeout: 10000 });
        assert.equal(await page.locator('#join-view').isVisible(), false);
      } finally {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    }));
});
