// sdk.test.mjs — tribune against a real peer: livekit-server-sdk 2.19.2
// (AccessToken, TokenVerifier, RoomServiceClient) and the protobuf classes of
// @livekit/protocol that the SDK itself depends on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { AccessToken, RoomServiceClient, TokenVerifier } from 'livekit-server-sdk';
// Installed as a dependency of livekit-server-sdk (pinned by package-lock.json).
import { CreateRoomRequest, ListRoomsRequest, ListRoomsResponse, Room, RoomAgentDispatch,
  RoomConfiguration, TrackSource } from '@livekit/protocol';
import { startTribune } from './lib/server.mjs';

const WRONG_SECRET = 'not_the_right_secret_0123456789_abcdefgh';

let srv;
before(async () => { srv = await startTribune(); });
after(async () => { await srv?.stop(); });

/** An SDK-minted token for srv's key (or opts.key/opts.secret). */
async function sdkToken(grant, opts = {}) {
  const { key = srv.key, secret = srv.secret, ...options } = opts;
  const at = new AccessToken(key, secret, { identity: 'alice', ...options });
  at.addGrant(grant);
  return at.toJwt();
}

/** A hand-made HS256 token (for claims the SDK will not produce). */
function hmacToken(claims, secret = srv.secret) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

async function validate(token, { header = false, path = '/rtc/validate', query = '' } = {}) {
  const url = header
    ? `${srv.url}${path}${query ? `?${query}` : ''}`
    : `${srv.url}${path}?access_token=${encodeURIComponent(token)}${query ? `&${query}` : ''}`;
  const res = await fetch(url, header ? { headers: { Authorization: `Bearer ${token}` } } : {});
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** Awaits a rejection of an SDK call and returns the TwirpError. */
async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to be rejected');
}

describe('SDK access tokens on /rtc/validate', () => {
  const joinOpts = {
    identity: 'alice',
    name: 'Alice',
    metadata: '{"seat":3}',
    attributes: { team: 'red' },
    ttl: '10m',
  };
  const joinGrant = { roomJoin: true, room: 'lobby', canPublish: false };

  it('accepts an SDK token in the access_token query parameter', async () => {
    const r = await validate(await sdkToken(joinGrant, joinOpts));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'success');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
  });

  it('accepts the same token in an Authorization: Bearer header', async () => {
    const r = await validate(await sdkToken(joinGrant, joinOpts), { header: true });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'success');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
  });

  it('rejects a token signed with the wrong secret (401, "invalid")', async () => {
    const r = await validate(await sdkToken(joinGrant, { secret: WRONG_SECRET }));
    assert.equal(r.status, 401);
    assert.match(r.body, /invalid/i);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
  });

  it('rejects a token for an unknown API key (401)', async () => {
    const r = await validate(await sdkToken(joinGrant, { key: 'nosuchkey' }));
    assert.equal(r.status, 401);
    assert.match(r.body, /invalid API key/i);
  });

  it('rejects an expired SDK token (ttl -1h) with 401 naming the expiry', async () => {
    const r = await validate(await sdkToken(joinGrant, { ttl: '-1h' }));
    assert.equal(r.status, 401);
    assert.match(r.body, /expired/i);
  });

  it('rejects an expired hand-signed token (nbf < exp < now) with 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = hmacToken({ iss: srv.key, sub: 'alice', nbf: now - 7200, exp: now - 3600,
      video: { roomJoin: true, room: 'lobby' } });
    const r = await validate(token);
    assert.equal(r.status, 401);
    assert.match(r.body, /expired/i);
  });

  it('accepts a correct hand-signed token (the HMAC helper itself is right)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = hmacToken({ iss: srv.key, sub: 'alice', nbf: now - 10, exp: now + 600,
      video: { roomJoin: true, room: 'lobby' } });
    const r = await validate(token);
    assert.equal(r.status, 200, r.body);
  });

  it('rejects a valid token without the roomJoin grant (401)', async () => {
    const r = await validate(await sdkToken({ roomList: true, room: 'lobby' }));
    assert.equal(r.status, 401);
    assert.match(r.body, /permission/i);
  });

  it('accepts a token carrying every claim the SDK can set (sources, kind, sip, roomConfig)',
    async () => {
      const at = new AccessToken(srv.key, srv.secret, { identity: 'agent-1', name: 'Agent',
        metadata: 'm', attributes: { role: 'bot' }, ttl: 600 });
      at.addGrant({ roomJoin: true, room: 'lobby', canSubscribe: true, canPublish: true,
        canPublishSources: [TrackSource.MICROPHONE, TrackSource.SCREEN_SHARE_AUDIO],
        canUpdateOwnMetadata: true, hidden: false, agent: true, recorder: false });
      at.kind = 'agent';
      at.addSIPGrant({ admin: true, call: true });
      at.roomPreset = 'preset';
      at.roomConfig = new RoomConfiguration({ name: 'lobby', emptyTimeout: 10,
        agents: [new RoomAgentDispatch({ agentName: 'a', metadata: 'm' })] });
      const r = await validate(await at.toJwt());
      assert.equal(r.status, 200, r.body);
      assert.equal(r.body, 'success');
    });

  it('accepts Unicode identity, room and attributes', async () => {
    const r = await validate(await sdkToken({ roomJoin: true, room: '스터디-1 ✓' },
      { identity: '사용자', name: '김', attributes: { '팀': '빨강' }, metadata: '{"ü":1}' }));
    assert.equal(r.status, 200, r.body);
  });

  it('rejects a request without any token (401)', async () => {
    const res = await fetch(`${srv.url}/rtc/validate`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  it('/rtc/v1/validate without join_request answers 400 "join_request is required"', async () => {
    const r = await validate(await sdkToken(joinGrant, joinOpts), { path: '/rtc/v1/validate' });
    assert.equal(r.status, 400);
    assert.match(r.body, /join_request is required/);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
  });

  it('/rtc/v1/validate with a bad token answers 401 before looking at join_request', async () => {
    const r = await validate(await sdkToken(joinGrant, { secret: WRONG_SECRET }),
      { path: '/rtc/v1/validate' });
    assert.equal(r.status, 401);
    assert.match(r.body, /invalid/i);
  });
});

describe('RoomServiceClient (Twirp, JSON)', () => {
  const name = `sdk-room-${process.pid}`;
  const other = `sdk-other-${process.pid}`;
  let rooms;
  let created;
  before(() => { rooms = new RoomServiceClient(srv.url, srv.key, srv.secret); });

  it('createRoom returns the Room with an RM_ sid and the requested settings', async () => {
    const before = Math.floor(Date.now() / 1000);
    created = await rooms.createRoom({ name, emptyTimeout: 600, maxParticipants: 20,
      metadata: 'room-md', departureTimeout: 15 });
    assert.match(created.sid, /^RM_/);
    assert.equal(created.name, name);
    assert.equal(created.emptyTimeout, 600);
    assert.equal(created.maxParticipants, 20);
    assert.equal(created.metadata, 'room-md');
    assert.equal(created.numParticipants, 0);
    assert.equal(created.departureTimeout, 15);
    const t = Number(created.creationTime);
    assert.ok(t >= before - 5 && t <= before + 60, `creationTime ${t}, now ${before}`);
  });

  it('createRoom with an existing name returns the same room', async () => {
    const again = await rooms.createRoom({ name });
    assert.equal(again.sid, created.sid);
    assert.equal(again.name, name);
  });

  it('listRooms() includes the room; listRooms([name]) filters', async () => {
    await rooms.createRoom({ name: other });
    const all = await rooms.listRooms();
    assert.ok(all.some((r) => r.name === name && r.sid === created.sid), JSON.stringify(all));
    assert.ok(all.some((r) => r.name === other));
    const some = await rooms.listRooms([name]);
    assert.deepEqual(some.map((r) => r.name), [name]);
    assert.deepEqual(await rooms.listRooms(['no-such-room']), []);
  });

  it('a Unicode room name round-trips through createRoom and listRooms', async () => {
    const uname = '스터디-1 ✓';
    const r = await rooms.createRoom({ name: uname });
    assert.equal(r.name, uname);
    assert.deepEqual((await rooms.listRooms([uname])).map((x) => x.name), [uname]);
    await rooms.deleteRoom(uname);
  });

  it('updateRoomMetadata returns the new metadata and listRooms shows it', async () => {
    const r = await rooms.updateRoomMetadata(name, 'x');
    assert.equal(r.metadata, 'x');
    assert.equal(r.sid, created.sid);
    const [listed] = await rooms.listRooms([name]);
    assert.equal(listed.metadata, 'x');
  });

  it('listParticipants of an empty room is []', async () => {
    assert.deepEqual(await rooms.listParticipants(name), []);
  });

  for (const [label, call] of [
    ['getParticipant', (r) => r.getParticipant(name, 'nobody')],
    ['removeParticipant', (r) => r.removeParticipant(name, 'nobody')],
    ['mutePublishedTrack', (r) => r.mutePublishedTrack(name, 'nobody', 'TR_x', true)],
    ['updateParticipant', (r) => r.updateParticipant(name, 'nobody', { metadata: 'm' })],
  ]) {
    it(`${label} of an absent participant rejects with 404 not_found`, async () => {
      const err = await rejection(call(rooms));
      assert.equal(err.status, 404, err.message);
      assert.equal(err.code, 'not_found');
    });
  }

  it('listParticipants of an absent room rejects with 404 not_found', async () => {
    const err = await rejection(rooms.listParticipants('no-such-room'));
    assert.equal(err.status, 404);
    assert.equal(err.code, 'not_found');
  });

  // SendData: delivery to browsers is tests/browser/data.test.mjs; here the
  // SDK's request shape is accepted, and a missing room is a 404.
  it('sendData resolves for a room (reliable and lossy, with a topic and destinations)',
    async () => {
      await rooms.sendData(name, new TextEncoder().encode('hi'), 0, { topic: 'news' });
      await rooms.sendData(name, new TextEncoder().encode('hi'), 1,
        { destinationIdentities: ['nobody'] });
    });

  it('sendData to an absent room rejects with 404 not_found', async () => {
    const err = await rejection(rooms.sendData('no-such-room', new TextEncoder().encode('x'), 0));
    assert.equal(err.status, 404, err.message);
    assert.equal(err.code, 'not_found');
  });

  it('a client with the wrong secret is rejected with 401', async () => {
    const bad = new RoomServiceClient(srv.url, srv.key, WRONG_SECRET);
    for (const call of [() => bad.listRooms(), () => bad.createRoom({ name: 'intruder' })]) {
      const err = await rejection(call());
      assert.equal(err.status, 401, err.message);
      assert.equal(err.code, 'unauthenticated');
    }
    const names = (await rooms.listRooms()).map((r) => r.name);
    assert.ok(!names.includes('intruder'));
  });

  it('deleteRoom resolves and the room is gone from listRooms', async () => {
    await rooms.deleteRoom(name);
    const names = (await rooms.listRooms()).map((r) => r.name);
    assert.ok(!names.includes(name), names.join(','));
    assert.ok(names.includes(other));
  });

  it('deleteRoom of a deleted room rejects with 404', async () => {
    const err = await rejection(rooms.deleteRoom(name));
    assert.equal(err.status, 404);
    assert.equal(err.code, 'not_found');
    await rooms.deleteRoom(other);
  });
});

describe('RoomService over Twirp protobuf', () => {
  const name = `proto-room-${process.pid}`;

  async function twirpProto(method, message, grant) {
    const token = await sdkToken(grant, { identity: 'backend' });
    return fetch(`${srv.url}/twirp/livekit.RoomService/${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/protobuf', Authorization: `Bearer ${token}` },
      body: message.toBinary(),
    });
  }

  it('CreateRoom with a binary CreateRoomRequest answers a binary Room', async () => {
    const req = new CreateRoomRequest({ name, emptyTimeout: 120, maxParticipants: 7,
      metadata: 'pb' });
    const res = await twirpProto('CreateRoom', req, { roomCreate: true });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('content-type'), 'application/protobuf');
    const room = Room.fromBinary(new Uint8Array(await res.arrayBuffer()));
    assert.equal(room.name, name);
    assert.match(room.sid, /^RM_/);
    assert.equal(room.emptyTimeout, 120);
    assert.equal(room.maxParticipants, 7);
    assert.equal(room.metadata, 'pb');
  });

  it('ListRooms with a binary request lists the room', async () => {
    const res = await twirpProto('ListRooms', new ListRoomsRequest({ names: [name] }),
      { roomList: true });
    assert.equal(res.status, 200);
    const list = ListRoomsResponse.fromBinary(new Uint8Array(await res.arrayBuffer()));
    assert.deepEqual(list.rooms.map((r) => r.name), [name]);
  });

  it('a protobuf request without the roomCreate grant gets a JSON 401', async () => {
    const res = await twirpProto('CreateRoom', new CreateRoomRequest({ name: 'nope' }),
      { roomJoin: true, room: 'nope' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal((await res.json()).code, 'unauthenticated');
  });

  after(async () => { await new RoomServiceClient(srv.url, srv.key, srv.secret).deleteRoom(name).catch(() => {}); });
});

describe('REST token endpoint with SDK verification', () => {
  const room = `rest-room-${process.pid}`;
  const body = {
    identity: 'alice',
    name: 'Alice',
    metadata: '{"a":1}',
    attributes: { team: 'red' },
    ttl_seconds: 600,
    permissions: { can_publish: false, can_publish_data: true, room_admin: true },
  };
  const basic = () => `Basic ${Buffer.from(`${srv.key}:${srv.secret}`).toString('base64')}`;
  const post = (authorization, b = body, r = room) => fetch(
    `${srv.url}/api/v1/rooms/${encodeURIComponent(r)}/tokens`,
    { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: authorization },
      body: JSON.stringify(b) });
  let issued;

  it('Basic key:secret mints a token: 201 {token, ws_url, room, identity, expires_at}', async () => {
    const res = await post(basic());
    const text = await res.text();
    assert.equal(res.status, 201, text);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    issued = JSON.parse(text);
    assert.deepEqual(Object.keys(issued).sort(),
      ['expires_at', 'identity', 'room', 'token', 'ws_url']);
    assert.equal(typeof issued.token, 'string');
    assert.equal(issued.room, room);
    assert.equal(issued.identity, 'alice');
    assert.equal(issued.ws_url, `ws://127.0.0.1:${srv.port}`);
    assert.equal(typeof issued.expires_at, 'number');
  });

  it("the SDK's TokenVerifier decodes the claims", async () => {
    const c = await new TokenVerifier(srv.key, srv.secret).verify(issued.token);
    assert.equal(c.iss, srv.key);
    assert.equal(c.sub, 'alice');
    assert.equal(c.name, 'Alice');
    assert.equal(c.metadata, '{"a":1}');
    assert.equal(c.attributes?.team, 'red');
    assert.equal(c.video.room, room);
    assert.equal(c.video.roomJoin, true);
    assert.equal(c.video.canPublish, false);
    assert.equal(c.video.canPublishData, true);
    assert.equal(c.video.roomAdmin, true);
    assert.equal(c.exp - c.nbf, 600);
    assert.equal(issued.expires_at, c.exp);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(c.nbf - now) <= 5, `nbf ${c.nbf} vs now ${now}`);
    await assert.rejects(new TokenVerifier(srv.key, WRONG_SECRET).verify(issued.token));
  });

  it('the minted token is accepted by /rtc/validate', async () => {
    const r = await validate(issued.token);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'success');
  });

  it('a Unicode room (percent-encoded in the path) and identity are carried over', async () => {
    const uroom = '스터디-1 ✓';
    const res = await post(basic(), { identity: '사용자', name: '김' }, uroom);
    assert.equal(res.status, 201, await res.clone().text());
    const j = await res.json();
    assert.equal(j.room, uroom);
    assert.equal(j.identity, '사용자');
    const c = await new TokenVerifier(srv.key, srv.secret).verify(j.token);
    assert.equal(c.video.room, uroom);
    assert.equal(c.sub, '사용자');
    assert.equal(c.name, '김');
    assert.equal(c.exp - c.nbf, 6 * 3600, 'the default ttl is 6 h, as the SDK\'s');
  });

  it('Bearer SDK token with roomCreate may mint (201)', async () => {
    const res = await post(`Bearer ${await sdkToken({ roomCreate: true }, { identity: 'be' })}`);
    assert.equal(res.status, 201, await res.clone().text());
    const { token } = await res.json();
    const c = await new TokenVerifier(srv.key, srv.secret).verify(token);
    assert.equal(c.sub, 'alice');
    assert.equal(c.video.room, room);
  });

  it('Bearer SDK token with only roomJoin is refused (403)', async () => {
    const res = await post(`Bearer ${await sdkToken({ roomJoin: true, room })}`);
    assert.equal(res.status, 403);
    assert.equal((await res.json()).code, 'permission_denied');
  });

  it('Bearer SDK token with roomAdmin for another room is refused (403)', async () => {
    const res = await post(`Bearer ${await sdkToken({ roomAdmin: true, room: 'elsewhere' })}`);
    assert.equal(res.status, 403);
    assert.equal((await res.json()).code, 'permission_denied');
  });

  it('Bearer SDK token with roomAdmin for the same room may mint (201)', async () => {
    const res = await post(`Bearer ${await sdkToken({ roomAdmin: true, room })}`);
    assert.equal(res.status, 201, await res.clone().text());
    const { token, room: r } = await res.json();
    assert.equal(r, room);
    const c = await new TokenVerifier(srv.key, srv.secret).verify(token);
    assert.equal(c.video.room, room);
  });

  it('Bearer SDK token signed with the wrong secret is refused (401)', async () => {
    const res = await post(`Bearer ${await sdkToken({ roomCreate: true }, { secret: WRONG_SECRET })}`);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).code, 'unauthenticated');
  });
});
