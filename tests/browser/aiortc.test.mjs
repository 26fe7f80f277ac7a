// aiortc.test.mjs — tribune with a second, independent LiveKit client:
// tests/aiortc/lk_client.py, a /rtc/v1 participant written on aiortc (Python,
// Debian's python3-aiortc), next to the unmodified livekit-client in
// headless Chromium. The browser publishes 440 Hz, the aiortc client 523 Hz;
// each must hear the other (aiortc: FFT of its decoded track; browser:
// window.analyse), then the aiortc client leaves and the browser sees it go.
// A second case has two aiortc clients only, the first offering no recvonly
// section, so the server must ask it (media_sections_requirement) for one.
// A third has an aiortc client send SRTP packets with bad auth tags: tribune
// drops and counts them (srtp_auth_failed) and the audio keeps flowing. A
// fourth runs tribune with rtc.workers: 4 (every worker on the one UDP port):
// three aiortc clients hear each other whichever worker their packets reach,
// and no datagram is lost between workers. The others run with the default
// workers (one per core).
// Runs inside tests/browser/run.sh (loopback-only namespace).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAiortcClient } from '../aiortc/client.mjs';
import { hearsTone, loopbackOnly, startRun, waitForEvent } from './lib/browser.mjs';
import { joinToken, startTribuneForBrowsers } from './lib/tribune.mjs';

const near = (hz, want, tol = 15) => typeof hz === 'number' && Math.abs(hz - want) <= tol;
const MIN_RMS = 0.1; /* both tones are sent at -6 dBFS: RMS 0.354 */

/** Runs fn; a failure message gets the page log, the clients' stderr and tribune's. */
async function explained(ctx, fn) {
  try {
    return await fn();
  } catch (e) {
    const tail = (s, n) => s.split('\n').slice(-n).join('\n');
    e.message += `\npage logs:\n${(ctx.browser?.logs || []).slice(-20).join('\n')}`;
    for (const [name, c] of Object.entries(ctx.clients || {}))
      e.message += `\n${name} (aiortc) stderr tail:\n${tail(c.stderr(), 15)}`;
    e.message += `\ntribune stderr (tail):\n${tail(ctx.srv?.stderr() || '', 30)}`;
    throw e;
  }
}

/** Identities an lk_client report was told are active speakers. */
const speakersOf = (report) => [...new Set(report.speakers.flatMap((c) =>
  c.speakers.filter((sp) => sp.active).map((sp) => sp.identity)))];

/** The one remote of `identity` in an lk_client report, checked for tone want. */
function heardIn(report, identity, want) {
  const mine = report.remotes.filter((r) => r.identity === identity);
  assert.equal(mine.length, 1, `one track of ${identity}: ${JSON.stringify(report.remotes)}`);
  const r = mine[0];
  assert.ok(near(r.peak_hz, want), `${identity}'s ${want} Hz heard at ${r.peak_hz} Hz`);
  assert.ok(r.rms > MIN_RMS, `${identity}'s tone rms ${r.rms}`);
  assert.ok(r.rms_min > MIN_RMS / 2, `${identity}'s tone drops out: 100 ms rms min ${r.rms_min}`);
  assert.ok(r.measured_seconds > 3, `${identity} heard for only ${r.seconds} s`);
  return r;
}

function checkPreconditions() {
  assert.ok(loopbackOnly() || process.env.TB_BROWSER_ANY_NET === '1',
    'run inside tests/browser/run.sh (loopback-only namespace)');
}

describe('a browser and an aiortc client in one tribune room', () => {
  const ctx = { clients: {} };
  const room = `aiortc-browser-${process.pid}`;

  before(async () => {
    checkPreconditions();
    ctx.run = await startRun({ tmpPrefix: 'tribune-aiortc-' });
    ctx.srv = await startTribuneForBrowsers();
    ctx.browser = await ctx.run.participant({ name: 'alice', wav: await ctx.run.tone(440) });
  });

  after(async () => {
    await Promise.all(Object.values(ctx.clients).map((c) => c.stop()));
    await ctx.run?.close();
    await ctx.srv?.stop();
  });

  const token = (identity) => joinToken({ key: ctx.srv.key, secret: ctx.srv.secret, identity,
    room });

  it('each hears the other, then the aiortc client leaves', () => explained(ctx, async () => {
    const { page } = ctx.browser;
    const j = await page.evaluate(([url, tok]) => window.join(url, tok),
      [ctx.srv.wsUrl, token('alice')]);
    assert.deepEqual(j.remotes, []);

    const t0 = Date.now();
    const py = startAiortcClient({ url: ctx.srv.wsUrl, token: token('py-bob'), tone: 523,
      seconds: 8 });
    ctx.clients.bob = py;
    const joined = await py.waitFor('joined', 10000);
    assert.equal(joined.identity, 'py-bob');
    assert.deepEqual(joined.others.map((o) => o.identity), ['alice'],
      'the JoinResponse lists the browser');
    await py.waitFor('published', 10000);
    const tPublished = Date.now() - t0;
    await py.waitFor('first_audio', 5000);
    const tFirstAudio = Date.now() - t0;

    // the browser sees py-bob arrive, subscribes and hears 523 Hz
    await waitForEvent(page, { type: 'ParticipantConnected', identity: 'py-bob' }, 5000);
    await waitForEvent(page, { type: 'TrackSubscribed', identity: 'py-bob', kind: 'audio' }, 5000);
    let last = '';
    let tHeard = null;
    while (Date.now() - t0 < 14000) {
      const res = await page.evaluate(() => window.analyse('py-bob', { durationMs: 300 }));
      if (res.length === 1 && near(res[0].peakHz, 523) && res[0].rms > MIN_RMS) {
        tHeard = Date.now() - t0;
        break;
      }
      last = JSON.stringify(res);
    }
    assert.ok(tHeard !== null, `the browser does not hear py-bob's 523 Hz: ${last}`);
    const [steady] = await page.evaluate(() => window.analyse('py-bob', { durationMs: 1000 }));
    assert.ok(near(steady.peakHz, 523), `py-bob heard at ${steady.peakHz} Hz`);
    assert.ok(steady.rmsMin > MIN_RMS, `py-bob's tone drops out: rms min ${steady.rmsMin}`);

    // the aiortc client hears 440 Hz from alice, then leaves by itself
    const { code, report } = await py.done;
    assert.equal(code, 0, `lk_client exit code ${code}; errors ${JSON.stringify(report?.errors)}`);
    assert.ok(report, 'lk_client wrote its report');
    assert.deepEqual(report.errors, []);
    assert.equal(report.answers, report.offers, 'every offer answered');
    const heard = heardIn(report, 'alice', 440);
    assert.equal(report.remotes.length, 1, `only alice: ${JSON.stringify(report.remotes)}`);
    assert.ok(report.pings >= 1 && report.pongs === report.pings,
      `every ping_req answered: ${report.pings} pings, ${report.pongs} pongs`);
    assert.ok(await page.evaluate(() => window.events.some((e) =>
      e.type === 'ActiveSpeakersChanged' && e.speakers.includes('py-bob'))),
    'the browser told py-bob speaks (its RFC 6464 audio levels are read)');

    const gone = await waitForEvent(page, { type: 'ParticipantDisconnected',
      identity: 'py-bob' }, 5000);
    const s = await page.evaluate(() => window.state());
    assert.equal(s.state, 'connected');
    assert.deepEqual(s.remotes, [], 'alice is alone again');
    // py-bob joined while alice was already speaking: tribune tells a
    // newcomer who speaks right now (changes alone would never name her)
    assert.ok(speakersOf(report).includes('alice'), 'the late joiner is told alice speaks');
    console.log(`# aiortc: published ${tPublished} ms, first audio ${tFirstAudio} ms, ` +
      `browser hears it ${tHeard} ms after start; aiortc heard alice at ${heard.peak_hz} Hz ` +
      `rms ${heard.rms}; browser heard py-bob at ${steady.peakHz.toFixed(1)} Hz rms ` +
      `${steady.rms.toFixed(3)}; disconnect seen at page t=${gone.t} ms`);
    await page.evaluate(() => window.leave());
  }));
});

describe('two aiortc clients in one tribune room', () => {
  const ctx = { clients: {} };
  const room = `aiortc-pair-${process.pid}`;

  before(async () => {
    checkPreconditions();
    ctx.srv = await startTribuneForBrowsers();
  });

  after(async () => {
    await Promise.all(Object.values(ctx.clients).map((c) => c.stop()));
    await ctx.srv?.stop();
  });

  it('a client with no recvonly section is asked for one and hears the other',
    () => explained(ctx, async () => {
      const token = (identity) => joinToken({ key: ctx.srv.key, secret: ctx.srv.secret,
        identity, room });
      const a = startAiortcClient({ url: ctx.srv.wsUrl, token: token('py-carol'), tone: 700,
        seconds: 7, recv: 0 });
      ctx.clients.carol = a;
      await a.waitFor('published', 10000);
      const b = startAiortcClient({ url: ctx.srv.wsUrl, token: token('py-dave'), tone: 1000,
        seconds: 5 });
      ctx.clients.dave = b;
      const req = await a.waitFor('requirement', 10000);
      assert.ok(req.num_audios >= 1, `carol offered no recvonly section, so the server must ` +
        `ask for one: ${JSON.stringify(req)}`);
      const [ra, rb] = await Promise.all([a.done, b.done]);
      for (const [who, r] of [['py-carol', ra], ['py-dave', rb]]) {
        assert.equal(r.code, 0, `${who} exit code ${r.code}: ${JSON.stringify(r.report?.errors)}`);
        assert.deepEqual(r.report.errors, [], `${who} errors`);
        assert.equal(r.report.remotes.length, 1, `${who}: ${JSON.stringify(r.report.remotes)}`);
      }
      const carolHears = heardIn(ra.report, 'py-dave', 1000);
      const daveHears = heardIn(rb.report, 'py-carol', 700);
      assert.equal(ra.report.participant_states[rb.report.sid], 'DISCONNECTED',
        'carol was told that dave left');
      assert.ok(speakersOf(ra.report).includes('py-dave'),
        `carol told dave speaks: ${JSON.stringify(ra.report.speakers)}`);
      console.log(`# aiortc pair: carol heard dave at ${carolHears.peak_hz} Hz rms ` +
        `${carolHears.rms}; dave heard carol at ${daveHears.peak_hz} Hz rms ${daveHears.rms}; ` +
        `carol's requirements ${JSON.stringify(ra.report.requirements)}; late joiner dave told ` +
        `carol speaks: ${speakersOf(rb.report).includes('py-carol')}`);
    }));
});

describe('SRTP packets with bad auth tags', () => {
  const ctx = { clients: {} };
  const room = `aiortc-badsrtp-${process.pid}`;

  before(async () => {
    checkPreconditions();
    ctx.run = await startRun({ tmpPrefix: 'tribune-badsrtp-' });
    ctx.srv = await startTribuneForBrowsers();
    ctx.browser = await ctx.run.participant({ name: 'alice', wav: await ctx.run.tone(440) });
  });

  after(async () => {
    await Promise.all(Object.values(ctx.clients).map((c) => c.stop()));
    await ctx.run?.close();
    await ctx.srv?.stop();
  });

  const token = (identity) => joinToken({ key: ctx.srv.key, secret: ctx.srv.secret, identity,
    room });
  const srtpFailures = async () => {
    const text = await (await fetch(`${ctx.srv.url}/metrics`)).text();
    const m = text.match(/tribune_media_dropped_total\{reason="srtp_auth_failed"\} (\d+)/);
    return m ? Number(m[1]) : 0;
  };

  it('are dropped and counted, and the audio keeps flowing', () => explained(ctx, async () => {
    const { page } = ctx.browser;
    await page.evaluate(([url, tok]) => window.join(url, tok), [ctx.srv.wsUrl, token('alice')]);
    const before0 = await srtpFailures();
    const py = startAiortcClient({ url: ctx.srv.wsUrl, token: token('py-eve'), tone: 600,
      seconds: 6, badSrtp: 50 });
    ctx.clients.eve = py;
    await py.waitFor('bad_srtp_sent', 15000);
    await waitForEvent(page, { type: 'TrackSubscribed', identity: 'py-eve', kind: 'audio' }, 5000);
    const t0 = Date.now();
    let n = before0;
    while (Date.now() - t0 < 3000 && n - before0 < 50) {
      await new Promise((r) => setTimeout(r, 100));
      n = await srtpFailures();
    }
    assert.ok(n - before0 >= 50, `srtp_auth_failed went from ${before0} to ${n}`);
    await hearsTone(page, 'py-eve', 600, { timeoutMs: 8000, minRms: MIN_RMS }); /* audio flows */
    const { report } = await py.done;
    heardIn(report, 'alice', 440);
  }));
});

describe('four media workers sharing the UDP port', () => {
  const ctx = { clients: {} };
  const room = `aiortc-workers-${process.pid}`;

  before(async () => {
    checkPreconditions();
    ctx.srv = await startTribuneForBrowsers({ extra: '  workers: 4\n' });
  });

  after(async () => {
    await Promise.all(Object.values(ctx.clients).map((c) => c.stop()));
    await ctx.srv?.stop();
  });

  it('three aiortc clients hear each other whichever worker their packets reach',
    () => explained(ctx, async () => {
      const tones = { 'py-w1': 500, 'py-w2': 800, 'py-w3': 1100 };
      for (const [identity, tone] of Object.entries(tones)) {
        ctx.clients[identity] = startAiortcClient({ url: ctx.srv.wsUrl, tone, seconds: 6,
          token: joinToken({ key: ctx.srv.key, secret: ctx.srv.secret, identity, room }) });
        await ctx.clients[identity].waitFor('published', 10000);
      }
      const reports = {};
      for (const [identity, c] of Object.entries(ctx.clients)) {
        const { code, report } = await c.done;
        assert.equal(code, 0, `${identity}: ${JSON.stringify(report?.errors)}`);
        reports[identity] = report;
      }
      /* the last to join hears the other two for the whole stay */
      for (const other of ['py-w1', 'py-w2']) heardIn(reports['py-w3'], other, tones[other]);
      for (const [who, other] of [['py-w1', 'py-w2'], ['py-w2', 'py-w1']])
        heardIn(reports[who], other, tones[other]);
      const text = await (await fetch(`${ctx.srv.url}/metrics`)).text();
      assert.match(text, /tribune_media_workers 4\n/);
      const passed = Number(text.match(/handoff_total\{result="passed"\} (\d+)/)[1]);
      const dropped = Number(text.match(/handoff_total\{result="dropped"\} (\d+)/)[1]);
      assert.equal(dropped, 0, 'no datagram lost between workers');
      console.log(`# datagrams handed between workers: ${passed}`);
    }));
});
