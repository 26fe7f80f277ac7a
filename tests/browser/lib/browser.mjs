// browser.mjs — runs participants of the browser tests: one headless
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core; no browser
// is ever downloaded) per participant, each with its own fresh profile and
// its own WAV as fake microphone, all loading the test page from a tiny
// static HTTP server on 127.0.0.1.
//
//   const run = await startRun();              // bundle once, serve, temp dir
//   const wav = await run.tone(440);           // tone-440.wav (sox)
//   const alice = await run.participant({ name: 'alice', wav });
//   await alice.page.evaluate(() => window.loopbackStart());
//   await alice.close();  await run.close();   // browsers, server, temp dir
//
// Every wait is bounded. A browser that does not close in time is killed by
// its own PID (found by its unique --user-data-dir), never by name.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

/** tests/browser/ */
export const HERE = fileURLToPath(new URL('../', import.meta.url));
export const PAGE_DIR = path.join(HERE, 'page');
export const DIST_DIR = path.join(HERE, 'dist');
/** The browser under test; $CHROMIUM_BIN overrides. */
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

/**
 * Chromium flags of every participant (playwright adds --headless,
 * --no-sandbox, --mute-audio and --user-data-dir itself).
 * --allow-loopback-in-peer-connection: without it no ICE candidate is
 * gathered on 127.0.0.1, the only interface inside `unshare -n`.
 */
export function chromiumArgs(wav) {
  return [
    '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required',
  ];
}

const pexecFile = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects with a message naming `what` if p takes longer than ms. */
export function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([p, new Promise((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(timer));
}

let bundleOnce = null;

/**
 * Bundles page/app.js with livekit-client into dist/app.js (once per
 * process) and copies index.html next to it. Resolves to {dir, bytes, ms}.
 */
export function buildBundle() {
  bundleOnce ??= (async () => {
    const t = Date.now();
    await fs.mkdir(DIST_DIR, { recursive: true });
    await esbuild.build({
      entryPoints: [path.join(PAGE_DIR, 'app.js')], bundle: true, format: 'iife',
      target: 'chrome120', outfile: path.join(DIST_DIR, 'app.js'), sourcemap: 'linked',
      logLevel: 'error',
    });
    await fs.copyFile(path.join(PAGE_DIR, 'index.html'), path.join(DIST_DIR, 'index.html'));
    const { size } = await fs.stat(path.join(DIST_DIR, 'app.js'));
    return { dir: DIST_DIR, bytes: size, ms: Date.now() - t };
  })();
  return bundleOnce;
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' };

/** Serves dir's files on http://127.0.0.1:<random port>/. Resolves to {url, close()}. */
export async function serveDir(dir) {
  const srv = http.createServer(async (req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '')
      || 'index.html';
    const file = path.join(dir, name);
    if (!file.startsWith(dir + path.sep)) { res.writeHead(403).end(); return; }
    try {
      const body = await fs.readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
        'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    url: `http://127.0.0.1:${srv.address().port}/`,
    close: () => { srv.closeAllConnections(); return new Promise((r) => srv.close(r)); },
  };
}

/** PIDs of our own children whose command line holds `marker`. */
export async function childPidsWith(marker) {
  const pids = [];
  for (const d of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = await fs.readFile(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = await fs.readFile(`/proc/${d}/cmdline`, 'utf8');
      if (ppid === process.pid && cmd.includes(marker)) pids.push(Number(d));
    } catch { /* gone */ }
  }
  return pids;
}

/**
 * A Chromium with its own profile under tmpRoot and `wav` as its microphone
 * (extra: more launchPersistentContext options, e.g. a viewport). Resolves
 * to {name, page, context, logs, close()}; logs collects console output and
 * page errors ("[name] ...", each cut at 400 characters) for failure
 * messages; close() ends it (SIGKILL by PID when it hangs) and removes the
 * profile.
 */
export async function launchChromium({ name, wav, tmpRoot, timeoutMs = 15000, extra = {} }) {
  const profile = await fs.mkdtemp(path.join(tmpRoot, `profile-${name}-`));
  const logs = [];
  const context = await withTimeout(chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_BIN, headless: true, args: chromiumArgs(wav),
    timeout: timeoutMs, ...extra,
  }), timeoutMs + 1000, `launch chromium for ${name}`);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await withTimeout(context.close(), 5000, `close chromium of ${name}`);
    } catch {
      for (const pid of await childPidsWith(`--user-data-dir=${profile}`)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    await fs.rm(profile, { recursive: true, force: true });
  };
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(timeoutMs);
    const log = (line) => logs.push(line.length > 400 ? `${line.slice(0, 400)}...` : line);
    page.on('console', (m) => log(`[${name}] ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log(`[${name}] pageerror: ${e.message}`));
    return { name, page, context, logs, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * One participant's Chromium (launchChromium) on the harness page, once
 * window.harnessReady. Resolves to {name, wav, page, context, logs, close()}.
 */
async function launchParticipant({ name, wav, pageUrl, tmpRoot, timeoutMs }) {
  const b = await launchChromium({ name, wav, tmpRoot, timeoutMs });
  try {
    await b.page.goto(pageUrl, { timeout: timeoutMs });
    await b.page.waitForFunction(() => window.harnessReady === true, null,
      { timeout: timeoutMs });
    return { ...b, wav };
  } catch (e) {
    await b.close();
    throw e;
  }
}

/**
 * Starts a test run: bundles the page, serves it, makes a temp dir (tones,
 * profiles). Resolves to {pageUrl, bundle, tmpRoot, tone(hz), participant(o),
 * people(tones), close()}. participant({name, wav, timeoutMs = 15000}); run.close() closes
 * every participant still open, the server and removes the temp dir.
 */
export async function startRun({ tmpPrefix = 'tribune-browser-' } = {}) {
  const bundle = await buildBundle();
  const tmpRoot = await fs.mkdtemp(path.join(os.tmpdir(), tmpPrefix));
  const server = await serveDir(bundle.dir);
  const open = new Set();
  return {
    pageUrl: server.url,
    bundle,
    tmpRoot,
    /** Path of a 30 s sine WAV at hz (made by lib/tones.sh). */
    async tone(hz) {
      await pexecFile(path.join(HERE, 'lib', 'tones.sh'), [path.join(tmpRoot, 'tones'),
        String(hz)], { timeout: 20000 });
      return path.join(tmpRoot, 'tones', `tone-${hz}.wav`);
    },
    /** One participant per entry of tones ({name: hz}), each with its tone. */
    async people(tones) {
      const names = Object.keys(tones);
      const wavs = await Promise.all(names.map((n) => this.tone(tones[n])));
      const all = await Promise.all(names.map((name, i) =>
        this.participant({ name, wav: wavs[i] })));
      return Object.fromEntries(names.map((n, i) => [n, all[i]]));
    },
    async participant({ name, wav, timeoutMs = 15000 }) {
      const p = await launchParticipant({ name, wav, pageUrl: server.url, tmpRoot, timeoutMs });
      open.add(p);
      const close = p.close;
      p.close = async () => { open.delete(p); await close(); };
      return p;
    },
    async close() {
      await Promise.all([...open].map((p) => p.close()));
      await server.close();
      await fs.rm(tmpRoot, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until the page recorded an event matching {type, ...fields}
 * (window.events, see page/app.js). Resolves to the event.
 */
export async function waitForEvent(page, match, timeoutMs = 10000) {
  const h = await page.waitForFunction((m) => window.events.find((e) =>
    Object.entries(m).every(([k, v]) => e[k] === v)), match, { timeout: timeoutMs });
  return h.jsonValue();
}

/** True if this process sees no network interface but loopback. */
export function loopbackOnly() {
  return Object.entries(os.networkInterfaces()).every(([, addrs]) =>
    addrs.every((a) => a.internal));
}

export { sleep };

/**
 * Polls window.analyse(identity) on page until exactly one track of identity
 * carries a tone at hz (±tolHz) above minRms, for at most timeoutMs.
 * Resolves to that measurement; rejects naming what was heard instead.
 */
export async function hearsTone(page, identity, hz, { timeoutMs = 15000, tolHz = 15,
  minRms = 0.1 } = {}) {
  const t0 = Date.now();
  let res = [];
  while (Date.now() - t0 < timeoutMs) {
    res = await page.evaluate((o) => window.analyse(o, { durationMs: 300 }), identity);
    if (res.length === 1 && Math.abs(res[0].peakHz - hz) <= tolHz && res[0].rms > minRms)
      return res[0];
  }
  throw new Error(`${identity}'s ${hz} Hz not heard within ${timeoutMs} ms: ` +
    JSON.stringify(res));
}
