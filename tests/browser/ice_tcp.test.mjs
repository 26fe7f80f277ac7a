// ice_tcp.test.mjs — ICE-TCP (RFC 6544, passive, RFC 4571 framing) with real
// Chromium: UDP to tribune's media port is dropped inside the test's network
// namespace (nftables), so the two participants can only reach tribune over
// its rtc.tcp_port. They must still hear each other.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { hearsTone, loopbackOnly, startRun, waitForEvent } from './lib/browser.mjs';
import { joinToken, startTribuneForBrowsers } from './lib/tribune.mjs';

const TONES = { alice: 440, bob: 700 };
const TABLE = `tbtest${process.pid}`;

async function freeTcpPort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

const nft = (...args) => execFileSync('nft', args, { stdio: 'pipe' });

describe('ICE-TCP when UDP is blocked', () => {
  const ctx = { people: {} };
  const room = `ice-tcp-${process.pid}`;

  before(async () => {
    assert.ok(loopbackOnly() || process.env.TB_BROWSER_ANY_NET === '1',
      'run inside tests/browser/run.sh (loopback-only namespace)');
    ctx.run = await startRun();
    ctx.srv = await startTribuneForBrowsers({ tcpPort: await freeTcpPort() });
    nft('add', 'table', 'inet', TABLE);
    nft('add', 'chain', 'inet', TABLE, 'input',
      '{ type filter hook input priority 0 ; policy accept ; }');
    nft('add', 'rule', 'inet', TABLE, 'input', 'udp', 'dport', String(ctx.srv.udpPort), 'drop');
    ctx.people = await ctx.run.people(TONES);
  });

  after(async () => {
    try { nft('delete', 'table', 'inet', TABLE); } catch { /* never made */ }
    await ctx.run?.close();
    await ctx.srv?.stop();
  });

  const join = (who) => ctx.people[who].page.evaluate(([url, token]) => window.join(url, token),
    [ctx.srv.wsUrl, joinToken({ key: ctx.srv.key, secret: ctx.srv.secret, identity: who, room })]);

  it('two participants hear each other over TCP only', async () => {
    await join('alice');
    await join('bob');
    await waitForEvent(ctx.people.alice.page, { type: 'TrackSubscribed', identity: 'bob' }, 20000);
    await waitForEvent(ctx.people.bob.page, { type: 'TrackSubscribed', identity: 'alice' }, 20000);
    for (const [who, other] of [['alice', 'bob'], ['bob', 'alice']])
      await hearsTone(ctx.people[who].page, other, TONES[other]);
    const dropped = nft('list', 'table', 'inet', TABLE).toString();
    assert.match(dropped, /drop/);
  });
});
