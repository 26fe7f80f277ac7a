// data.test.mjs — data channels with real Chromium and the unmodified
// livekit-client: SCTP over DTLS (usrsctp on tribune's side), DCEP, and
// LiveKit DataPackets routed to the room.
//  - reliable messages arrive complete and in order, with the sender's identity;
//  - lossy ones arrive too (loopback loses nothing), on the lossy kind;
//  - destinationIdentities limit who receives;
//  - a participant whose token has canPublishData: false is not heard;
//  - 100 KiB, as LiveKit handles it: publishData refuses packets over 64000
//    bytes in the SDK, and sendText carries it as a chunked data stream,
//    which arrives whole;
//  - RoomService.SendData (Twirp JSON, as livekit-server-sdk sends it; the
//    SDK itself is exercised in tests/interop/sdk.test.mjs) reaches everyone.
// Both on /rtc/v1 and on /rtc (two peer connections).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loopbackOnly, startRun, waitForEvent } from './lib/browser.mjs';
import { joinToken, startTribuneForBrowsers } from './lib/tribune.mjs';

const NAMES = ['alice', 'bob', 'carol', 'mute'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function dataSuite(singlePeerConnection) {
  const mode = singlePeerConnection ? '/rtc/v1'
    : '/rtc (the server\'s channels on the subscriber PC)';
  describe(`data channels and DataPackets, ${mode}`, () => {
    const ctx = { people: {} };
    const room = `data-${singlePeerConnection ? 'v1' : 'v0'}-${process.pid}`;

    before(async () => {
      assert.ok(loopbackOnly() || process.env.TB_BROWSER_ANY_NET === '1',
        'run inside tests/browser/run.sh (loopback-only namespace)');
      ctx.run = await startRun();
      ctx.srv = await startTribuneForBrowsers();
      const wav = await ctx.run.tone(440);
      const people = await Promise.all(NAMES.map((name) => ctx.run.participant({ name, wav })));
      NAMES.forEach((n, i) => { ctx.people[n] = people[i]; });
      for (const who of NAMES) {
        const grant = who === 'mute' ? { canPublishData: false } : {};
        const token = joinToken({ key: ctx.srv.key, secret: ctx.srv.secret, identity: who, room,
          grant });
        await ctx.people[who].page.evaluate(([url, t, one]) => window.join(url, t,
          { singlePeerConnection: one }), [ctx.srv.wsUrl, token, singlePeerConnection]);
      }
      // the room is complete once everyone before the last has seen the last join
      const last = NAMES[NAMES.length - 1];
      for (const who of NAMES.slice(0, -1))
        await waitForEvent(ctx.people[who].page, { type: 'ParticipantConnected', identity: last },
          15000);
    });

    after(async () => {
      await ctx.run?.close();
      await ctx.srv?.stop();
    });

    const page = (who) => ctx.people[who].page;
    const received = (who, pred) => page(who).evaluate(
      (src) => window.events.filter((e) => e.type === 'DataReceived')
        .filter(new Function('e', `return ${src}`)), pred);
    async function waitReceived(who, pred, n, timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = await received(who, pred);
        if (got.length >= n || Date.now() > deadline) return got;
        await sleep(100);
      }
    }

    it('reliable messages arrive complete, in order, from the sender', async () => {
      for (let i = 0; i < 50; i++)
        await page('alice').evaluate((t) => window.sendData(t), `r-${i}`);
      for (const who of ['bob', 'carol']) {
        const got = await waitReceived(who, "e.text?.startsWith('r-')", 50);
        assert.deepEqual(got.map((e) => e.text), Array.from({ length: 50 }, (_, i) => `r-${i}`));
        assert.ok(got.every((e) => e.from === 'alice' && e.kind === 0), JSON.stringify(got[0]));
      }
      assert.equal((await received('alice', "e.text?.startsWith('r-')")).length, 0,
        'the sender does not get its own messages back');
    });

    it('lossy messages arrive with the lossy kind', async () => {
      for (let i = 0; i < 10; i++)
        await page('bob').evaluate((t) => window.sendData(t, { reliable: false }), `l-${i}`);
      const got = await waitReceived('alice', "e.text?.startsWith('l-')", 10);
      assert.ok(got.length >= 9, `${got.length} of 10 lossy messages (loopback loses none)`);
      assert.ok(got.every((e) => e.from === 'bob' && e.kind === 1));
    });

    it('destinationIdentities: only the named participant receives', async () => {
      await page('alice').evaluate(() => window.sendData('for-carol',
        { destinationIdentities: ['carol'], topic: 'private' }));
      const got = await waitReceived('carol', "e.text === 'for-carol'", 1);
      assert.equal(got.length, 1);
      assert.equal(got[0].topic, 'private');
      await sleep(500);
      assert.equal((await received('bob', "e.text === 'for-carol'")).length, 0);
    });

    it('canPublishData: false is enforced by the server', async () => {
      const before0 = await metric('tribune_data_packets_total{result="dropped"}');
      // the SDK does not check the grant: the packet reaches tribune, which drops it
      const sent = await page('mute').evaluate(() => window.sendData('from-mute')
        .then(() => true, () => false));
      await sleep(1000);
      for (const who of ['alice', 'bob', 'carol'])
        assert.equal((await received(who, "e.text === 'from-mute'")).length, 0, who);
      const after0 = await metric('tribune_data_packets_total{result="dropped"}');
      assert.ok(sent, 'the SDK sent it (it does not check the grant itself)');
      assert.equal(after0, before0 + 1, 'counted as dropped');
    });

    it('100 KiB: publishData refuses it (as the SDK does with LiveKit), sendText streams it whole',
      async () => {
        const err = await page('carol').evaluate(() => window.sendData({ size: 100 * 1024 })
          .then(() => null, (e) => String(e)));
        assert.match(String(err), /larger than/);
        const sum = await page('carol').evaluate(() => window.sendBigText(100 * 1024));
        for (const who of ['alice', 'bob']) {
          const h = await page(who).waitForFunction(() => window.events.find(
            (e) => e.type === 'TextReceived' && e.size === 102400), null, { timeout: 15000 });
          const got = await h.jsonValue();
          assert.equal(got.checksum, sum, who);
          assert.equal(got.from, 'carol');
        }
        // and the largest packet publishData allows goes through as one message
        const sum2 = await page('carol').evaluate(() => window.sendData({ size: 63000 }));
        const got = await waitReceived('bob', 'e.size === 63000', 1);
        assert.equal(got[0]?.checksum, sum2);
      });

    it('RoomService.SendData reaches every participant with its topic', async () => {
      const admin = joinToken({ key: ctx.srv.key, secret: ctx.srv.secret, identity: 'admin', room,
        grant: { roomAdmin: true, roomJoin: false } });
      const r = await fetch(`${ctx.srv.url}/twirp/livekit.RoomService/SendData`, {
        method: 'POST', headers: { 'Content-Type': 'application/json',
          Authorization: `Bearer ${admin}` },
        body: JSON.stringify({ room, data: Buffer.from('from-server').toString('base64'),
          kind: 'RELIABLE', topic: 'announce' }) });
      assert.equal(r.status, 200, await r.text());
      for (const who of NAMES) {
        const got = await waitReceived(who, "e.text === 'from-server'", 1);
        assert.equal(got.length, 1, who);
        assert.equal(got[0].topic, 'announce');
      }
    });

    async function metric(series) {
      const text = await (await fetch(`${ctx.srv.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line ? Number(line.split(' ')[1]) : NaN;
    }
  });
}

dataSuite(true);
dataSuite(false);
