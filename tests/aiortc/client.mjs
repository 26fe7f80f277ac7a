// client.mjs — runs tests/aiortc/lk_client.py (a LiveKit /rtc/v1
// participant on aiortc) from a Node test and follows it.
//
//   const c = startAiortcClient({ url, token, tone: 523, seconds: 8 });
//   await c.waitFor('published', 10000);     // {event, t, track, cid}
//   const { code, report } = await c.done;   // report: the --json file
//   await c.stop();                          // SIGTERM, SIGKILL after 3 s
//
// The client prints one JSON object per line on stdout ("joined", "answer",
// "published", "track", "first_audio", "requirement", "update", "done", ...);
// each is kept in c.events. Its stderr is kept for failure messages. Only
// the process started here is ever signalled, by its own PID.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** tests/aiortc/lk_client.py */
export const LK_CLIENT = fileURLToPath(new URL('./lk_client.py', import.meta.url));
/** Debian's interpreter, where python3-aiortc and friends are installed. */
export const PYTHON = process.env.TB_PYTHON || '/usr/bin/python3';

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/**
 * Starts one aiortc participant. Options: url (ws://host:port), token, tone
 * (Hz), seconds (stay this long after publishing), recv (recvonly sections
 * in the first offer), timeoutS (join + publish allowance), limitMs (hard
 * kill after this long; default seconds + timeoutS + 10 s).
 * Returns {pid, events, stderr(), waitFor(event, ms, pred?), done, stop()};
 * done resolves to {code, signal, report} (report null if no JSON was written).
 */
export function startAiortcClient({ url, token, tone = 523, seconds = 8, recv = 3,
  timeoutS = 10, limitMs, badSrtp = 0 } = {}) {
  const jsonPath = path.join(os.tmpdir(), `lk-client-${process.pid}-${Date.now()}-` +
    `${Math.random().toString(36).slice(2)}.json`);
  const args = [LK_CLIENT, '--url', url, '--token', token, '--tone', String(tone),
    '--seconds', String(seconds), '--recv', String(recv), '--timeout', String(timeoutS),
    '--json', jsonPath, '--bad-srtp', String(badSrtp)];
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const events = [];
  const waiters = new Set();
  let err = '';
  let buf = '';
  const check = () => {
    for (const w of waiters) {
      const e = events.find((x) => x.event === w.event && w.pred(x));
      if (e) { waiters.delete(w); clearTimeout(w.timer); w.resolve(e); }
    }
  };
  child.stdout.setEncoding('utf8').on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try { events.push(JSON.parse(line)); } catch { err += `[stdout] ${line}\n`; }
    }
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
  const hardLimit = setTimeout(() => child.kill('SIGKILL'),
    limitMs ?? (seconds + timeoutS + 10) * 1000);
  const done = new Promise((resolve) => {
    const finish = async (code, signal) => {
      clearTimeout(hardLimit);
      live.delete(child);
      let report = null;
      try { report = JSON.parse(await fs.readFile(jsonPath, 'utf8')); } catch { /* none */ }
      await fs.rm(jsonPath, { force: true });
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(new Error(`aiortc client exited (code ${code}, signal ${signal}) before ` +
          `"${w.event}"; stderr tail:\n${err.split('\n').slice(-15).join('\n')}`));
      }
      waiters.clear();
      resolve({ code, signal, report });
    };
    child.on('close', finish);
    child.on('error', (e) => { err += `spawn error: ${e.message}\n`; finish(null, null); });
  });
  let exited = false;
  done.then(() => { exited = true; });
  return {
    pid: child.pid,
    events,
    stderr: () => err,
    /** Resolves to the first event named `event` (matching pred), or rejects after ms. */
    waitFor(event, ms, pred = () => true) {
      return new Promise((resolve, reject) => {
        const w = { event, pred, resolve, reject };
        w.timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`aiortc client: no "${event}" within ${ms} ms; events: ` +
            `${events.map((e) => e.event).join(',')}; stderr tail:\n` +
            `${err.split('\n').slice(-15).join('\n')}`));
        }, ms);
        waiters.add(w);
        check();
      });
    },
    done,
    /** SIGTERM, then SIGKILL after 3 s; resolves when it has exited. */
    async stop() {
      if (exited) return done;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      const r = await done;
      clearTimeout(t);
      return r;
    },
  };
}
