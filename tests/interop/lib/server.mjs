// server.mjs — start/stop a tribune process for the interop tests, and run
// the binary's command line.
//
//   const srv = await startTribune();          // free port, 127.0.0.1, one key
//   await fetch(`${srv.url}/`);                 // "OK"
//   await srv.stop();                           // SIGTERM, awaits the exit
//
// The binary is $TRIBUNE_BIN (tests/run sets it), else <repo>/build/tribune.
// Every process started here is remembered and killed (by its own PID) when
// the test process exits, should a test forget its after() hook.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests/interop/lib/../../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The tribune binary under test. */
export const TRIBUNE_BIN = process.env.TRIBUNE_BIN || path.join(REPO_ROOT, 'build', 'tribune');

/** Default API key/secret of servers started by startTribune(). */
export const TEST_KEY = 'interop_key';
export const TEST_SECRET = 'interop_secret_0123456789_abcdefghijklmnop';

// Environment variables tribune reads; the tests set them explicitly so a
// developer's shell cannot change the outcome.
const TRIBUNE_ENV = ['LIVEKIT_KEYS', 'LIVEKIT_CONFIG', 'NODE_IP', 'UDP_PORT', 'REDIS_HOST',
  'REDIS_PASSWORD'];

function childEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of TRIBUNE_ENV) delete env[k];
  return { ...env, ...extra };
}

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/** A TCP port that was free a moment ago, found by binding host:0. */
export async function freePort(host = '127.0.0.1') {
  const srv = net.createServer();
  srv.listen(0, host);
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

/** A UDP port that was free a moment ago, found by binding host:0. */
export async function freeUdpPort(host = '127.0.0.1') {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  s.bind(0, host);
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  return port;
}

/** The usual test config: one port on 127.0.0.1 and one key. */
export function defaultConfigBody({ port, key = TEST_KEY, secret = TEST_SECRET, extra = '' }) {
  return `port: ${port}\nbind_addresses: [127.0.0.1]\nkeys:\n  ${key}: ${secret}\n${extra}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts tribune and waits until GET / answers "OK" (5 s at most).
 *   port        the HTTP port (default: a free one)
 *   configBody  YAML string, or a function ({port}) => YAML; default:
 *               defaultConfigBody(); pass null to send no --config-body
 *   args        extra command-line arguments
 *   env         extra environment variables
 *   host        where to poll for readiness (default 127.0.0.1)
 * Resolves to {port, url, key, secret, pid, stderr(), stdout(), stop()}.
 */
export async function startTribune({ port, configBody, args = [], env = {}, host = '127.0.0.1',
  key = TEST_KEY, secret = TEST_SECRET, readyTimeoutMs = 5000 } = {}) {
  port ??= await freePort(host);
  if (configBody === undefined) configBody = defaultConfigBody({ port, key, secret });
  if (typeof configBody === 'function') configBody = configBody({ port, key, secret });
  const argv = configBody === null ? [...args] : ['--config-body', configBody, ...args];
  const child = spawn(TRIBUNE_BIN, argv, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      resolve(exited);
    });
    child.on('error', (e) => {
      err += `\nspawn error: ${e.message}`;
      exited = { code: null, signal: null, error: e };
      live.delete(child);
      resolve(exited);
    });
  });

  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url = `http://${hostPart}:${port}`;
  const srv = {
    port,
    url,
    key,
    secret,
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    exited: () => exited,
    /** SIGTERM (then SIGKILL after 5 s) and wait for the exit. */
    async stop() {
      if (exited) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
      const r = await exitPromise;
      clearTimeout(timer);
      return r;
    },
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) {
      throw new Error(`tribune exited before answering (code ${exited.code}, signal ` +
        `${exited.signal}); stderr:\n${err}`);
    }
    try {
      const r = await fetch(`${url}/`, { signal: AbortSignal.timeout(500) });
      if (r.status === 200 && (await r.text()) === 'OK') return srv;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await srv.stop();
      throw new Error(`tribune did not answer GET ${url}/ within ${readyTimeoutMs} ms; ` +
        `stderr:\n${err}`);
    }
    await sleep(25);
  }
}

/**
 * Runs the binary to completion (CLI tests). Resolves to
 * {code, signal, stdout, stderr}; kills it after timeoutMs.
 */
export function runTribune(args, { env = {}, timeoutMs = 10000, cwd = REPO_ROOT } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(TRIBUNE_BIN, args, { env: childEnv(env), cwd,
      stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); live.delete(child); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
