// turn_relay.test.mjs — the embedded TURN server with real Chromium: two
// participants join with iceTransportPolicy 'relay', so every packet between
// them and tribune's SFU passes through tribune's own TURN server (the
// credentials and URLs come from JoinResponse.ice_servers). First over UDP
// (TCP to the TURN port dropped with nftables inside the test's network
// namespace: with both, Chromium may pick either relay pair); then with UDP
// to the TURN port dropped, so Chromium must fall back to TURN over TCP. Each time they
// must hear each other, the selected candidate must be a relay candidate of
// the expected protocol, and tribune's TURN metrics must show relayed packets.
// A third run uses port-range mode (no rtc.udp_port: a media port per
// transport), where the relays must reach every port of the range.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { hearsTone, loopbackOnly, startRun, waitForEvent } from './lib/browser.mjs';
import { freeUdpPort, joinToken, startTribuneForBrowsers } from './lib/tribune.mjs';

const TONES = { alice: 440, bob: 700 };
const TABLE = `tbturn${process.pid}`;
const nft = (...args) => execFileSync('nft', args, { stdio: 'pipe' });

async function turnMetric(srv, name) {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function relayCase(title, { blockUdp, wantProtocol, portRange = null }) {
  describe(title, () => {
    const ctx = { people: {} };
    const room = `turn-${wantProtocol}-${portRange ? 'range' : 'one'}-${process.pid}`;

    before(async () => {
      assert.ok(loopbackOnly() || process.env.TB_BROWSER_ANY_NET === '1',
        'run inside tests/browser/run.sh (loopback-only namespace)');
      ctx.run = await startRun();
      ctx.turnPort = await freeUdpPort();
      // no allow_restricted_peer_cidrs: the only loopback peer the relays may
      // reach is tribune's own media port, which the peer policy allows
      ctx.srv = await startTribuneForBrowsers({ portRange, extra: 'turn:\n  enabled: true\n' +
        `  udp_port: ${ctx.turnPort}\n  relay_range_start: 46000\n  relay_range_end: 46200\n` });
      // the other transport to the TURN port is dropped, so the relay
      // protocol Chromium ends up on is the one this case is about
      nft('add', 'table', 'inet', TABLE);
      nft('add', 'chain', 'inet', TABLE, 'input',
        '{ type filter hook input priority 0 ; policy accept ; }');
      nft('add', 'rule', 'inet', TABLE, 'input', blockUdp ? 'udp' : 'tcp', 'dport',
        String(ctx.turnPort), blockUdp ? 'drop' : 'reject');
      ctx.people = await ctx.run.people(TONES);
    });

    after(async () => {
      try { nft('delete', 'table', 'inet', TABLE); } catch { /* never made */ }
      await ctx.run?.close();
      await ctx.srv?.stop();
    });

    const join = (who) => ctx.people[who].page.evaluate(([url, token]) =>
      window.join(url, token, { connectOptions: { rtcConfig: { iceTransportPolicy: 'relay' } },
        timeoutMs: 30000 }),
    [ctx.srv.wsUrl, joinToken({ key: ctx.srv.key, secret: ctx.srv.secret, identity: who, room })]);

    it(`two participants hear each other through tribune's TURN over ${wantProtocol}`,
      async () => {
        await join('alice');
        await join('bob');
        await waitForEvent(ctx.people.alice.page, { type: 'TrackSubscribed', identity: 'bob' },
          30000);
        await waitForEvent(ctx.people.bob.page, { type: 'TrackSubscribed', identity: 'alice' },
          30000);
        for (const [who, other] of [['alice', 'bob'], ['bob', 'alice']])
          await hearsTone(ctx.people[who].page, other, TONES[other]);
        for (const who of Object.keys(TONES)) {
          const { selectedLocal } = await ctx.people[who].page.evaluate(() => window.rtcStats());
          assert.ok(selectedLocal.length > 0, `${who}: no selected candidate pair`);
          for (const c of selectedLocal) {
            assert.equal(c.candidateType, 'relay', `${who}: ${JSON.stringify(c)}`);
            assert.equal(c.relayProtocol, wantProtocol, `${who}: ${JSON.stringify(c)}`);
          }
        }
        await new Promise((r) => setTimeout(r, 1100)); // TURN stats are published each second
        assert.ok(await turnMetric(ctx.srv, 'tribune_turn_allocations') >= 2);
        assert.ok(await turnMetric(ctx.srv,
          'tribune_turn_packets_total\\{direction="to_peer"\\}') > 100);
        assert.ok(await turnMetric(ctx.srv,
          'tribune_turn_packets_total\\{direction="to_client"\\}') > 100);
        if (blockUdp) assert.ok(await turnMetric(ctx.srv, 'tribune_turn_tcp_connections') >= 2);
      });
  });
}

relayCase('TURN relay over UDP (iceTransportPolicy relay)', { blockUdp: false,
  wantProtocol: 'udp' });
relayCase('TURN relay over TCP when UDP to the TURN port is blocked', { blockUdp: true,
  wantProtocol: 'tcp' });
// port-range mode: the relays must reach every transport's own media port
relayCase('TURN relay over UDP to a media port range (no rtc.udp_port)', { blockUdp: false,
  wantProtocol: 'udp', portRange: [51000, 51100] });
