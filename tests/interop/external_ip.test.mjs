// external_ip.test.mjs — rtc.use_external_ip against a real STUN server:
// coturn's turnserver (--stun-only) on loopback answers tribune's binding
// request at start-up, and tribune takes the mapped address as its ICE
// candidate address; with no STUN server answering it warns and falls back.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { defaultConfigBody, freeUdpPort, startTribune } from './lib/server.mjs';

const hasTurnserver = (() => {
  try { execFileSync('sh', ['-c', 'command -v turnserver']); return true; } catch { return false; }
})();

async function waitFor(fn, ms) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (fn()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('rtc.use_external_ip', { skip: !hasTurnserver && 'coturn (turnserver) not installed' },
  () => {
    const procs = [];
    after(async () => {
      for (const p of procs) await p.stop();
    });

    it('takes the address a STUN server (coturn) reports', async () => {
      const stunPort = await freeUdpPort();
      const coturn = spawn('turnserver', ['--stun-only', '--listening-ip=127.0.0.1',
        `--listening-port=${stunPort}`, '--no-cli', '--no-tls', '--no-dtls', '-n',
        '--log-file=stdout', '--simple-log'], { stdio: 'ignore' });
      procs.push({ stop: async () => { coturn.kill('SIGTERM'); await once(coturn, 'exit'); } });
      await new Promise((r) => setTimeout(r, 500));
      const udp = await freeUdpPort();
      const srv = await startTribune({ configBody: ({ port }) => defaultConfigBody({ port,
        extra: `rtc:\n  udp_port: ${udp}\n  use_external_ip: true\n` +
          `  stun_servers: ["127.0.0.1:${stunPort}"]\n` }) });
      procs.push(srv);
      const line = `use_external_ip: 127.0.0.1 (from STUN server 127.0.0.1:${stunPort})`;
      assert.ok(await waitFor(() => srv.stderr().includes(line), 5000), srv.stderr());
    });

    it('warns and uses local addresses when no STUN server answers', async () => {
      const silent = await freeUdpPort();
      const udp = await freeUdpPort();
      const srv = await startTribune({ configBody: ({ port }) => defaultConfigBody({ port,
        extra: `rtc:\n  udp_port: ${udp}\n  use_external_ip: true\n` +
          `  stun_servers: ["127.0.0.1:${silent}"]\n` }), readyTimeoutMs: 20000 });
      procs.push(srv);
      assert.ok(await waitFor(() => srv.stderr().includes('no STUN server answered'), 15000),
        srv.stderr());
    });
  });
