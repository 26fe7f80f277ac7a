// tribune.test.mjs — tribune with the unmodified livekit-client in real
// headless Chromium: three participants, each its own browser with its own
// tone (alice 440 Hz, bob 700 Hz, carol 1000 Hz), join a room and each hears
// the other two (the analyser reads their frequencies); RTCP-derived stats,
// active speakers, mute/unmute, unsubscribe/resubscribe, a late joiner (dave,
// 1300 Hz) who hears everyone and is heard, unpublishing, a closed tab, and
// leaving. Twice: on /rtc/v1 (one peer connection, the SDK's default) and
// on /rtc (two peer connections: the client's publisher PC, and the
// subscriber PC tribune offers).
// The binary is $TRIBUNE_BIN, else build/tribune.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loopbackOnly, sleep, startRun, waitForEvent } from './lib/browser.mjs';
import { joinToken, startTribuneForBrowsers } from './lib/tribune.mjs';

const near = (hz, want, tol = 15) => Math.abs(hz - want) <= tol;

/** Runs fn; a failure message gets both pages' last log lines and tribune's stderr. */
async function explained(ctx, fn) {
  try {
    return await fn();
  } catch (e) {
    const logs = Object.values(ctx.people).flatMap((p) => p.logs.slice(-20));
    e.message += `\npage logs:\n${logs.join('\n')}\ntribune stderr (tail):\n` +
      `${ctx.srv?.stderr().split('\n').slice(-30).join('\n')}`;
    throw e;
  }
}

/** One participant's measurement of the other: exactly one track at want Hz. */
async function hears(page, identity, want) {
  const res = await page.evaluate((id) => window.analyse(id, { durationMs: 1000 }), identity);
  assert.equal(res.length, 1, `one audio track of ${identity}: ${JSON.stringify(res)}`);
  assert.ok(near(res[0].peakHz, want), `${identity}'s ${want} Hz heard at ${res[0].peakHz} Hz`);
  assert.ok(res[0].rmsMin > 0.1, `${identity}'s tone rms ${res[0].rms} (min ${res[0].rmsMin})`);
  return res[0];
}

const TONES = { alice: 440, bob: 700, carol: 1000, dave: 1300 };

function roomSuite(singlePeerConnection) {
  const mode = singlePeerConnection ? 'one peer connection (/rtc/v1)' : 'two (/rtc)';
  describe(`browsers in a tribune room, ${mode}`, () => {
    const ctx = { people: {} };
    const room = `browser-${singlePeerConnection ? 'v1' : 'v0'}-${process.pid}`;

    before(async () => {
      assert.ok(loopbackOnly() || process.env.TB_BROWSER_ANY_NET === '1',
        'run inside tests/browser/run.sh (loopback-only namespace)');
      ctx.run = await startRun();
      ctx.srv = await startTribuneForBrowsers();
      ctx.people = await ctx.run.people(TONES);
    });

    after(async () => {
      await ctx.run?.close();
      await ctx.srv?.stop();
    });

    const join = (who, publish) => ctx.people[who].page.evaluate(([url, token, spc, pub]) =>
      window.join(url, token, { singlePeerConnection: spc, publish: pub }),
    [ctx.srv.wsUrl, joinToken({ key: ctx.srv.key, secret: ctx.srv.secret, identity: who, room }),
      singlePeerConnection, publish]);

    /** Polls until `who` hears every one of `others` at its tone; returns ms taken. */
    async function hearsAll(who, others, timeoutMs = 15000) {
      const t0 = Date.now();
      let last = '';
      while (Date.now() - t0 < timeoutMs) {
        const res = await ctx.people[who].page.evaluate(() => window.analyse(undefined,
          { durationMs: 300 }));
        const ok = others.every((o) => res.some((r) => r.identity === o &&
          near(r.peakHz, TONES[o]) && r.rms > 0.1));
        if (ok) return Date.now() - t0;
        last = JSON.stringify(res.map((r) => [r.identity, Math.round(r.peakHz), r.rms.toFixed(3)]));
      }
      assert.fail(`${who} does not hear ${others.join(', ')} within ${timeoutMs} ms: ${last}`);
    }

    it('three join and subscribe to each other\'s microphone', () => explained(ctx, async () => {
      const ja = await join('alice');
      assert.equal(ja.identity, 'alice');
      assert.deepEqual(ja.remotes, []);
      const jb = await join('bob');
      assert.deepEqual(jb.remotes, ['alice']);
      const jc = await join('carol');
      assert.deepEqual([...jc.remotes].sort(), ['alice', 'bob']);
      const { alice, bob, carol } = ctx.people;
      await waitForEvent(alice.page, { type: 'ParticipantConnected', identity: 'carol' });
      for (const [page, from] of [[alice, 'bob'], [alice, 'carol'], [bob, 'alice'],
        [bob, 'carol'], [carol, 'alice'], [carol, 'bob']])
        await waitForEvent(page.page, { type: 'TrackSubscribed', identity: from, kind: 'audio' });
    }));

    it('each hears the other two, and only them', () => explained(ctx, async () => {
      const taken = {};
      for (const who of ['alice', 'bob', 'carol']) {
        const others = ['alice', 'bob', 'carol'].filter((o) => o !== who);
        taken[who] = await hearsAll(who, others);
        const res = await ctx.people[who].page.evaluate(() => window.analyse());
        assert.equal(res.length, 2, `${who} receives exactly two tracks: ${JSON.stringify(res)}`);
        assert.ok(!res.some((r) => r.identity === who), `${who} does not hear itself`);
      }
      console.log(`# time to hear both others: ${JSON.stringify(taken)} ms`);
    }));

    it('sends RTCP: sender reports on what it forwards, receiver reports on what it gets',
      () => explained(ctx, async () => {
        const page = ctx.people.alice.page;
        await page.waitForFunction(async () => {
          const s = await window.rtcStats();
          return s.remoteOutbound.length >= 2 && s.remoteInbound.length >= 1;
        }, null, { timeout: 8000, polling: 500 });
        const s = await page.evaluate(() => window.rtcStats());
        const inboundSsrcs = s.inbound.filter((i) => i.packetsReceived > 0).map((i) => i.ssrc);
        for (const ro of s.remoteOutbound) {
          assert.ok(inboundSsrcs.includes(ro.ssrc), `SR for an SSRC alice receives: ${ro.ssrc}`);
          assert.ok(ro.packetsSent > 0, `SR packet count: ${JSON.stringify(ro)}`);
        }
        assert.ok(s.remoteInbound[0].roundTripTime >= 0, JSON.stringify(s.remoteInbound));
      }));

    it('reports the others as active speakers', () => explained(ctx, async () => {
      for (const [who, other] of [['alice', 'bob'], ['bob', 'carol'], ['carol', 'alice']]) {
        await ctx.people[who].page.waitForFunction((o) => window.events.some((e) =>
          e.type === 'ActiveSpeakersChanged' && e.speakers.includes(o)), other,
        { timeout: 10000 });
      }
    }));

    it('mute silences alice for the others and unmute brings her back', () => explained(ctx, async () => {
      const { alice, bob, carol } = ctx.people;
      await alice.page.evaluate(() => window.mute(true));
      await waitForEvent(bob.page, { type: 'TrackMuted', identity: 'alice' });
      await waitForEvent(carol.page, { type: 'TrackMuted', identity: 'alice' });
      await sleep(500);
      const [muted] = await bob.page.evaluate(() => window.analyse('alice',
        { durationMs: 500 }));
      assert.ok(muted.rmsMax < 0.01, `muted alice still heard: rms max ${muted.rmsMax}`);
      assert.equal(muted.muted, true);
      await hearsAll('bob', ['carol']); /* carol is not disturbed */
      await alice.page.evaluate(() => window.mute(false));
      await waitForEvent(bob.page, { type: 'TrackUnmuted', identity: 'alice' });
      await hearsAll('bob', ['alice', 'carol']);
    }));

    it('unsubscribing stops a remote track and subscribing again brings it back',
      () => explained(ctx, async () => {
        const carol = ctx.people.carol.page;
        const count = (type) => carol.evaluate((t) => window.events.filter((e) =>
          e.type === t && e.identity === 'alice').length, type);
        const subscribedBefore = await count('TrackSubscribed');
        await carol.evaluate(() => window.setSubscribed('alice', false));
        await waitForEvent(carol, { type: 'TrackUnsubscribed', identity: 'alice' });
        assert.deepEqual(await carol.evaluate(() => window.analyse('alice')), []);
        await hearsAll('carol', ['bob']);
        await carol.evaluate(() => window.setSubscribed('alice', true));
        await carol.waitForFunction((n) => window.events.filter((e) =>
          e.type === 'TrackSubscribed' && e.identity === 'alice').length > n, subscribedBefore,
        { timeout: 10000 });
        await hearsAll('carol', ['alice', 'bob']);
      }));

    it('a late joiner hears everyone and is heard', () => explained(ctx, async () => {
      const jd = await join('dave');
      assert.deepEqual([...jd.remotes].sort(), ['alice', 'bob', 'carol']);
      await hearsAll('dave', ['alice', 'bob', 'carol']);
      for (const who of ['alice', 'bob', 'carol']) await hearsAll(who, ['dave']);
    }));

    it('unpublishing removes the track for everyone', () => explained(ctx, async () => {
      const { alice, carol, dave } = ctx.people;
      await dave.page.evaluate(() => window.unpublish());
      await waitForEvent(alice.page, { type: 'TrackUnsubscribed', identity: 'dave' });
      await waitForEvent(carol.page, { type: 'TrackUnsubscribed', identity: 'dave' });
      assert.deepEqual(await alice.page.evaluate(() => window.analyse('dave')), []);
      await hearsAll('dave', ['alice', 'carol']); /* dave still receives */
    }));

    it('closing a tab removes that participant for the others', () => explained(ctx, async () => {
      const { alice, carol } = ctx.people;
      await carol.close(); /* the whole browser goes: no leave message, the socket drops */
      await waitForEvent(alice.page, { type: 'ParticipantDisconnected', identity: 'carol' });
      await hearsAll('alice', ['bob']);
    }));

    it('bob leaves: the others see him go', () => explained(ctx, async () => {
      const { alice, bob, dave } = ctx.people;
      await bob.page.evaluate(() => window.leave());
      for (const p of [alice, dave])
        await waitForEvent(p.page, { type: 'ParticipantDisconnected', identity: 'bob' });
      const s = await alice.page.evaluate(() => window.state());
      assert.equal(s.state, 'connected');
      assert.deepEqual(s.remotes.map((r) => r.identity).sort(), ['dave']);
      for (const p of [alice, dave]) await p.page.evaluate(() => window.leave());
      const ev = await alice.page.evaluate(() => window.events.map((e) => e.type));
      assert.ok(ev.includes('Disconnected'), ev.join(','));
    }));
  });
}

roomSuite(true);
roomSuite(false);
