// redis.mjs — Debian's redis-server for the interop tests: started on a
// given loopback port (no persistence), redis-cli to look inside, and a
// bounded poll whose timeout error carries the end of tribune's logs.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Whether `redis-server` is installed (suites skip without it). */
export const HAS_REDIS = (() => {
  try { execFileSync('redis-server', ['--version'], { stdio: 'pipe' }); return true; } catch {
    return false;
  }
})();

/** redis-cli -p port args... → its trimmed output (throws when Redis is away). */
export const cli = (port, ...args) => execFileSync('redis-cli', ['-p', String(port), ...args],
  { encoding: 'utf8', stdio: 'pipe', timeout: 5000 }).trim();

/** Starts redis-server on 127.0.0.1:port; resolves once it answers PING. */
export async function startRedis(port, extra = []) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no', ...extra], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    try { if (cli(port, 'PING') === 'PONG') return child; } catch { /* not up yet */ }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

/** SIGTERM (its PID) and wait for the exit. */
export async function stopRedis(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/**
 * Polls fn (may be async; a throw counts as false) every 100 ms until it is
 * truthy, for at most ms; the timeout error names `what` and carries the end
 * of the stderr of each server in `servers`.
 */
export async function waitFor(fn, what, { ms = 8000, servers = [] } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    let v;
    try { v = await fn(); } catch { v = false; }
    if (v) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}` + servers.map((s, i) =>
        `\n--- tribune ${i + 1} (end of its log):\n${s.stderr().slice(-2500)}`).join(''));
    }
    await sleep(100);
  }
}
