// multinode.test.mjs — two tribune nodes sharing one real redis-server
// (Debian's, started here on a free loopback port). A client of a room held
// by the other node is relayed there: its JoinResponse lists the people on
// the owner, its answer's candidates carry the owner's media port, and the
// owner's participants see it arrive and leave. RoomService (livekit-server-
// sdk) works on either node: reads, and changes forwarded to the owner.
// Signaling is @livekit/protocol's SignalRequest/SignalResponse over
// WebSockets with livekit-client 2.23's join request (tests/fixtures).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { DisconnectReason, LeaveRequest, LeaveRequest_Action, SignalRequest,
  SignalResponse } from '@livekit/protocol';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, freePort, startTribune } from './lib/server.mjs';
import { freeUdpPort } from './lib/turn.mjs';
import { HAS_REDIS, cli, sleep, startRedis, stopRedis, waitFor } from './lib/redis.mjs';
import { wsConnect } from './lib/ws.mjs';

const JOIN_REQUEST_B64 = fs.readFileSync(path.join(REPO_ROOT, 'tests', 'fixtures', 'signal',
  'join_request.b64'), 'utf8').trim();
const WAIT_MS = 4000;
async function startNode(redisPort) {
  const udp = await freeUdpPort();
  const srv = await startTribune({ configBody: ({ port, key, secret }) =>
    `port: ${port}\nbind_addresses: [127.0.0.1]\nkeys:\n  ${key}: ${secret}\n` +
    `rtc:\n  udp_port: ${udp}\n  tcp_port: 0\n  node_ip: 127.0.0.1\n  use_external_ip: false\n` +
    `redis:\n  address: 127.0.0.1:${redisPort}\n` });
  return { ...srv, udp };
}

function decode(msg) {
  try {
    return msg.text ? SignalResponse.fromJsonString(msg.data.toString('utf8'),
      { ignoreUnknownFields: true }) : SignalResponse.fromBinary(msg.data);
  } catch { return null; }
}

async function nextSignal(ws, kase, pred = () => true) {
  const ok = (m) => decode(m)?.message.case === kase && pred(decode(m).message.value);
  return decode(await ws.next(ok, WAIT_MS, `a '${kase}' message`)).message.value;
}

async function join(node, identity, room) {
  const at = new AccessToken(node.key, node.secret, { identity });
  at.addGrant({ roomJoin: true, room });
  const url = `ws://127.0.0.1:${node.port}/rtc/v1?access_token=` +
    `${encodeURIComponent(await at.toJwt())}&join_request=${encodeURIComponent(JOIN_REQUEST_B64)}`;
  const r = await wsConnect(url, { timeoutMs: WAIT_MS });
  assert.equal(r.status, 101, `${identity}: HTTP ${r.status} ${r.body ?? ''}`);
  const joined = await nextSignal(r.ws, 'join');
  return { ws: r.ws, join: joined, answer: await nextSignal(r.ws, 'answer') };
}

const nodeId = (redisPort, node) => cli(redisPort, '--raw', 'KEYS', 'tribune:node:*')
  .split('\n').filter(Boolean).map((k) => k.split(':')[2])
  .find((id) => cli(redisPort, 'HGET', `tribune:node:${id}`, 'http_port') === String(node.port));

/**
 * A Redis and two nodes on it, both in each other's view; stop() closes the
 * sockets pushed to `sockets`, then the nodes, then Redis.
 */
async function twoNodes() {
  const c = { redisPort: await freePort(), sockets: [] };
  c.redis = await startRedis(c.redisPort);
  c.a = await startNode(c.redisPort);
  c.b = await startNode(c.redisPort);
  await waitFor(() => (c.idA = nodeId(c.redisPort, c.a)) && (c.idB = nodeId(c.redisPort, c.b)),
    'both nodes in Redis', { servers: [c.a, c.b] });
  await sleep(2500); // a heartbeat: each node's view has the other
  c.stop = async () => {
    await Promise.all(c.sockets.map((ws) => ws.close().catch(() => {})));
    await c.a.stop();
    await c.b.stop();
    await stopRedis(c.redis);
  };
  return c;
}

const identities = async (rs, room) => (await rs.listParticipants(room))
  .map((p) => p.identity).sort();

describe('two nodes, one Redis', { skip: !HAS_REDIS && 'redis-server not installed' }, () => {
  let c;
  let redisPort;
  let a;
  let b;
  let idA;
  let idB;
  let sockets;

  before(async () => {
    c = await twoNodes();
    ({ redisPort, a, b, idA, idB, sockets } = c);
  });
  after(() => c?.stop());

  it('a client of node 2 joins the room node 1 holds, through a relay', async () => {
    const ann = await join(a, 'ann', 'mn');
    sockets.push(ann.ws);
    await waitFor(() => cli(redisPort, 'GET', 'tribune:room_node:mn') === idA, 'the pin',
      { servers: [a, b] });
    const bob = await join(b, 'bob', 'mn');
    sockets.push(bob.ws);
    assert.deepEqual(bob.join.otherParticipants.map((p) => p.identity), ['ann']);
    assert.equal(bob.join.room.name, 'mn');
    // media goes straight to the owner: its port in the answer's candidates
    assert.match(bob.answer.sdp, new RegExp(`a=candidate:.* 127\\.0\\.0\\.1 ${a.udp} typ host`));
    assert.doesNotMatch(bob.answer.sdp, new RegExp(` ${b.udp} typ host`));
    const upd = await nextSignal(ann.ws, 'update',
      (u) => u.participants.some((p) => p.identity === 'bob'));
    assert.ok(upd);
    // the relay carries requests both ways: a ping from bob gets its pong
    bob.ws.send(new SignalRequest({ message: { case: 'ping', value: 7n } }).toBinary());
    assert.equal(typeof await nextSignal(bob.ws, 'pong'), 'bigint');
    await waitFor(() => new RegExp(`room mn is on node ${idA}: relaying`).test(b.stderr()),
      'the relay in node 2\'s log', { servers: [a, b] });
    const metrics = async (n) => (await fetch(`${n.url}/metrics`)).text();
    assert.match(await metrics(b), /tribune_relay_connections_total\{direction="out"\} 1\n/);
    assert.match(await metrics(a), /tribune_relay_connections_total\{direction="in"\} 1\n/);
  });

  it('RoomService reads on either node', async () => {
    const rsA = new RoomServiceClient(a.url, a.key, a.secret);
    const rsB = new RoomServiceClient(b.url, b.key, b.secret);
    assert.deepEqual(await identities(rsA, 'mn'), ['ann', 'bob']);
    assert.deepEqual(await identities(rsB, 'mn'), ['ann', 'bob']);
    const p = await rsB.getParticipant('mn', 'bob');
    assert.equal(p.identity, 'bob');
    await waitFor(async () => (await rsB.listRooms()).filter((r) => r.name === 'mn').length === 1,
      'mn in node 2\'s ListRooms (from Redis)', { servers: [a, b] });
    const rooms = await rsB.listRooms(['mn']);
    assert.equal(rooms[0].numParticipants, 2);
    // a room with large metadata (8 KiB) is listed from Redis too
    const big = 'm'.repeat(8192);
    await new RoomServiceClient(a.url, a.key, a.secret).updateRoomMetadata('mn', big);
    await waitFor(async () => (await rsB.listRooms(['mn']))[0]?.metadata === big,
      'the 8 KiB metadata in node 2\'s ListRooms', { servers: [a, b] });
  });

  it('RoomService changes through the other node reach the owner', async () => {
    const rsB = new RoomServiceClient(b.url, b.key, b.secret);
    const ws = sockets[0];
    const room = await rsB.updateRoomMetadata('mn', 'debate at 8');
    assert.equal(room.metadata, 'debate at 8');
    await nextSignal(ws, 'roomUpdate', (u) => u.room?.metadata === 'debate at 8');
    await rsB.updateParticipant('mn', 'ann', { metadata: 'speaker' });
    await nextSignal(ws, 'update',
      (u) => u.participants.some((p) => p.identity === 'ann' && p.metadata === 'speaker'));
    await assert.rejects(rsB.removeParticipant('mn', 'nobody'), /does not exist/);
    await rsB.removeParticipant('mn', 'ann');
    const leave = await nextSignal(ws, 'leave');
    assert.ok(leave);
    const text = await (await fetch(`${b.url}/metrics`)).text();
    assert.ok(Number(/tribune_forwarded_calls_total\{result="out"\} (\d+)/.exec(text)[1]) >= 4);
    assert.deepEqual(await identities(rsB, 'mn'), ['bob']);
  });

  it('a relayed client that leaves is gone on the owner', async () => {
    const ws = sockets[1];
    ws.send(new SignalRequest({ message: { case: 'leave', value: new LeaveRequest({
      reason: DisconnectReason.CLIENT_INITIATED, action: LeaveRequest_Action.DISCONNECT }) } })
      .toBinary());
    const rsA = new RoomServiceClient(a.url, a.key, a.secret);
    await waitFor(async () => (await identities(rsA, 'mn')).length === 0, 'bob gone on node 1',
      { servers: [a, b] });
  });

  it('CreateRoom and DeleteRoom through either node', async () => {
    const rsA = new RoomServiceClient(a.url, a.key, a.secret);
    const rsB = new RoomServiceClient(b.url, b.key, b.secret);
    await rsB.deleteRoom('mn'); // held by node 1
    await assert.rejects(rsA.listParticipants('mn'), /does not exist/);
    // one participant somewhere (a new room goes to the least-loaded node,
    // so wherever cy's room went); then a new room goes to the other node
    const cy = await join(a, 'cy', 'busy');
    sockets.push(cy.ws);
    const load = (id) => Number(cli(redisPort, 'HGET', `tribune:node:${id}`, 'participants'));
    await waitFor(() => load(idA) + load(idB) === 1, 'the loads in Redis',
      { servers: [a, b] });
    const idle = load(idA) === 0 ? idA : idB;
    await sleep(2100); // each node has read the loads at its next beat
    await rsA.createRoom({ name: 'fresh', metadata: 'x' });
    assert.equal(cli(redisPort, 'GET', 'tribune:room_node:fresh'), idle,
      `loads: node 1 ${load(idA)}, node 2 ${load(idB)}`);
    await waitFor(() => cli(redisPort, 'HGET', 'tribune:room:fresh', 'node') === idle,
      'fresh written by its node', { servers: [a, b] });
    const rsIdle = idle === idA ? rsB : rsA; // and deleted through the other one
    assert.deepEqual((await rsIdle.listRooms(['fresh'])).map((r) => r.metadata), ['x']);
    await rsIdle.deleteRoom('fresh');
    await waitFor(() => cli(redisPort, 'EXISTS', 'tribune:room:fresh') === '0',
      'fresh gone', { servers: [a, b] });
  });

  it('SIGTERM drains a node: new rooms go elsewhere, it stops when its people leave',
    async () => {
      const owner = cli(redisPort, 'GET', 'tribune:room_node:busy');
      const [node, other] = owner === idA ? [a, b] : [b, a];
      const otherId = owner === idA ? idB : idA;
      process.kill(node.pid, 'SIGTERM');
      await waitFor(() => /draining/.test(node.stderr()), 'the drain', { servers: [a, b] });
      await waitFor(() => cli(redisPort, 'HGET', `tribune:node:${owner}`, 'draining') === '1',
        'draining=1 in Redis', { servers: [a, b] });
      assert.equal(await (await fetch(`${node.url}/`)).text(), 'OK'); // still serving
      const rs = new RoomServiceClient(node.url, node.key, node.secret);
      await rs.createRoom({ name: 'after-drain' });
      assert.equal(cli(redisPort, 'GET', 'tribune:room_node:after-drain'), otherId);
      assert.equal(node.exited(), null);
      const ws = sockets[2]; // cy leaves: the node has nobody left and stops
      ws.send(new SignalRequest({ message: { case: 'leave', value: new LeaveRequest({
        reason: DisconnectReason.CLIENT_INITIATED, action: LeaveRequest_Action.DISCONNECT }) } })
        .toBinary());
      await waitFor(() => node.exited(), 'the drained node to exit',
        { servers: [a, b], ms: 5000 });
      assert.equal(node.exited().code, 0);
      await waitFor(() => /drained: shutting down/.test(node.stderr()), 'the log line',
        { servers: [node] });
      assert.equal(cli(redisPort, 'EXISTS', `tribune:node:${owner}`), '0');
      await new RoomServiceClient(other.url, other.key, other.secret).deleteRoom('after-drain');
    });
});

describe('kill -9 of the node holding a room', { skip: !HAS_REDIS && 'redis-server not installed' },
  () => {
    let c;
    let redisPort;
    let a;
    let b;
    let sockets;

    before(async () => {
      c = await twoNodes();
      ({ redisPort, a, b, sockets } = c);
    });
    after(() => c?.stop());

    it('its relayed clients are closed, its keys expire, the room starts again elsewhere',
      async () => {
        const { idA, idB } = c;
        const ann = await join(b, 'ann', 'k9'); // ties go to the node asked: held by node 2
        sockets.push(ann.ws);
        assert.equal(cli(redisPort, 'GET', 'tribune:room_node:k9'), idB);
        const bob = await join(a, 'bob', 'k9'); // relayed to node 2
        sockets.push(bob.ws);
        assert.deepEqual(bob.join.otherParticipants.map((p) => p.identity), ['ann']);
        process.kill(b.pid, 'SIGKILL');
        // node 1 sees node 2 gone (its key expires within 10 s) and closes
        // the relayed client, whose SDK would reconnect
        const closed = await bob.ws.waitClosed(20000);
        assert.equal(closed.code, 1001, JSON.stringify(closed));
        assert.equal(cli(redisPort, 'EXISTS', `tribune:node:${idB}`), '0');
        await waitFor(() => cli(redisPort, 'EXISTS', 'tribune:participants:k9') === '0' &&
          cli(redisPort, 'EXISTS', 'tribune:room:k9') === '0', 'the room\'s keys to expire',
          { servers: [a] });
        const rsA = new RoomServiceClient(a.url, a.key, a.secret);
        await assert.rejects(rsA.listParticipants('k9'), /does not exist/);
        assert.ok(!(await rsA.listRooms()).some((r) => r.name === 'k9'));
        // the next join starts the room again, on the live node, empty
        const cy = await join(a, 'cy', 'k9');
        sockets.push(cy.ws);
        assert.deepEqual(cy.join.otherParticipants, []);
        assert.equal(cli(redisPort, 'GET', 'tribune:room_node:k9'), idA);
        assert.deepEqual(await identities(rsA, 'k9'), ['cy']);
      });
  });
