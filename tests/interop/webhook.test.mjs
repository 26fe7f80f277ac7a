// webhook.test.mjs — tribune's webhooks (`webhook.urls`) received by a Node
// HTTP server on 127.0.0.1 that checks every request with livekit-server-sdk's
// WebhookReceiver (the JWT in Authorization, its sha256 claim of the body) and
// parses the body as LiveKit's WebhookEvent. Rooms are driven with
// RoomServiceClient and the raw signaling client of signal.test.mjs (the
// fixture join request of livekit-client 2.23). Three receiver URLs:
//   /hook   answers 200: the events, their order and contents;
//   /flaky  answers 500 to its first two requests: retries with back-off;
//   /gone   answers 404: counted as failed, not retried.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { AccessToken, RoomServiceClient, WebhookReceiver } from 'livekit-server-sdk';
// Installed as a dependency of livekit-server-sdk (pinned by package-lock.json).
import { AddTrackRequest, DisconnectReason, JoinRequest, LeaveRequest, LeaveRequest_Action,
  SessionDescription, SignalRequest, SignalResponse, TrackType, WrappedJoinRequest }
  from '@livekit/protocol';
import { freeUdpPort, REPO_ROOT, startTribune, TEST_KEY, TEST_SECRET } from './lib/server.mjs';
import { wsConnect } from './lib/ws.mjs';

const WAIT_MS = 2000;        // one signaling message
const EVENT_WAIT_MS = 5000;  // one webhook event
const FIXTURES = path.join(REPO_ROOT, 'tests', 'fixtures', 'signal');
const JOIN_REQUEST_B64 = fs.readFileSync(path.join(FIXTURES, 'join_request.b64'), 'utf8').trim();
const FIXTURE_JOIN = (() => {
  const wrapped = WrappedJoinRequest.fromBinary(Buffer.from(JOIN_REQUEST_B64, 'base64url'));
  return JoinRequest.fromBinary(zlib.gunzipSync(wrapped.joinRequest));
})();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the receiver ---------------------------------------------------------------

const receiver = new WebhookReceiver(TEST_KEY, TEST_SECRET);
/** Every request per path: {at, headers, body, event | error}. */
const got = { '/hook': [], '/flaky': [], '/gone': [] };
let flakyFailures = 2;

const hookServer = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => { body += d; });
  req.on('end', async () => {
    const rec = { at: Date.now(), headers: req.headers, body };
    try {
      rec.event = await receiver.receive(body, req.headers.authorization);
    } catch (e) {
      rec.error = e.message;
    }
    (got[req.url] ??= []).push(rec);
    if (req.url === '/gone') res.writeHead(404);
    else if (req.url === '/flaky' && flakyFailures > 0) {
      flakyFailures--;
      res.writeHead(500);
    } else res.writeHead(rec.error ? 401 : 200);
    res.end();
  });
});

/** Waits until /path holds a validated `name` event matching pred; returns its record. */
async function waitEvent(pathName, name, pred = () => true, timeoutMs = EVENT_WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = got[pathName].find((x) => x.event?.event === name && pred(x.event));
    if (r) return r;
    if (Date.now() > deadline) {
      const seen = got[pathName].map((x) => x.event?.event ?? `invalid: ${x.error}`);
      assert.fail(`no ${name} on ${pathName} within ${timeoutMs} ms; got: ${seen.join(', ')}`);
    }
    await sleep(20);
  }
}

/** The validated events on /path about `room`, in arrival order: [name, identity]. */
function eventsOf(pathName, room) {
  return got[pathName].filter((x) => x.event?.room?.name === room)
    .map((x) => [x.event.event, x.event.participant?.identity ?? '']);
}

// ---- tribune and signaling ---------------------------------------------------------

let srv;
let rs;
let hookPort;
const sockets = new Set();

before(async () => {
  hookServer.listen(0, '127.0.0.1');
  await once(hookServer, 'listening');
  hookPort = hookServer.address().port;
  const udp = await freeUdpPort();
  const base = `http://127.0.0.1:${hookPort}`;
  srv = await startTribune({ configBody: ({ port, key, secret }) =>
    `port: ${port}\nbind_addresses: [127.0.0.1]\nkeys:\n  ${key}: ${secret}\n` +
    `rtc:\n  udp_port: ${udp}\n  node_ip: 127.0.0.1\n  use_external_ip: false\n` +
    'room:\n  departure_timeout: 1\n' +
    `webhook:\n  api_key: ${key}\n  urls:\n    - ${base}/hook\n    - ${base}/flaky\n` +
    `    - ${base}/gone\n` });
  rs = new RoomServiceClient(srv.url, srv.key, srv.secret);
});

after(async () => {
  await Promise.all([...sockets].map((ws) => ws.close()));
  await srv?.stop();
  hookServer.closeAllConnections?.();
  hookServer.close();
});

function decode(msg) {
  if (msg.signal === undefined) {
    try {
      msg.signal = SignalResponse.fromBinary(msg.data);
    } catch {
      msg.signal = null;
    }
  }
  return msg.signal;
}

async function nextSignal(ws, kase, pred = () => true) {
  const wanted = (m) => decode(m)?.message.case === kase && pred(decode(m).message.value);
  return decode(await ws.next(wanted, WAIT_MS, `a '${kase}' message`)).message.value;
}

function send(ws, kase, value) {
  ws.send(new SignalRequest({ message: { case: kase, value } }).toBinary());
}

async function join(identity, room) {
  const at = new AccessToken(srv.key, srv.secret, { identity });
  at.addGrant({ roomJoin: true, room });
  const q = `access_token=${encodeURIComponent(await at.toJwt())}` +
    `&join_request=${encodeURIComponent(JOIN_REQUEST_B64)}`;
  const r = await wsConnect(`ws://127.0.0.1:${srv.port}/rtc/v1?${q}`, { timeoutMs: WAIT_MS });
  if (r.ws) sockets.add(r.ws);
  assert.equal(r.status, 101, `join ${identity}@${room}: HTTP ${r.status} ${r.body ?? ''}`);
  const joinResponse = await nextSignal(r.ws, 'join');
  await nextSignal(r.ws, 'answer');
  return { ws: r.ws, join: joinResponse };
}

/** Publishes an audio track: addTrack, then a new offer whose first audio
 * section sends with that track's msid (the fixture offer only receives). */
async function publishAudio(peer, cid) {
  send(peer.ws, 'addTrack', new AddTrackRequest({ cid, name: 'microphone',
    type: TrackType.AUDIO }));
  const { track } = await nextSignal(peer.ws, 'trackPublished');
  const sdp = FIXTURE_JOIN.publisherOffer.sdp.replace('a=recvonly\r\n',
    `a=sendonly\r\na=msid:stream-${cid} ${cid}\r\n`);
  send(peer.ws, 'offer', new SessionDescription({ type: 'offer', sdp, id: 2 }));
  await nextSignal(peer.ws, 'answer', (a) => a.id === 2);
  return track;
}

async function leave(peer) {
  send(peer.ws, 'leave', new LeaveRequest({ reason: DisconnectReason.CLIENT_INITIATED,
    action: LeaveRequest_Action.DISCONNECT }));
  await peer.ws.waitClosed(WAIT_MS);
}

async function metric(name, labels = '') {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  const key = `${name}${labels}`;
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  return line ? Number(line.slice(key.length + 1)) : NaN;
}

// ---- tests ---------------------------------------------------------------------------

describe('webhooks', () => {
  it('RoomService createRoom, a join, a track, a leave, deleteRoom: every event signed, ' +
    'validated, in order', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    const room = await rs.createRoom({ name: 'wh-room' });
    const started = await waitEvent('/hook', 'room_started', (e) => e.room.name === 'wh-room');
    assert.equal(started.event.room.sid, room.sid);
    assert.equal(started.headers['content-type'], 'application/webhook+json');
    assert.match(started.event.id, /^EV_\w+$/);
    const created = Number(started.event.createdAt);
    assert.ok(created >= t0 - 1 && created <= t0 + 10, `createdAt ${created}, now ${t0}`);

    const alice = await join('alice', 'wh-room');
    const joined = await waitEvent('/hook', 'participant_joined',
      (e) => e.participant?.identity === 'alice');
    assert.equal(joined.event.room.name, 'wh-room');
    assert.equal(joined.event.participant.sid, alice.join.participant.sid);

    const track = await publishAudio(alice, 'wh-mic');
    const pub = await waitEvent('/hook', 'track_published', (e) => e.track?.sid === track.sid);
    assert.equal(pub.event.participant.identity, 'alice');
    assert.equal(pub.event.room.name, 'wh-room');
    assert.equal(pub.event.track.type, TrackType.AUDIO);

    await leave(alice);
    const unpub = await waitEvent('/hook', 'track_unpublished', (e) => e.track?.sid === track.sid);
    assert.equal(unpub.event.participant.identity, 'alice');
    const left = await waitEvent('/hook', 'participant_left',
      (e) => e.participant?.identity === 'alice');
    assert.equal(left.event.room.name, 'wh-room');

    await rs.deleteRoom('wh-room');
    await waitEvent('/hook', 'room_finished', (e) => e.room.name === 'wh-room');

    assert.deepEqual(eventsOf('/hook', 'wh-room'), [
      ['room_started', ''], ['participant_joined', 'alice'], ['track_published', 'alice'],
      ['track_unpublished', 'alice'], ['participant_left', 'alice'], ['room_finished', ''],
    ]);
    const ids = got['/hook'].map((x) => x.event?.id);
    assert.equal(new Set(ids).size, ids.length, 'event ids are unique');
    assert.ok(got['/hook'].every((x) => !x.error), 'every /hook request validated');
  });

  it('a room created by a join and closed by its departure timeout', async () => {
    const bob = await join('bob', 'wh-auto');
    await waitEvent('/hook', 'participant_joined', (e) => e.participant?.identity === 'bob');
    await leave(bob);
    await waitEvent('/hook', 'room_finished', (e) => e.room.name === 'wh-auto');
    assert.deepEqual(eventsOf('/hook', 'wh-auto'), [
      ['room_started', ''], ['participant_joined', 'bob'], ['participant_left', 'bob'],
      ['room_finished', ''],
    ]);
  });

  it('a receiver answering 500 gets the same request again after 1 s, then 2 s', async () => {
    // /flaky failed twice on the very first event (wh-room's room_started); the
    // queue behind it waits, then goes through: wait for its last event
    await waitEvent('/flaky', 'room_finished', (e) => e.room.name === 'wh-auto', 15000);
    const first = await waitEvent('/flaky', 'room_started', (e) => e.room.name === 'wh-room');
    const tries = got['/flaky'].filter((x) => x.event?.id === first.event.id);
    assert.equal(tries.length, 3, 'three attempts of the first event');
    assert.ok(tries.every((x) => x.body === tries[0].body), 'the same body each time');
    const gaps = [tries[1].at - tries[0].at, tries[2].at - tries[1].at];
    assert.ok(gaps[0] >= 900 && gaps[0] < 1900, `first back-off ${gaps[0]} ms`);
    assert.ok(gaps[1] >= 1900 && gaps[1] < 2900, `second back-off ${gaps[1]} ms`);
    // the rest was delivered afterwards, once each, in the same order as /hook
    const distinct = (p) => [...new Map(got[p].filter((x) => x.event)
      .map((x) => [x.event.id, x.event.event])).values()];
    assert.deepEqual(distinct('/flaky'), distinct('/hook'));
    assert.equal(got['/flaky'].length, got['/hook'].length + 2);
  });

  it('/metrics counts delivered and failed requests; a 404 is not retried', async () => {
    await waitEvent('/gone', 'room_finished', (e) => e.room.name === 'wh-auto');
    const ids = got['/gone'].map((x) => x.event?.id);
    assert.equal(new Set(ids).size, ids.length, 'no retries after a 404');
    assert.ok(got['/gone'].every((x) => !x.error), 'every /gone request validated');
    const ok = await metric('tribune_webhook_requests_total', '{result="ok"}');
    const failed = await metric('tribune_webhook_requests_total', '{result="failed"}');
    const dropped = await metric('tribune_webhook_requests_total', '{result="dropped"}');
    assert.ok(ok >= 20, `ok ${ok}`); // 10 events to /hook and to /flaky
    assert.ok(failed >= 10, `failed ${failed}`); // each /gone request
    assert.equal(dropped, 0);
  });

  it('the receiver refuses a body changed in transit, or a token of another secret', async () => {
    const r = got['/hook'][0];
    assert.ok(r?.event, 'a validated request to start from');
    await assert.rejects(receiver.receive(r.body.replace('wh-room', 'wh-rooM'),
      r.headers.authorization), /sha256/);
    const other = new WebhookReceiver(TEST_KEY, 'another_secret_0123456789_abcdefghijklmno');
    await assert.rejects(other.receive(r.body, r.headers.authorization));
    await receiver.receive(r.body, r.headers.authorization); // the original still passes
  });
});
