// resume.test.mjs — the SDK's resume path. The signaling port stops working
// for a few seconds: nftables (in the test's own network namespace) answers
// every TCP segment to it with a reset, so the WebSockets die at their next
// ping and reconnect attempts fail, until the rule goes. (Chromium's CDP
// offline emulation was tried first: it does not touch an open WebSocket.)
// The SDK then resumes (JoinRequest.reconnect with the participant sid, then
// an ICE restart). tribune must keep the participants in the room through
// it: nobody sees anybody leave, and they hear each other afterwards. On
// /rtc/v1 (JoinRequest.reconnect) and on /rtc (reconnect=1&sid=...).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { hearsTone, loopbackOnly, startRun, waitForEvent } from './lib/browser.mjs';
import { joinToken, startTribuneForBrowsers } from './lib/tribune.mjs';

const TONES = { alice: 440, bob: 700 };
const TABLE = `tbresume${process.pid}`;
const nft = (...args) => execFileSync('nft', args, { stdio: 'pipe' });

function resumeSuite(singlePeerConnection) {
  describe(`resume after a short network loss, ${singlePeerConnection ? '/rtc/v1' : '/rtc'}`,
    () => {
    const ctx = { people: {} };
    const room = `resume-${singlePeerConnection ? 'v1' : 'v0'}-${process.pid}`;

    before(async () => {
      assert.ok(loopbackOnly() || process.env.TB_BROWSER_ANY_NET === '1',
        'run inside tests/browser/run.sh (loopback-only namespace)');
      ctx.run = await startRun();
      ctx.srv = await startTribuneForBrowsers();
      ctx.people = await ctx.run.people(TONES);
      for (const who of Object.keys(TONES)) {
        const token = joinToken({ key: ctx.srv.key, secret: ctx.srv.secret, identity: who, room });
        await ctx.people[who].page.evaluate(([url, t, one]) => window.join(url, t,
          { singlePeerConnection: one }), [ctx.srv.wsUrl, token, singlePeerConnection]);
      }
      await waitForEvent(ctx.people.alice.page, { type: 'TrackSubscribed', identity: 'bob' }, 20000);
      await waitForEvent(ctx.people.bob.page, { type: 'TrackSubscribed', identity: 'alice' }, 20000);
    });

    after(async () => {
      try { nft('delete', 'table', 'inet', TABLE); } catch { /* gone already */ }
      await ctx.run?.close();
      await ctx.srv?.stop();
    });

    it('a signaling outage: both resume, nobody leaves, audio flows both ways again', async () => {
      const { alice, bob } = { alice: ctx.people.alice.page, bob: ctx.people.bob.page };
      nft('add', 'table', 'inet', TABLE);
      nft('add', 'chain', 'inet', TABLE, 'input',
        '{ type filter hook input priority 0 ; policy accept ; }');
      nft('add', 'rule', 'inet', TABLE, 'input', 'tcp', 'dport', String(ctx.srv.port), 'reject',
        'with', 'tcp', 'reset');
      // the WebSocket dies at its next ping; the SDK resumes the signal alone
      // (SignalReconnecting) while the peer connection lives, or both (Reconnecting)
      await alice.waitForFunction(() => window.events.some((e) => e.type === 'Reconnecting' ||
        e.type === 'SignalReconnecting'), null, { timeout: 15000 });
      await new Promise((r) => setTimeout(r, 3000));               // attempts fail meanwhile
      nft('delete', 'table', 'inet', TABLE);
      for (const page of [alice, bob]) await waitForEvent(page, { type: 'Reconnected' }, 30000);
      const log = ctx.srv.stderr();
      assert.match(log, /alice \(PA_\w+\) resumes in/, 'alice resumed (not a fresh join)');
      assert.match(log, /bob \(PA_\w+\) resumes in/, 'bob resumed (not a fresh join)');
      assert.doesNotMatch(log, /did not resume/);
      for (const [who, other] of [['alice', 'bob'], ['bob', 'alice']])
        await hearsTone(ctx.people[who].page, other, TONES[other]);
      for (const [page, other] of [[alice, 'bob'], [bob, 'alice']]) {
        const events = await page.evaluate(() => window.events);
        assert.deepEqual(events.filter((e) => e.type === 'ParticipantDisconnected' &&
          e.identity === other), [], `${other} never left`);
        assert.ok(!events.some((e) => e.type === 'Disconnected'));
      }
    });
    });
}

resumeSuite(true);
resumeSuite(false);
