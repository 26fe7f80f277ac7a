// turn.test.mjs — tribune's embedded TURN server (RFC 8656) against coturn's
// own command-line clients: turnutils_stunclient (Binding), turnutils_uclient
// (Allocate, ChannelBind, ChannelData over UDP, TCP and TLS, with static users
// and TURN REST credentials) relaying to turnutils_peer (a UDP echo server) on
// 127.0.0.1, plus refusals (wrong password, expired TURN REST name, loopback
// peer without allow-list, tribune's own ports) and a few protocol details a
// small STUN client in lib/turn.mjs forces (401/438 nonces, EVEN-PORT, 486
// quota, the media-port exception of the peer rules).
//
// Two tribune instances: A allow-lists 127.0.0.0/8 and serves UDP/TCP and TLS;
// B has no allow-list and a per-identity quota of 2.
//
// TURN_INTEROP_SERVER=coturn runs the same tests against coturn's turnserver
// instead (tribune-only tests are skipped): a check of the harness itself.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultConfigBody, freePort, startTribune } from './lib/server.mjs';
import {
  ATTR, HAS_TURNUTILS, METHOD, TurnUdpClient, decodeMessage, describeRun, encodeRequest,
  freeTcpUdpPort, freeUdpPort, freeUdpPortPair,
  freeUdpRange, hasCommand, makeSelfSignedCert, metricSum, restCredentials, scrapeMetrics,
  startCoturn, startPeer, stunclient, uclient,
} from './lib/turn.mjs';

const COTURN = process.env.TURN_INTEROP_SERVER === 'coturn';
const SKIP = !HAS_TURNUTILS ? 'coturn tools (turnutils_*) not installed'
  : COTURN && !hasCommand('turnserver') ? 'coturn turnserver not installed' : false;
const TRIBUNE_ONLY = COTURN ? 'tribune only' : false;

const REALM = 'tribune.test';
const USER = 'admin';
const PASS = 'adminpassword-123456';
const SECRET = 'turn-rest-secret-0123456789abcdef';
const MESSAGES = 20;
const now = () => Math.floor(Date.now() / 1000);

/** tribune's YAML for one instance (see docs/turn.md). */
function tribuneConfig({ port, media, turnPort, tlsPort, relay, cert, key, allowLoopback,
  perUser, bandwidth = 3000000 }) {
  return defaultConfigBody({ port, extra: [
    'rtc:',
    `  udp_port: ${media}`,
    '  tcp_port: 0',
    '  node_ip: 127.0.0.1',
    'turn:',
    '  enabled: true',
    `  udp_port: ${turnPort}`,
    ...(tlsPort ? [`  tls_port: ${tlsPort}`, `  cert_file: ${cert}`, `  key_file: ${key}`] : []),
    '  domain: localhost',
    `  relay_range_start: ${relay[0]}`,
    `  relay_range_end: ${relay[1]}`,
    `  realm: ${REALM}`,
    '  users:',
    `    ${USER}: ${PASS}`,
    `  secrets: [${SECRET}]`,
    ...(allowLoopback ? ['  allow_restricted_peer_cidrs: [127.0.0.0/8]'] : []),
    `  per_user_relay_allocation_limit: ${perUser}`,
    '  max_allocations: 1000',
    `  bandwidth_limit: ${bandwidth}`,
    '  ttl_seconds: 300',
    '',
  ].join('\n') });
}

/**
 * One TURN server under test: {port, tlsPort, restPort, restTlsPort, url
 * (tribune's HTTP, for /metrics), httpPort, media, log(), stop()}. With
 * tribune, static users and TURN REST share the ports; coturn cannot serve
 * both at once, so in coturn mode a second turnserver takes the REST names.
 */
async function startTarget({ dir, cert, key, allowLoopback, perUser, tls, relaySize, avoid = [],
  bandwidth }) {
  const turnPort = await freeTcpUdpPort();
  const tlsPort = tls ? await freePort() : 0;
  if (COTURN) {
    const restPort = await freeTcpUdpPort();
    const restTlsPort = await freePort();
    const relay = await freeUdpRange(relaySize, { avoid });
    const relay2 = await freeUdpRange(relaySize, { avoid: [...avoid, ...span(relay)] });
    const common = { cert, key, realm: REALM, allowLoopback, userQuota: perUser };
    const [s1, s2] = await Promise.all([
      startCoturn({ ...common, dir, port: turnPort, tlsPort: tlsPort || await freePort(), relay,
        users: { [USER]: PASS } }),
      startCoturn({ ...common, dir, port: restPort, tlsPort: restTlsPort, relay: relay2,
        secret: SECRET }),
    ]);
    return { port: turnPort, tlsPort, restPort, restTlsPort, url: null,
      relayPorts: [...span(relay), ...span(relay2)],
      log: () => `${s1.out()}\n${s2.out()}`,
      stop: async () => { await s1.stop(); await s2.stop(); } };
  }
  const httpPort = await freePort();
  let media = await freeUdpPort();
  while ([turnPort, tlsPort, httpPort].includes(media)) media = await freeUdpPort();
  const relay = await freeUdpRange(relaySize,
    { avoid: [...avoid, turnPort, tlsPort, httpPort, media] });
  const srv = await startTribune({ port: httpPort, configBody: tribuneConfig({ port: httpPort,
    media, turnPort, tlsPort, relay, cert, key, allowLoopback, perUser, bandwidth }) });
  for (let i = 0; i < 40 && !srv.stderr().includes('TURN listening'); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!srv.stderr().includes('TURN listening')) {
    await srv.stop();
    throw new Error(`tribune did not log "TURN listening"; stderr:\n${srv.stderr()}`);
  }
  return { port: turnPort, tlsPort, restPort: turnPort, restTlsPort: tlsPort, url: srv.url,
    httpPort, media, relayPorts: span(relay), log: () => srv.stderr(), stop: () => srv.stop() };
}

/** The ports of an inclusive range [lo, hi]. */
const span = ([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

/** Asserts a uclient run relayed `MESSAGES` messages there and back (at most one lost). */
function assertRelayed(r) {
  const why = describeRun(r);
  assert.equal(r.timedOut, false, `uclient timed out\n${why}`);
  assert.equal(r.code, 0, `uclient failed\n${why}`);
  assert.deepEqual(r.errors, [], `uclient saw error responses\n${why}`);
  assert.ok(r.finished, `uclient printed no final statistics\n${why}`);
  assert.equal(r.sent, MESSAGES, `messages sent\n${why}`);
  assert.ok(r.recv >= MESSAGES - 1, `only ${r.recv}/${r.sent} messages came back\n${why}`);
  assert.ok(r.lost <= 1, `lost ${r.lost} packets\n${why}`);
}

/** Asserts a uclient run failed to allocate (all its Allocates challenged: 401). */
function assertNotAllocated(r) {
  const why = describeRun(r);
  assert.equal(r.timedOut, false, `uclient timed out\n${why}`);
  assert.notEqual(r.code, 0, `uclient succeeded\n${why}`);
  assert.ok(r.cannotAllocate, `expected "Cannot complete Allocation"\n${why}`);
  assert.equal(r.sent, 0, `uclient sent data\n${why}`);
}

/** Asserts a uclient run got a 403 on its ChannelBind and relayed nothing. */
function assertForbidden(r) {
  const why = describeRun(r);
  assert.equal(r.timedOut, false, `uclient timed out\n${why}`);
  assert.notEqual(r.code, 0, `uclient succeeded\n${why}`);
  assert.ok(r.errors.some((e) => e.where === 'channel bind' && e.code === 403),
    `expected "channel bind: error 403"\n${why}`);
  assert.equal(r.sent, 0, `uclient sent data\n${why}`);
}

describe('embedded TURN server with coturn\'s clients', { skip: SKIP }, () => {
  let dir;
  let cert;
  let key;
  let A; // allow-list 127.0.0.0/8, TLS, quota 30 per identity
  let B; // no allow-list, quota 2 per identity
  let peer;
  let peerPort;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tribune-turn-'));
    ({ cert, key } = makeSelfSignedCert(dir));
    peerPort = await freeUdpPortPair();
    // uclient's probe allocations over UDP are never released (they expire),
    // so A's quota leaves room for the runs below; B's is tested at 2.
    peer = await startPeer(peerPort);
    const avoid = [peerPort, peerPort + 1];
    A = await startTarget({ dir: path.join(dir, 'a'), cert, key, allowLoopback: true, perUser: 30,
      tls: true, relaySize: 40, avoid });
    B = await startTarget({ dir: path.join(dir, 'b'), cert, key, allowLoopback: false, perUser: 2,
      tls: false, relaySize: 12, avoid: [...avoid, ...A.relayPorts] });
  });

  after(async () => {
    await Promise.all([A?.stop(), B?.stop(), peer?.stop()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('relaying to turnutils_peer on 127.0.0.1', { concurrency: true }, () => {
    it('turnutils_stunclient: Binding without credentials maps 127.0.0.1', async () => {
      const r = await stunclient({ port: A.port });
      assert.equal(r.code, 0, describeRun(r));
      assert.ok(r.mapped, `no reflexive address printed\n${describeRun(r)}`);
      assert.equal(r.mapped.ip, '127.0.0.1', describeRun(r));
      assert.ok(r.mapped.port > 0, describeRun(r));
    });

    it('UDP, static user (-u/-w)', async () => {
      assertRelayed(await uclient({ port: A.port, user: USER, password: PASS, peerPort }));
    });

    it('TCP (-t), static user', async () => {
      assertRelayed(await uclient({ port: A.port, tcp: true, user: USER, password: PASS,
        peerPort }));
    });

    it('TLS (-t -S) on tls_port, static user', async () => {
      const r = await uclient({ port: A.tlsPort, tls: true, user: USER, password: PASS, peerPort });
      assertRelayed(r);
      assert.match(r.out, /tls_connect: client session connected with cipher/, describeRun(r));
    });

    it('UDP, TURN REST secret (-W)', async () => {
      assertRelayed(await uclient({ port: A.restPort, user: 'rest-alice', secret: SECRET,
        peerPort }));
    });

    it('TCP, TURN REST secret (-W)', async () => {
      assertRelayed(await uclient({ port: A.restPort, tcp: true, user: 'rest-bob', secret: SECRET,
        peerPort }));
    });

    it('a wrong password is refused (every Allocate challenged, nothing relayed)', async () => {
      assertNotAllocated(await uclient({ port: A.port, user: USER, password: `${PASS}x`,
        peerPort }));
    });

    it('TURN REST: an expired name is refused; the same identity unexpired relays', async () => {
      const expired = restCredentials(SECRET, 'rest-carol', now() - 60);
      const fresh = restCredentials(SECRET, 'rest-carol', now() + 600);
      const [bad, good] = await Promise.all([
        uclient({ port: A.restPort, user: expired.username, password: expired.password, peerPort }),
        uclient({ port: A.restPort, user: fresh.username, password: fresh.password, peerPort }),
      ]);
      assertNotAllocated(bad);
      assertRelayed(good);
    });

    it('without allow_restricted_peer_cidrs a peer on 127.0.0.1 is refused (403)', async () => {
      assertForbidden(await uclient({ port: B.restPort, user: 'rest-dave', secret: SECRET,
        peerPort }));
    });

    it('tribune\'s HTTP and TURN ports are refused even when allow-listed (403)',
      { skip: TRIBUNE_ONLY }, async () => {
        // uclient binds its first channel to peer port + 1: that is the own port here.
        const runs = await Promise.all([A.httpPort, A.port, A.tlsPort].map((own) =>
          uclient({ port: A.port, user: 'own', secret: SECRET, peerPort: own - 1 })));
        for (const r of runs) assertForbidden(r);
      });
  });

  describe('protocol details (lib/turn.mjs STUN client over UDP)', () => {
    const clients = [];
    after(async () => {
      for (const c of clients) {
        await c.release();
        c.close();
      }
    });
    const client = async (target, creds) => {
      const c = await new TurnUdpClient({ port: target, ...creds }).open();
      clients.push(c);
      return c;
    };

    it('401 carries REALM and NONCE; a forged NONCE gets 438 and a fresh one, which works',
      async () => {
        const c = await client(A.port, { username: USER, password: PASS });
        let r = await c.allocate([], { challenge: false });
        assert.equal(r.error, 401, `unauthenticated Allocate: ${r.cls} ${r.error} ${r.reason}`);
        assert.equal(r.realm, REALM);
        assert.ok(r.nonce?.length > 0, 'no NONCE in the 401');
        c.realm = r.realm;
        r = await c.allocate([], { challenge: false, nonce: 'forged-nonce-0123456789' });
        assert.equal(r.error, 438, `forged nonce: ${r.cls} ${r.error} ${r.reason}`);
        assert.ok(r.nonce && r.nonce !== 'forged-nonce-0123456789', 'no fresh NONCE in the 438');
        r = await c.allocate([], { challenge: false });
        assert.equal(r.cls, 'success', `with the fresh nonce: ${r.error} ${r.reason}`);
        assert.equal(r.relayed?.ip, '127.0.0.1');
      });

    it('EVEN-PORT (uclient -c sends it in about half of its Allocates) gets an even port',
      async () => {
        const creds = restCredentials(SECRET, 'even', now() + 600);
        for (const rbit of [0x00, 0x80]) {
          const c = await client(A.restPort, creds);
          const r = await c.allocate([[ATTR.EVEN_PORT, Buffer.from([rbit])]]);
          assert.equal(r.cls, 'success', `EVEN-PORT ${rbit}: ${r.error} ${r.reason}`);
          assert.equal(r.relayed.port % 2, 0, `odd relayed port ${r.relayed.port}`);
        }
      });

    it('the per-user quota (2 here) answers 486 to the third allocation', async () => {
      // tribune counts TURN REST names by identity; coturn by the whole name.
      const names = COTURN ? [1, 1, 1] : [1, 2, 3];
      const results = [];
      for (const n of names) {
        const c = await client(B.restPort, restCredentials(SECRET, 'quota', now() + 600 + n));
        results.push(await c.allocate());
      }
      assert.deepEqual(results.map((r) => r.cls), ['success', 'success', 'error'],
        results.map((r) => `${r.cls} ${r.error} ${r.reason}`).join('; '));
      assert.equal(results[2].error, 486, results[2].reason);
    });

    it('without an allow-list, the media port on 127.0.0.1 is allowed and others are not',
      { skip: TRIBUNE_ONLY }, async () => {
        const c = await client(B.port, restCredentials(SECRET, 'media', now() + 600));
        let r = await c.allocate();
        assert.equal(r.cls, 'success', `${r.error} ${r.reason}`);
        r = await c.channelBind(0x4001, '127.0.0.1', B.media);
        assert.equal(r.cls, 'success', `ChannelBind to the media port: ${r.error} ${r.reason}`);
        r = await c.channelBind(0x4002, '127.0.0.1', peerPort);
        assert.equal(r.error, 403, `ChannelBind to 127.0.0.1:${peerPort}: ${r.cls} ${r.error}`);
        r = await c.channelBind(0x4003, '127.0.0.1', B.httpPort);
        assert.equal(r.error, 403, `ChannelBind to the HTTP port: ${r.cls} ${r.error}`);
      });
  });

  it('a flood of unauthenticated Allocates: each gets a 401, none an allocation or a log line',
    { skip: TRIBUNE_ONLY }, async () => {
      const FLOOD = 3000;
      const metric = async (name, labels = {}) =>
        metricSum((await scrapeMetrics(A.url)).samples, name, labels);
      await new Promise((r) => setTimeout(r, 1100)); // a fresh stats snapshot
      const allocs0 = await metric('tribune_turn_allocations_total');
      const e401 = await metric('tribune_turn_errors_total', { code: 401 });
      const lines0 = A.log().split('\n').length;
      const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
      sock.bind(0, '127.0.0.1');
      await once(sock, 'listening');
      let answers = 0;
      sock.on('message', (m) => { if (decodeMessage(m)?.error === 401) answers++; });
      const transport = Buffer.from([17, 0, 0, 0]); // REQUESTED-TRANSPORT UDP
      for (let i = 0; i < FLOOD; i++) {
        sock.send(encodeRequest(METHOD.ALLOCATE, [[ATTR.REQUESTED_TRANSPORT, transport]]),
          A.port, '127.0.0.1');
        if (i % 100 === 99) await new Promise((r) => setTimeout(r, 10)); // a flood, not an overflow
      }
      await new Promise((r) => setTimeout(r, 1300));
      sock.close();
      assert.ok(answers >= FLOOD * 0.9, `only ${answers} of ${FLOOD} got a 401`);
      assert.equal(await metric('tribune_turn_allocations_total'), allocs0);
      assert.ok(await metric('tribune_turn_errors_total', { code: 401 }) >= e401 + FLOOD * 0.9);
      const grew = A.log().split('\n').length - lines0;
      assert.ok(grew < 5, `the flood wrote ${grew} log lines`);
    });

  it('turn.bandwidth_limit: an allocation sending above it loses the excess, counted',
    { skip: TRIBUNE_ONLY }, async () => {
      // 64 kbit/s = 8 KB/s per allocation (a 250 ms bucket of 16 KiB): 300
      // messages of 500 bytes, 1 ms apart, both ways, are far above it
      const C = await startTarget({ dir: path.join(dir, 'c'), cert, key, allowLoopback: true,
        perUser: 30, tls: false, relaySize: 4, avoid: [peerPort, peerPort + 1, ...A.relayPorts,
          ...B.relayPorts], bandwidth: 64000 });
      try {
        const r = await uclient({ port: C.port, user: USER, password: PASS, peerPort,
          messages: 300, intervalMs: 1, length: 500 });
        const samples = (await new Promise((res) => setTimeout(res, 1200))
          .then(() => scrapeMetrics(C.url))).samples;
        const dropped = metricSum(samples, 'tribune_turn_dropped_total', { reason: 'bandwidth' });
        assert.ok(dropped > 50, `bandwidth drops: ${dropped}\n${describeRun(r)}`);
        assert.ok(r.sent >= 290 && r.recv < r.sent * 0.8,
          `echoed ${r.recv} of ${r.sent}\n${describeRun(r)}`);
        const relayed = metricSum(samples, 'tribune_turn_bytes_total', { direction: 'to_peer' });
        assert.ok(relayed < 300 * 500, `relayed ${relayed} bytes to the peer`);
      } finally {
        await C.stop();
      }
    });

  it('/metrics counts relayed packets and error responses', { skip: TRIBUNE_ONLY }, async () => {
    // The engine refreshes its stats snapshot once a second: poll up to 3 s.
    const show = (s) => [...s].filter(([k]) => k.startsWith('tribune_turn_'))
      .map(([k, v]) => `${k} ${v}`).join('\n');
    const check = async () => {
      const a = (await scrapeMetrics(A.url)).samples;
      const b = (await scrapeMetrics(B.url)).samples;
      // 6 relaying uclient runs of MESSAGES each went through A.
      for (const direction of ['to_peer', 'to_client']) {
        const n = metricSum(a, 'tribune_turn_packets_total', { direction });
        assert.ok(n >= 6 * (MESSAGES - 1), `A: ${direction} packets ${n}\n${show(a)}`);
      }
      assert.ok(metricSum(a, 'tribune_turn_errors_total', { code: 401 }) >= 8, `A:\n${show(a)}`);
      assert.ok(metricSum(a, 'tribune_turn_errors_total', { code: 403 }) >= 3, `A:\n${show(a)}`);
      assert.ok(metricSum(a, 'tribune_turn_errors_total', { code: 438 }) >= 1, `A:\n${show(a)}`);
      assert.ok(metricSum(b, 'tribune_turn_errors_total', { code: 403 }) >= 3, `B:\n${show(b)}`);
      assert.ok(metricSum(b, 'tribune_turn_errors_total', { code: 486 }) >= 1, `B:\n${show(b)}`);
      assert.equal(metricSum(b, 'tribune_turn_packets_total', { direction: 'to_peer' }), 0,
        `B:\n${show(b)}`);
    };
    for (let i = 0; ; i++) {
      try {
        await check();
        return;
      } catch (e) {
        if (i >= 12) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  });
});
