// port_range.test.mjs — port-range mode (rtc.udp_port unset, as LiveKit's
// defaults have it): each participant's transport gets its own UDP port from
// rtc.port_range_start..end. Two Chromium participants hear each other, and
// each reaches tribune on a different port of the range. Also on /rtc, where
// each participant has two peer connections, hence two ports.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hearsTone, loopbackOnly, startRun, waitForEvent } from './lib/browser.mjs';
import { joinToken, startTribuneForBrowsers } from './lib/tribune.mjs';

const TONES = { alice: 440, bob: 700 };
const RANGE = [41000 + (process.pid % 500) * 10, 41000 + (process.pid % 500) * 10 + 9];

describe('port-range mode', () => {
  const ctx = { people: {} };
  const room = `port-range-${process.pid}`;

  before(async () => {
    assert.ok(loopbackOnly() || process.env.TB_BROWSER_ANY_NET === '1',
      'run inside tests/browser/run.sh (loopback-only namespace)');
    ctx.run = await startRun();
    ctx.srv = await startTribuneForBrowsers({ portRange: RANGE });
    ctx.people = await ctx.run.people(TONES);
  });

  after(async () => {
    await ctx.run?.close();
    await ctx.srv?.stop();
  });

  const join = (who) => ctx.people[who].page.evaluate(([url, token]) => window.join(url, token),
    [ctx.srv.wsUrl, joinToken({ key: ctx.srv.key, secret: ctx.srv.secret, identity: who, room })]);

  it('each participant gets its own port from the range, and they hear each other', async () => {
    await join('alice');
    await join('bob');
    await waitForEvent(ctx.people.alice.page, { type: 'TrackSubscribed', identity: 'bob' });
    await waitForEvent(ctx.people.bob.page, { type: 'TrackSubscribed', identity: 'alice' });
    for (const [who, other] of [['alice', 'bob'], ['bob', 'alice']])
      await hearsTone(ctx.people[who].page, other, TONES[other]);
    const ports = [];
    for (const who of ['alice', 'bob']) {
      const s = await ctx.people[who].page.evaluate(() => window.rtcStats());
      const udp = s.remoteCandidates.filter((c) => c.protocol === 'udp').map((c) => c.port);
      assert.equal(new Set(udp).size, 1, `${who}: one server port ${JSON.stringify(udp)}`);
      assert.ok(udp[0] >= RANGE[0] && udp[0] <= RANGE[1], `${who}: port ${udp[0]} in ${RANGE}`);
      ports.push(udp[0]);
    }
    assert.notEqual(ports[0], ports[1], 'a port per participant');
  });

  it('/rtc: each of the two peer connections gets its own port, and audio flows', async () => {
    const join0 = (who) => ctx.people[who].page.evaluate(([url, token]) =>
      window.join(url, token, { singlePeerConnection: false }),
    [ctx.srv.wsUrl, joinToken({ key: ctx.srv.key, secret: ctx.srv.secret, identity: who,
      room: `${room}-v0` })]);
    for (const who of ['alice', 'bob']) await ctx.people[who].page.evaluate(() => window.leave());
    await join0('alice');
    await join0('bob');
    await waitForEvent(ctx.people.alice.page, { type: 'TrackSubscribed', identity: 'bob' });
    await waitForEvent(ctx.people.bob.page, { type: 'TrackSubscribed', identity: 'alice' });
    for (const [who, other] of [['alice', 'bob'], ['bob', 'alice']])
      await hearsTone(ctx.people[who].page, other, TONES[other]);
    const ports = new Set();
    for (const who of ['alice', 'bob']) {
      const s = await ctx.people[who].page.evaluate(() => window.rtcStats());
      const udp = new Set(s.remoteCandidates.filter((c) => c.protocol === 'udp')
        .map((c) => c.port));
      assert.equal(udp.size, 2, `${who}: a port per peer connection ${JSON.stringify([...udp])}`);
      for (const p of udp) {
        assert.ok(p >= RANGE[0] && p <= RANGE[1], `${who}: port ${p} in ${RANGE}`);
        ports.add(p);
      }
    }
    assert.equal(ports.size, 4, 'four distinct ports');
  });
});
