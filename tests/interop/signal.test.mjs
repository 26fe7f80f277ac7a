// signal.test.mjs — tribune's LiveKit signaling on /rtc/v1 and its media
// port, driven the way livekit-client drives them: the real join request of
// livekit-client 2.23 (tests/fixtures/signal/join_request.b64, Chromium's
// publisher offer inside), SignalRequest/SignalResponse from @livekit/protocol
// (binary frames, and proto3 JSON text frames), RoomServiceClient from
// livekit-server-sdk, and STUN connectivity checks built here (RFC 5389 /
// RFC 8445) and sent with node:dgram. Everything stays on 127.0.0.1.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
// Installed as a dependency of livekit-server-sdk (pinned by package-lock.json).
import { AddTrackRequest, DisconnectReason, JoinRequest, LeaveRequest, LeaveRequest_Action,
  ParticipantInfo_State, SignalRequest, SignalResponse, TrackType,
  WrappedJoinRequest, WrappedJoinRequest_Compression } from '@livekit/protocol';
import { freeUdpPort, REPO_ROOT, startTribune } from './lib/server.mjs';
import { wsConnect } from './lib/ws.mjs';

const WRONG_SECRET = 'not_the_right_secret_0123456789_abcdefgh';
const SIGNAL_LIMIT = 4096; // limit.signal_message_size_limit of the test server
const WAIT_MS = 2000;      // bound of every single wait for a message

// The join_request query value exactly as livekit-client 2.23 sends it, and
// what is inside (the publisher offer: its id and ICE ufrag).
const FIXTURES = path.join(REPO_ROOT, 'tests', 'fixtures', 'signal');
const JOIN_REQUEST_B64 = fs.readFileSync(path.join(FIXTURES, 'join_request.b64'), 'utf8').trim();
const FIXTURE_JOIN = (() => {
  const wrapped = WrappedJoinRequest.fromBinary(Buffer.from(JOIN_REQUEST_B64, 'base64url'));
  return JoinRequest.fromBinary(zlib.gunzipSync(wrapped.joinRequest));
})();
const OFFER_UFRAG = /^a=ice-ufrag:(\S+)/m.exec(FIXTURE_JOIN.publisherOffer.sdp)[1];

let udpPort;
let srv;
let rs;
const sockets = new Set();

/** The test config: loopback, one key, the media port on udp, a 4 KiB signal limit. */
function configBody({ port, key, secret }, { udp = udpPort, extra = '' } = {}) {
  return `port: ${port}\nbind_addresses: [127.0.0.1]\nkeys:\n  ${key}: ${secret}\n` +
    `rtc:\n  udp_port: ${udp}\n  node_ip: 127.0.0.1\n  use_external_ip: false\n` +
    `limit:\n  signal_message_size_limit: ${SIGNAL_LIMIT}\n${extra}`;
}

before(async () => {
  udpPort = await freeUdpPort();
  srv = await startTribune({ configBody: (o) => configBody(o) });
  rs = new RoomServiceClient(srv.url, srv.key, srv.secret);
});

async function closeAll() {
  await Promise.all([...sockets].map((ws) => ws.close()));
  sockets.clear();
}
afterEach(closeAll);
after(async () => {
  await closeAll();
  await srv?.stop();
});

// ---- helpers ------------------------------------------------------------------

async function token(identity, grant, { server = srv, secret = server.secret, ...opts } = {}) {
  const at = new AccessToken(server.key, secret, { identity, ...opts });
  at.addGrant(grant);
  return at.toJwt();
}

/** The /rtc/v1 (or pathname) URL; null for accessToken or joinRequest leaves it out. */
function rtcUrl({ server = srv, accessToken, joinRequest = JOIN_REQUEST_B64,
  pathname = '/rtc/v1' }) {
  const q = [];
  if (accessToken != null) q.push(`access_token=${encodeURIComponent(accessToken)}`);
  if (joinRequest != null) q.push(`join_request=${encodeURIComponent(joinRequest)}`);
  return `ws://127.0.0.1:${server.port}${pathname}${q.length ? `?${q.join('&')}` : ''}`;
}

/** Opens the WebSocket; the socket (if any) is closed after the test. */
async function open(url) {
  const r = await wsConnect(url, { timeoutMs: WAIT_MS });
  if (r.ws) sockets.add(r.ws);
  return r;
}

/** The SignalResponse in a frame (binary protobuf or proto3 JSON), or null. */
function decode(msg) {
  if (msg.signal === undefined) {
    try {
      msg.signal = msg.text
        ? SignalResponse.fromJsonString(msg.data.toString('utf8'), { ignoreUnknownFields: true })
        : SignalResponse.fromBinary(msg.data);
    } catch {
      msg.signal = null;
    }
  }
  return msg.signal;
}

/** The next `kase` message (SignalResponse oneof case) matching pred, within WAIT_MS. */
async function nextSignal(ws, kase, pred = () => true, timeoutMs = WAIT_MS) {
  const wanted = (m) => decode(m)?.message.case === kase && pred(decode(m).message.value);
  const msg = await ws.next(wanted, timeoutMs, `a '${kase}' message`);
  return decode(msg).message.value;
}

function send(ws, kase, value, { text = false } = {}) {
  const req = new SignalRequest({ message: { case: kase, value } });
  if (text) ws.send(req.toJsonString(), { text: true });
  else ws.send(req.toBinary());
}

/** Joins `room` as `identity` with the fixture's join request; awaits join and answer. */
async function join(identity, room, { grant = {}, server = srv } = {}) {
  const accessToken = await token(identity, { roomJoin: true, room, ...grant }, { server });
  const r = await open(rtcUrl({ server, accessToken }));
  assert.equal(r.status, 101, `join ${identity}@${room}: HTTP ${r.status} ${r.body ?? ''}`);
  const joinResponse = await nextSignal(r.ws, 'join');
  const answer = await nextSignal(r.ws, 'answer');
  return { ws: r.ws, join: joinResponse, answer, identity, room };
}

/** Sends a binary ping and awaits the pong. */
async function assertPingPong(ws, label = 'session') {
  send(ws, 'ping', BigInt(Date.now()));
  const pong = await nextSignal(ws, 'pong').catch((e) => assert.fail(`${label}: ${e.message}`));
  assert.equal(typeof pong, 'bigint');
}

async function leaveRoom(ws) {
  send(ws, 'leave', new LeaveRequest({ reason: DisconnectReason.CLIENT_INITIATED,
    action: LeaveRequest_Action.DISCONNECT }));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The value of one sample of /metrics (NaN when absent). */
async function metric(name, labels = '') {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  const key = `${name}${labels}`;
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  return line ? Number(line.slice(key.length + 1)) : NaN;
}

/** Polls /metrics until the sample reaches `atLeast` (2 s at most); returns the last value. */
async function metricReaching(name, labels, atLeast) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await metric(name, labels);
    if (v >= atLeast || Date.now() > deadline) return v;
    await sleep(20);
  }
}

function participantNamed(update, identity) {
  return update.participants.find((p) => p.identity === identity);
}

// ---- 1. join ------------------------------------------------------------------

describe('/rtc/v1 join', () => {
  it('answers the SDK join request with join (JoinResponse) first, then the answer', async () => {
    const accessToken = await token('alice', { roomJoin: true, room: 'join-room' });
    const r = await open(rtcUrl({ accessToken }));
    assert.equal(r.status, 101, r.body);
    const first = decode(await r.ws.next(() => true, WAIT_MS, 'the first message'));
    assert.equal(first?.message.case, 'join');
    const jr = first.message.value;
    assert.match(jr.participant.sid, /^PA_\w+$/);
    assert.equal(jr.participant.identity, 'alice');
    assert.match(jr.room.sid, /^RM_\w+$/);
    assert.equal(jr.room.name, 'join-room');
    assert.ok(jr.serverInfo?.version, 'serverInfo.version is empty');
    assert.equal(jr.pingInterval, 5);
    assert.equal(jr.pingTimeout, 15);
    assert.equal(jr.otherParticipants.length, 0);

    const second = decode(await r.ws.next(() => true, WAIT_MS, 'the second message'));
    assert.equal(second?.message.case, 'answer');
    const answer = second.message.value;
    assert.equal(FIXTURE_JOIN.publisherOffer.id, 1);
    assert.equal(answer.id, FIXTURE_JOIN.publisherOffer.id);
    assert.equal(answer.type, 'answer');
    assert.match(answer.sdp, /^a=ice-lite\r$/m);
    assert.match(answer.sdp, /^a=setup:active\r$/m);
    assert.match(answer.sdp, new RegExp(`^a=candidate:\\S+ 1 udp \\d+ 127\\.0\\.0\\.1 ${udpPort} ` +
      'typ host\\r$', 'mi'));
    assert.match(answer.sdp, /^a=ice-ufrag:\S{4,}\r$/m);
    assert.match(answer.sdp, /^a=ice-pwd:\S{22,}\r$/m);
  });
});

// ---- 2. ping ------------------------------------------------------------------

describe('ping', () => {
  it('ping → pong, pingReq → pongResp, in binary frames', async () => {
    const a = await join('pinger', 'ping-room');
    const before = Date.now();
    send(a.ws, 'ping', BigInt(before));
    const pong = await nextSignal(a.ws, 'pong');
    assert.equal(typeof pong, 'bigint');
    assert.ok(Math.abs(Number(pong) - before) < 60000, `pong ${pong} is not a time in ms`);

    send(a.ws, 'pingReq', { timestamp: 1795311301053n, rtt: 3n });
    const pr = await nextSignal(a.ws, 'pongResp');
    assert.equal(pr.lastPingTimestamp, 1795311301053n);
    assert.ok(pr.timestamp > 0n);
  });

  it('a JSON text frame is answered with a JSON text frame', async () => {
    const a = await join('pinger-json', 'ping-room');
    send(a.ws, 'ping', 1795311301053n, { text: true });
    const msg = await a.ws.next(() => true, WAIT_MS, 'the pong');
    assert.equal(msg.text, true, 'pong came in a binary frame');
    const json = JSON.parse(msg.data.toString('utf8'));
    assert.ok('pong' in json, msg.data.toString());
    assert.match(String(json.pong), /^\d+$/);

    send(a.ws, 'pingReq', { timestamp: 1795311301053n, rtt: 3n }, { text: true });
    const msg2 = await a.ws.next(() => true, WAIT_MS, 'the pongResp');
    assert.equal(msg2.text, true);
    const json2 = JSON.parse(msg2.data.toString('utf8'));
    assert.equal(String(json2.pongResp?.lastPingTimestamp), '1795311301053', msg2.data.toString());

    // back to binary: the answer follows the client's frame type
    send(a.ws, 'ping', 7n);
    const msg3 = await a.ws.next(() => true, WAIT_MS, 'the binary pong');
    assert.equal(msg3.text, false);
    assert.equal(decode(msg3)?.message.case, 'pong');
  });
});

// ---- 3. refusals ----------------------------------------------------------------

describe('refusals at the upgrade', () => {
  /** Opens url, expects an HTTP status (no 101), then checks a good join works. */
  async function assertRefused(url, status, bodyRe) {
    const r = await open(url);
    assert.equal(r.status, status, `expected ${status}, got ${r.status} ${r.body ?? ''}`);
    assert.equal(r.ws, undefined);
    if (bodyRe) assert.match(r.body, bodyRe);
    const ok = await join(`after-${status}-${randomBytes(3).toString('hex')}`, 'refusal-ok-room');
    await assertPingPong(ok.ws);
    await ok.ws.close();
    return r;
  }

  it('a token signed with the wrong secret → 401', async () => {
    const t = await token('mallory', { roomJoin: true, room: 'r' }, { secret: WRONG_SECRET });
    await assertRefused(rtcUrl({ accessToken: t }), 401);
  });

  it('no access token → 401', async () => {
    await assertRefused(rtcUrl({}), 401);
  });

  it('a token without roomJoin → 401', async () => {
    const t = await token('lister', { roomList: true, room: 'r' });
    await assertRefused(rtcUrl({ accessToken: t }), 401, /permission/i);
  });

  it('no join_request → 400', async () => {
    const t = await token('bob', { roomJoin: true, room: 'r' });
    await assertRefused(rtcUrl({ accessToken: t, joinRequest: null }), 400, /join_request/);
  });

  it('a garbage join_request → 400 (not base64, no WrappedJoinRequest, not gzip)', async () => {
    const t = await token('bob', { roomJoin: true, room: 'r' });
    await assertRefused(rtcUrl({ accessToken: t, joinRequest: '%%%not base64!!!' }), 400,
      /base64/);
    const notProtobuf = Buffer.from('\x0a\xff\xff\xff\x0fgarbage that is no protobuf');
    await assertRefused(rtcUrl({ accessToken: t, joinRequest: notProtobuf.toString('base64url') }),
      400, /unmarshal/);
    // a WrappedJoinRequest claiming gzip whose payload is not gzip
    const wrapped = new WrappedJoinRequest({ compression: WrappedJoinRequest_Compression.GZIP,
      joinRequest: randomBytes(32) });
    await assertRefused(rtcUrl({ accessToken: t,
      joinRequest: Buffer.from(wrapped.toBinary()).toString('base64url') }), 400, /decompress/);
  });

  it('a room that does not exist with room.auto_create: false → 404', async () => {
    const udp = await freeUdpPort();
    const noAuto = await startTribune({ configBody: (o) =>
      configBody(o, { udp, extra: 'room:\n  auto_create: false\n' }) });
    try {
      const t = await token('carol', { roomJoin: true, room: 'nowhere' }, { server: noAuto });
      const r = await open(rtcUrl({ server: noAuto, accessToken: t }));
      assert.equal(r.status, 404, r.body);
      assert.match(r.body, /does not exist/);
      // once created through RoomService, the same join is accepted
      await new RoomServiceClient(noAuto.url, noAuto.key, noAuto.secret)
        .createRoom({ name: 'nowhere' });
      const ok = await join('carol', 'nowhere', { server: noAuto });
      assert.equal(ok.join.room.name, 'nowhere');
      await assertPingPong(ok.ws);
      await ok.ws.close();
    } finally {
      await noAuto.stop();
    }
  });

  it('a full room (maxParticipants 1) refuses the second participant with 403', async () => {
    await rs.createRoom({ name: 'full-room', maxParticipants: 1 });
    const first = await join('first', 'full-room');
    const t = await token('second', { roomJoin: true, room: 'full-room' });
    await assertRefused(rtcUrl({ accessToken: t }), 403, /max participants/);
    await assertPingPong(first.ws, 'the participant already in the full room');
    const list = await rs.listParticipants('full-room');
    assert.deepEqual(list.map((p) => p.identity), ['first']);
  });

  it('/rtc (two peer connections): JoinResponse, then our offer of the subscriber PC', async () => {
    const t = await token('old-sdk', { roomJoin: true, room: 'r-v0' });
    const r = await open(rtcUrl({ accessToken: t, joinRequest: null, pathname: '/rtc' }));
    assert.equal(r.status, 101, r.body);
    const j = await nextSignal(r.ws, 'join');
    assert.equal(j.subscriberPrimary, false);
    const offer = await nextSignal(r.ws, 'offer');
    assert.equal(offer.type, 'offer');
    assert.ok(offer.id > 0);
    assert.match(offer.sdp, /^a=ice-lite/m);
    assert.match(offer.sdp, /^m=application 9 UDP\/DTLS\/SCTP webrtc-datachannel/m);
    assert.match(offer.sdp, /^a=setup:actpass/m);
    await r.ws.close();
  });

  it('/rtc with reconnect=1 for a session that does not exist → 404', async () => {
    const t = await token('ghost', { roomJoin: true, room: 'r-v0' });
    const url = `${rtcUrl({ accessToken: t, joinRequest: null, pathname: '/rtc' })}` +
      '&reconnect=1&sid=PA_nothere';
    await assertRefused(url, 404);
  });
});

// ---- 4, 5. participants ------------------------------------------------------------

describe('participants', () => {
  it('a duplicate identity replaces the first session (leave DUPLICATE_IDENTITY)', async () => {
    const first = await join('dup', 'dup-room');
    const second = await join('dup', 'dup-room');
    const leave = await nextSignal(first.ws, 'leave');
    assert.equal(leave.reason, DisconnectReason.DUPLICATE_IDENTITY);
    await first.ws.waitClosed(WAIT_MS);
    assert.equal(second.join.otherParticipants.length, 0);
    assert.notEqual(second.join.participant.sid, first.join.participant.sid);
    await assertPingPong(second.ws, 'the second session');
    const list = await rs.listParticipants('dup-room');
    assert.equal(list.length, 1);
    assert.equal(list[0].identity, 'dup');
    assert.equal(list[0].sid, second.join.participant.sid);
  });

  it('a second participant is announced to the first, and its leave too', async () => {
    const a = await join('ann', 'pair-room');
    const b = await join('ben', 'pair-room');
    const up = await nextSignal(a.ws, 'update', (u) => participantNamed(u, 'ben'));
    assert.equal(participantNamed(up, 'ben').sid, b.join.participant.sid);
    const others = b.join.otherParticipants;
    assert.deepEqual(others.map((p) => [p.identity, p.sid]), [['ann', a.join.participant.sid]]);

    await leaveRoom(b.ws);
    const gone = await nextSignal(a.ws, 'update', (u) =>
      participantNamed(u, 'ben')?.state === ParticipantInfo_State.DISCONNECTED);
    assert.equal(participantNamed(gone, 'ben').sid, b.join.participant.sid);
    await b.ws.waitClosed(WAIT_MS);
    const list = await rs.listParticipants('pair-room');
    assert.deepEqual(list.map((p) => p.identity), ['ann']);
  });

  it('addTrack → trackPublished echoing the cid, with a TR_ sid', async () => {
    const a = await join('speaker', 'track-room');
    send(a.ws, 'addTrack', new AddTrackRequest({ cid: 'c1', name: 'microphone',
      type: TrackType.AUDIO }));
    const tp = await nextSignal(a.ws, 'trackPublished');
    assert.equal(tp.cid, 'c1');
    assert.match(tp.track.sid, /^TR_\w+$/);
    assert.equal(tp.track.type, TrackType.AUDIO);
    assert.equal(tp.track.name, 'microphone');
  });
});

// ---- 7. malformed input ------------------------------------------------------------

describe('malformed signaling input', () => {
  const UNDECODABLE = ['tribune_signal_messages_dropped_total', '{reason="undecodable"}'];
  const OVERSIZE = ['tribune_signal_messages_dropped_total', '{reason="oversize"}'];

  it('undecodable frames are dropped and counted; the session and others carry on', async () => {
    const a = await join('fuzzer', 'fuzz-room');
    const b = await join('bystander', 'fuzz-room');
    const before = await metric(...UNDECODABLE);
    assert.ok(Number.isFinite(before), 'undecodable counter missing from /metrics');

    const valid = new SignalRequest({ message: { case: 'addTrack',
      value: new AddTrackRequest({ cid: 'c-trunc', name: 'microphone' }) } }).toBinary();
    const bad = [
      ['a truncated protobuf frame', Buffer.from(valid.subarray(0, valid.length - 5)), false],
      ['random bytes', Buffer.concat([Buffer.from([0x07]), randomBytes(63)]), false],
      ['a text frame that is not JSON', 'this is {not json', true],
    ];
    for (const [what, data, text] of bad) {
      a.ws.send(data, { text });
      await assertPingPong(a.ws, `the sender after ${what}`);
      await assertPingPong(b.ws, `the other participant after ${what}`);
    }
    assert.equal(await metricReaching(...UNDECODABLE, before + 3), before + 3);
    // nothing was published from the truncated addTrack, and nobody was told to leave
    assert.ok(!a.ws.queue.some((m) => decode(m)?.message.case === 'trackPublished'));
    assert.ok(!b.ws.queue.some((m) => decode(m)?.message.case === 'leave'));
    assert.ok(!a.ws.isClosed && !b.ws.isClosed);
  });

  it('a frame over limit.signal_message_size_limit closes that socket with 1009', async () => {
    const a = await join('big-talker', 'oversize-room');
    const b = await join('listener', 'oversize-room');
    const before = await metric(...OVERSIZE);
    assert.ok(Number.isFinite(before), 'oversize counter missing from /metrics');
    a.ws.send(Buffer.alloc(SIGNAL_LIMIT + 1000, 0x41));
    const { code, reason } = await a.ws.waitClosed(WAIT_MS);
    assert.equal(await metricReaching(...OVERSIZE, before + 1), before + 1);
    await assertPingPong(b.ws, 'the other participant');
    const gone = await nextSignal(b.ws, 'update', (u) =>
      participantNamed(u, 'big-talker')?.state === ParticipantInfo_State.DISCONNECTED);
    assert.ok(gone);
    const list = await rs.listParticipants('oversize-room');
    assert.deepEqual(list.map((p) => p.identity), ['listener']);
    // RFC 6455 §7.4.1: 1009 = message too big, sent in a close frame
    // (1006 means the TCP connection ended without one)
    assert.equal(code, 1009, `closed with ${code} ${reason}`);
  });
});

// ---- 8. the media port ---------------------------------------------------------------

const STUN_MAGIC = 0x2112a442;
const STUN_BINDING_REQUEST = 0x0001;
const STUN_BINDING_SUCCESS = 0x0101;
const STUN_BINDING_ERROR = 0x0111;
const ATTR = { USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, ERROR_CODE: 0x0009,
  XOR_MAPPED_ADDRESS: 0x0020, PRIORITY: 0x0024, USE_CANDIDATE: 0x0025,
  FINGERPRINT: 0x8028, ICE_CONTROLLING: 0x802a };

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO-HDLC, as zlib and STUN FINGERPRINT use it). */
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function stunAttr(type, value) {
  const pad = (4 - (value.length % 4)) % 4;
  const b = Buffer.alloc(4 + value.length + pad);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(value.length, 2);
  value.copy(b, 4);
  return b;
}

function stunHeader(type, bodyLen, txid) {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(bodyLen, 2);
  h.writeUInt32BE(STUN_MAGIC, 4);
  txid.copy(h, 8);
  return h;
}

/**
 * An ICE connectivity check as a controlling browser sends it: USERNAME,
 * PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY (HMAC-SHA1 keyed
 * with `key`, RFC 5389 §15.4), FINGERPRINT (§15.5).
 */
function stunCheck({ username, key, txid }) {
  const prio = Buffer.alloc(4);
  prio.writeUInt32BE(0x6e7f1eff);
  let body = Buffer.concat([
    stunAttr(ATTR.USERNAME, Buffer.from(username)),
    stunAttr(ATTR.PRIORITY, prio),
    stunAttr(ATTR.ICE_CONTROLLING, randomBytes(8)),
    stunAttr(ATTR.USE_CANDIDATE, Buffer.alloc(0)),
  ]);
  const mi = createHmac('sha1', key)
    .update(Buffer.concat([stunHeader(STUN_BINDING_REQUEST, body.length + 24, txid), body]))
    .digest();
  body = Buffer.concat([body, stunAttr(ATTR.MESSAGE_INTEGRITY, mi)]);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(Buffer.concat([stunHeader(STUN_BINDING_REQUEST, body.length + 8, txid),
    body])) ^ 0x5354554e) >>> 0);
  body = Buffer.concat([body, stunAttr(ATTR.FINGERPRINT, fp)]);
  return Buffer.concat([stunHeader(STUN_BINDING_REQUEST, body.length, txid), body]);
}

/** {type, txid, attrs: [{type, value, offset}]} of a STUN message, or null. */
function parseStun(buf) {
  if (buf.length < 20 || buf[0] > 3 || buf.readUInt32BE(4) !== STUN_MAGIC) return null;
  const len = buf.readUInt16BE(2);
  if (20 + len !== buf.length) return null;
  const attrs = [];
  for (let off = 20; off + 4 <= buf.length;) {
    const type = buf.readUInt16BE(off);
    const alen = buf.readUInt16BE(off + 2);
    attrs.push({ type, value: buf.subarray(off + 4, off + 4 + alen), offset: off });
    off += 4 + alen + ((4 - (alen % 4)) % 4);
  }
  return { type: buf.readUInt16BE(0), txid: buf.subarray(8, 20), attrs,
    attr: (t) => attrs.find((a) => a.type === t) };
}

/** Checks a reply's FINGERPRINT, and MESSAGE-INTEGRITY when key is given. */
function assertStunIntegrity(buf, msg, key) {
  const fp = msg.attr(ATTR.FINGERPRINT);
  assert.ok(fp, 'reply without FINGERPRINT');
  assert.equal(fp.value.readUInt32BE(0), (crc32(buf.subarray(0, fp.offset)) ^ 0x5354554e) >>> 0,
    'FINGERPRINT mismatch');
  if (!key) return;
  const mi = msg.attr(ATTR.MESSAGE_INTEGRITY);
  assert.ok(mi, 'reply without MESSAGE-INTEGRITY');
  const head = Buffer.from(buf.subarray(0, 20));
  head.writeUInt16BE(mi.offset - 20 + 24, 2);
  const want = createHmac('sha1', key).update(Buffer.concat([head, buf.subarray(20, mi.offset)]))
    .digest();
  assert.deepEqual(Buffer.from(mi.value), want, 'MESSAGE-INTEGRITY mismatch');
}

/** XOR-MAPPED-ADDRESS (IPv4) as {address, port}. */
function xorMappedAddress(value) {
  assert.equal(value[1], 0x01, 'not an IPv4 XOR-MAPPED-ADDRESS');
  const port = value.readUInt16BE(2) ^ (STUN_MAGIC >>> 16);
  const ip = (value.readUInt32BE(4) ^ STUN_MAGIC) >>> 0;
  return { address: [24, 16, 8, 0].map((s) => (ip >>> s) & 0xff).join('.'), port };
}

/** Sends req to the media port and awaits the STUN reply carrying txid. */
function stunExchange(sock, req, txid, timeoutMs = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const onMessage = (buf) => {
      const msg = parseStun(buf); // the server's DTLS ClientHello may arrive too
      if (!msg || !msg.txid.equals(txid)) return;
      clearTimeout(timer);
      sock.off('message', onMessage);
      resolve({ buf, msg });
    };
    const timer = setTimeout(() => {
      sock.off('message', onMessage);
      reject(new Error(`no STUN reply within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('message', onMessage);
    sock.send(req, udpPort, '127.0.0.1');
  });
}

async function udpSocket() {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

describe('media port (UDP) negatives and a connectivity check', () => {
  const DROPPED = 'tribune_media_dropped_total';
  const udp = [];
  after(() => { for (const s of udp) s.close(); });

  it('a garbage datagram from an unknown address is counted as unknown_source', async () => {
    const s = await udpSocket();
    udp.push(s);
    const before = await metric(DROPPED, '{reason="unknown_source"}');
    const malformed = await metric(DROPPED, '{reason="malformed"}');
    assert.ok(Number.isFinite(before), 'unknown_source counter missing from /metrics');
    s.send(Buffer.from('this is no STUN, DTLS nor RTP'), udpPort, '127.0.0.1');
    assert.equal(await metricReaching(DROPPED, '{reason="unknown_source"}', before + 1),
      before + 1);
    assert.equal(await metric(DROPPED, '{reason="malformed"}'), malformed);
  });

  it('a check with an unknown ufrag is dropped as unknown_source', async () => {
    const s = await udpSocket();
    udp.push(s);
    const before = await metric(DROPPED, '{reason="unknown_source"}');
    const txid = randomBytes(12);
    s.send(stunCheck({ username: `nosuchufrag:${OFFER_UFRAG}`, key: 'x'.repeat(22), txid }),
      udpPort, '127.0.0.1');
    assert.equal(await metricReaching(DROPPED, '{reason="unknown_source"}', before + 1),
      before + 1);
  });

  it('a check with a wrong password → 401 error response, counted as stun_bad_auth', async () => {
    const p = await join('stun-peer', 'stun-room');
    const ufrag = /^a=ice-ufrag:(\S+)\r$/m.exec(p.answer.sdp)[1];
    const pwd = /^a=ice-pwd:(\S+)\r$/m.exec(p.answer.sdp)[1];
    const s = await udpSocket();
    udp.push(s);
    const before = await metric(DROPPED, '{reason="stun_bad_auth"}');
    assert.ok(Number.isFinite(before), 'stun_bad_auth counter missing from /metrics');

    const txid = randomBytes(12);
    const wrongKey = `${pwd.slice(1)}x`;
    const { buf, msg } = await stunExchange(s,
      stunCheck({ username: `${ufrag}:${OFFER_UFRAG}`, key: wrongKey, txid }), txid);
    assert.equal(msg.type, STUN_BINDING_ERROR, `reply type 0x${msg.type.toString(16)}`);
    const ec = msg.attr(ATTR.ERROR_CODE);
    assert.ok(ec, 'error response without ERROR-CODE');
    assert.equal((ec.value[2] & 0x07) * 100 + ec.value[3], 401);
    assertStunIntegrity(buf, msg);
    assert.equal(msg.attr(ATTR.XOR_MAPPED_ADDRESS), undefined);
    assert.equal(await metricReaching(DROPPED, '{reason="stun_bad_auth"}', before + 1),
      before + 1);
  });

  it('a check with the right password → success with our own XOR-MAPPED-ADDRESS', async () => {
    const p = await join('stun-peer-ok', 'stun-room');
    const ufrag = /^a=ice-ufrag:(\S+)\r$/m.exec(p.answer.sdp)[1];
    const pwd = /^a=ice-pwd:(\S+)\r$/m.exec(p.answer.sdp)[1];
    const s = await udpSocket();
    udp.push(s);
    const badAuth = await metric(DROPPED, '{reason="stun_bad_auth"}');
    const txid = randomBytes(12);
    const { buf, msg } = await stunExchange(s,
      stunCheck({ username: `${ufrag}:${OFFER_UFRAG}`, key: pwd, txid }), txid);
    assert.equal(msg.type, STUN_BINDING_SUCCESS, `reply type 0x${msg.type.toString(16)}`);
    assertStunIntegrity(buf, msg, pwd);
    const xma = msg.attr(ATTR.XOR_MAPPED_ADDRESS);
    assert.ok(xma, 'success without XOR-MAPPED-ADDRESS');
    assert.deepEqual(xorMappedAddress(xma.value),
      { address: '127.0.0.1', port: s.address().port });
    assert.equal(await metric(DROPPED, '{reason="stun_bad_auth"}'), badAuth);
    await assertPingPong(p.ws, 'the participant whose transport was checked');
  });
});

// ---- 9. RoomService on live participants --------------------------------------------

describe('RoomService on live participants', () => {
  it('removeParticipant → leave PARTICIPANT_REMOVED, socket closed, others told', async () => {
    const keep = await join('stays', 'rs-remove-room');
    const goes = await join('goes', 'rs-remove-room');
    await rs.removeParticipant('rs-remove-room', 'goes');
    const leave = await nextSignal(goes.ws, 'leave');
    assert.equal(leave.reason, DisconnectReason.PARTICIPANT_REMOVED);
    await goes.ws.waitClosed(WAIT_MS);
    await nextSignal(keep.ws, 'update', (u) =>
      participantNamed(u, 'goes')?.state === ParticipantInfo_State.DISCONNECTED);
    const list = await rs.listParticipants('rs-remove-room');
    assert.deepEqual(list.map((p) => p.identity), ['stays']);
  });

  it('mutePublishedTrack → mute to the publisher, an update with the track muted to others',
    async () => {
      const pub = await join('publisher', 'rs-mute-room');
      const sub = await join('subscriber', 'rs-mute-room');
      send(pub.ws, 'addTrack', new AddTrackRequest({ cid: 'c1', name: 'microphone',
        type: TrackType.AUDIO }));
      const { track } = await nextSignal(pub.ws, 'trackPublished');
      const info = await rs.mutePublishedTrack('rs-mute-room', 'publisher', track.sid, true);
      assert.equal(info.sid, track.sid);
      assert.equal(info.muted, true);
      const mute = await nextSignal(pub.ws, 'mute');
      assert.equal(mute.sid, track.sid);
      assert.equal(mute.muted, true);
      await nextSignal(sub.ws, 'update', (u) => participantNamed(u, 'publisher')?.tracks
        .some((t) => t.sid === track.sid && t.muted));
    });

  it('updateParticipant metadata → others get an update with it', async () => {
    const a = await join('watcher', 'rs-meta-room');
    await join('subject', 'rs-meta-room');
    const p = await rs.updateParticipant('rs-meta-room', 'subject', { metadata: '{"seat":7}' });
    assert.equal(p.metadata, '{"seat":7}');
    await nextSignal(a.ws, 'update', (u) => participantNamed(u, 'subject')?.metadata ===
      '{"seat":7}');
  });

  it('updateRoomMetadata → everyone gets roomUpdate', async () => {
    const a = await join('one', 'rs-room-meta');
    const b = await join('two', 'rs-room-meta');
    await rs.updateRoomMetadata('rs-room-meta', 'topic: tests');
    for (const peer of [a, b]) {
      const ru = await nextSignal(peer.ws, 'roomUpdate');
      assert.equal(ru.room.name, 'rs-room-meta');
      assert.equal(ru.room.metadata, 'topic: tests');
    }
  });

  it('deleteRoom → everyone gets leave ROOM_DELETED and is closed', async () => {
    const a = await join('x', 'rs-delete-room');
    const b = await join('y', 'rs-delete-room');
    await rs.deleteRoom('rs-delete-room');
    for (const peer of [a, b]) {
      const leave = await nextSignal(peer.ws, 'leave');
      assert.equal(leave.reason, DisconnectReason.ROOM_DELETED);
      await peer.ws.waitClosed(WAIT_MS);
    }
    const rooms = await rs.listRooms();
    assert.ok(!rooms.some((r) => r.name === 'rs-delete-room'));
  });
});

describe('JoinResponse.ice_servers', () => {
  it('hands out rtc.stun_servers and rtc.turn_servers, TURN REST credentials per participant',
    async () => {
      const udp = await freeUdpPort();
      const turnSecret = 'turn-shared-secret-0123456789abcdef';
      const ice = await startTribune({ configBody: ({ port, key, secret }) =>
        `port: ${port}\nbind_addresses: [127.0.0.1]\nkeys:\n  ${key}: ${secret}\n` +
        `rtc:\n  udp_port: ${udp}\n  node_ip: 127.0.0.1\n` +
        '  stun_servers: ["stun.example.org:3478"]\n' +
        '  turn_servers:\n' +
        `    - {host: turn.example.org, port: 3478, protocol: udp, secret: ${turnSecret}, ttl: 600}\n` +
        '    - {host: relay.example.org, port: 443, protocol: tls, username: u1, credential: c1}\n' });
      try {
        const before0 = Math.floor(Date.now() / 1000);
        const j = await join('ivy', 'ice-room', { server: ice });
        const servers = j.join.iceServers;
        assert.equal(servers.length, 3, JSON.stringify(servers));
        assert.deepEqual(servers[0].urls, ['stun:stun.example.org:3478']);
        assert.deepEqual(servers[1].urls, ['turn:turn.example.org:3478?transport=udp']);
        const [expiry, who] = servers[1].username.split(':');
        assert.equal(who, 'ivy');
        assert.ok(Number(expiry) >= before0 + 600 && Number(expiry) <= before0 + 602, expiry);
        const want = createHmac('sha1', turnSecret).update(servers[1].username).digest('base64');
        assert.equal(servers[1].credential, want, 'coturn use-auth-secret password');
        assert.deepEqual(servers[2].urls, ['turns:relay.example.org:443?transport=tcp']);
        assert.equal(servers[2].username, 'u1');
        assert.equal(servers[2].credential, 'c1');
        await j.ws.close();
      } finally {
        await ice.stop();
      }
    });

  it('the embedded TURN server comes first: turn: udp/tcp and turns: on the configured ports, ' +
    'credentials a TURN client can allocate with (secret derived from the API secret)',
  async () => {
    const udp = await freeUdpPort();
    const turnPort = await freeUdpPort();
    const tlsPort = await freeUdpPort(); // also free on TCP, almost surely; the bind tells
    const ice = await startTribune({ configBody: ({ port, key, secret }) =>
      `port: ${port}\nbind_addresses: [127.0.0.1]\nkeys:\n  ${key}: ${secret}\n` +
      `rtc:\n  udp_port: ${udp}\n  tcp_port: 0\n  node_ip: 127.0.0.1\n` +
      `turn:\n  enabled: true\n  udp_port: ${turnPort}\n  tls_port: ${tlsPort}\n` +
      '  external_tls: true\n  domain: turn.example.org\n  ttl_seconds: 900\n' +
      '  relay_range_start: 47000\n  relay_range_end: 47100\n' });
    try {
      const before0 = Math.floor(Date.now() / 1000);
      const j = await join('ivy', 'ice-room-2', { server: ice });
      const [embedded] = j.join.iceServers;
      assert.deepEqual(embedded.urls, [
        `turn:turn.example.org:${turnPort}?transport=udp`,
        `turn:turn.example.org:${turnPort}?transport=tcp`,
        `turns:turn.example.org:${tlsPort}?transport=tcp`]);
      const [expiry, who] = embedded.username.split(':');
      assert.equal(who, 'ivy');
      assert.ok(Number(expiry) >= before0 + 900 && Number(expiry) <= before0 + 902, expiry);
      // the documented derivation: hex(HMAC-SHA256(first API secret, "tribune-turn"))
      const derived = createHmac('sha256', ice.secret).update('tribune-turn').digest('hex');
      const want = createHmac('sha1', derived).update(embedded.username).digest('base64');
      assert.equal(embedded.credential, want);
      // and the server accepts them: coturn's client allocates (an Allocate
      // only, no peer needed: -y would need one) and a wrong one is refused
      const { spawnSync } = await import('node:child_process');
      const run = (pw, port = turnPort, tcp = false) => spawnSync('turnutils_uclient',
        [...(tcp ? ['-t'] : []), '-c', '-n', '1', '-m', '1', '-y', '-u', embedded.username,
          '-w', pw, '-p', String(port), '127.0.0.1'], { encoding: 'utf8', timeout: 15000 });
      const metrics = async () => (await (await fetch(`${ice.url}/metrics`)).text());
      const ok = run(embedded.credential);
      assert.doesNotMatch(ok.stdout + ok.stderr, /Cannot complete Allocation/);
      const bad = run(`${embedded.credential}x`);
      assert.match(bad.stdout + bad.stderr, /Cannot complete Allocation/);
      // external_tls: TLS ends at a load balancer, so tls_port speaks plain TCP TURN
      const lb = run(embedded.credential, tlsPort, true);
      assert.doesNotMatch(lb.stdout + lb.stderr, /Cannot complete Allocation|cannot connect/i);
      await new Promise((r) => setTimeout(r, 1100)); // stats are published once a second
      assert.match(await metrics(), /^tribune_turn_allocations_total [2-9]/m);
      await j.ws.close();
    } finally {
      await ice.stop();
    }
  });
});
