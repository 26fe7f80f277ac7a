// redis.test.mjs — tribune with a real redis-server (Debian's), started here
// on a free loopback port: the node registers itself (a hash with an
// expiry, refreshed by a heartbeat) and writes its rooms (pinned to it) and
// participants; it keeps serving when Redis goes away, writes everything
// again when it comes back, leaves a room pinned by another node alone, and
// removes its keys on a clean stop. Without `redis` in the config nothing
// connects to Redis at all.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, defaultConfigBody, freePort, startTribune } from './lib/server.mjs';
import { HAS_REDIS, cli, sleep, startRedis, stopRedis, waitFor } from './lib/redis.mjs';
import { wsConnect } from './lib/ws.mjs';

const JOIN_REQUEST_B64 = fs.readFileSync(path.join(REPO_ROOT, 'tests', 'fixtures', 'signal',
  'join_request.b64'), 'utf8').trim();

const nodeKeys = (port) => cli(port, '--raw', 'KEYS', 'tribune:node:*').split('\n')
  .filter(Boolean);

describe('the node registry in Redis', { skip: !HAS_REDIS && 'redis-server not installed' },
  () => {
    let port;
    let redis;
    let srv;

    before(async () => {
      port = await freePort();
      redis = await startRedis(port);
      srv = await startTribune({ configBody: ({ port: http, key, secret }) =>
        defaultConfigBody({ port: http, key, secret,
          extra: `redis:\n  address: 127.0.0.1:${port}\n` }) });
    });

    after(async () => {
      await srv?.stop();
      await stopRedis(redis);
    });

    it('registers a hash with an expiry, and refreshes it', async () => {
      const [key] = await waitFor(() => nodeKeys(port).length === 1 && nodeKeys(port),
        'the node key');
      assert.match(key, /^tribune:node:ND_\w+$/);
      const ttl = Number(cli(port, 'TTL', key));
      assert.ok(ttl > 0 && ttl <= 10, `TTL ${ttl}`);
      assert.equal(cli(port, 'HGET', key, 'http_port'), String(srv.port));
      const beat1 = Number(cli(port, 'HGET', key, 'heartbeat_ms'));
      await sleep(2500);
      const beat2 = Number(cli(port, 'HGET', key, 'heartbeat_ms'));
      assert.ok(beat2 > beat1, 'the heartbeat moves');
    });

    it('a room is pinned to the node, with its participants', async () => {
      const [key] = nodeKeys(port);
      const node = key.split(':')[2];
      const rs = new RoomServiceClient(srv.url, srv.key, srv.secret);
      await rs.createRoom({ name: 'redis-room', metadata: 'm1' });
      const at = new AccessToken(srv.key, srv.secret, { identity: 'ann' });
      at.addGrant({ roomJoin: true, room: 'redis-room' });
      const r = await wsConnect(`ws://127.0.0.1:${srv.port}/rtc/v1?access_token=` +
        `${encodeURIComponent(await at.toJwt())}&join_request=` +
        `${encodeURIComponent(JOIN_REQUEST_B64)}`, { timeoutMs: 3000 });
      assert.equal(r.status, 101, r.body);
      try {
        const info = await waitFor(() => {
          const j = cli(port, 'HGET', 'tribune:participants:redis-room', 'ann');
          return j && JSON.parse(j);
        }, 'ann in tribune:participants:redis-room');
        assert.equal(info.identity, 'ann');
        assert.match(info.sid, /^PA_/);
        assert.equal(cli(port, 'GET', 'tribune:room_node:redis-room'), node);
        assert.equal(cli(port, 'HGET', 'tribune:room:redis-room', 'node'), node);
        assert.equal(cli(port, 'HGET', 'tribune:room:redis-room', 'metadata'), 'm1');
        const ttl = Number(cli(port, 'TTL', 'tribune:room:redis-room'));
        assert.ok(ttl > 0 && ttl <= 10, `TTL ${ttl}`);
        // a room pinned to a dead node (no tribune:node:<id> key) is free:
        // CreateRoom takes it over
        cli(port, 'SET', 'tribune:room_node:elsewhere', 'ND_dead', 'EX', '60');
        await rs.createRoom({ name: 'elsewhere' });
        assert.equal(cli(port, 'GET', 'tribune:room_node:elsewhere'), node);
        await waitFor(() => cli(port, 'HGET', 'tribune:room:elsewhere', 'node') === node,
          'the room taken over', { ms: 8000, servers: [srv] });
        // ListRooms on this node lists it once (here and in Redis)
        const names = (await rs.listRooms()).map((x) => x.name).sort();
        assert.deepEqual(names, ['elsewhere', 'redis-room']);
        await rs.deleteRoom('elsewhere');
      } finally {
        await r.ws?.close();
      }
      await rs.deleteRoom('redis-room');
      await waitFor(() => cli(port, 'EXISTS', 'tribune:room:redis-room') === '0' &&
        cli(port, 'EXISTS', 'tribune:room_node:redis-room') === '0', 'the room keys to go');
    });

    it('keeps serving without Redis, and registers again when it returns', async () => {
      await stopRedis(redis);
      await waitFor(() => /Redis 127\.0\.0\.1:\d+ unreachable/.test(srv.stderr()),
        'the outage warning', { servers: [srv] });
      const r = await fetch(`${srv.url}/`);
      assert.equal(await r.text(), 'OK');
      const rs = new RoomServiceClient(srv.url, srv.key, srv.secret);
      await rs.createRoom({ name: 'during-outage' }); // made while Redis is away
      // away for longer than a few retries: refused connects must end and
      // be retried (hiredis 0.14's libuv adapter never reports them)
      await sleep(3500);
      redis = await startRedis(port); // an empty Redis: the keys must come back
      await waitFor(() => nodeKeys(port).length === 1, 'the node key again',
        { ms: 30000, servers: [srv] });
      await waitFor(() => cli(port, 'EXISTS', 'tribune:room:during-outage') === '1',
        'the room made during the outage', { ms: 8000, servers: [srv] });
      // (log lines arrive through the event loop, which cli() blocks: poll)
      await waitFor(() => /Redis 127\.0\.0\.1:\d+ is back/.test(srv.stderr()), 'the log line',
        { servers: [srv] });
    });

    it('a clean stop removes the key', async () => {
      await srv.stop();
      srv = null;
      await waitFor(() => cli(port, '--raw', 'KEYS', 'tribune:*') === '', 'every key to go',
        { ms: 3000 });
    });

    it('without `redis` in the config, nothing connects to Redis', async () => {
      const plain = await startTribune();
      try {
        await sleep(500);
        const clients = cli(port, 'CLIENT', 'LIST').split('\n').filter(Boolean);
        assert.equal(clients.length, 1, `only redis-cli itself: ${clients.join('\n')}`);
      } finally {
        await plain.stop();
      }
    });
  });

describe('Redis unreachable at start', { skip: !HAS_REDIS && 'redis-server not installed' }, () => {
  it('starts alone with a warning, serves, and registers once Redis is there', async () => {
    const port = await freePort();
    const srv = await startTribune({ configBody: ({ port: http, key, secret }) =>
      defaultConfigBody({ port: http, key, secret,
        extra: `redis:\n  address: 127.0.0.1:${port}\n` }) });
    let redis;
    try {
      await waitFor(() => /Redis 127\.0\.0\.1:\d+ unreachable/.test(srv.stderr()),
        'the warning', { servers: [srv] });
      const health = await (await fetch(`${srv.url}/healthz`)).json();
      assert.equal(health.state, 'redis_unreachable');
      const rs = new RoomServiceClient(srv.url, srv.key, srv.secret);
      await rs.createRoom({ name: 'alone' });
      assert.deepEqual((await rs.listRooms()).map((r) => r.name), ['alone']);
      await sleep(2500); // a few refused attempts
      redis = await startRedis(port);
      await waitFor(() => nodeKeys(port).length === 1 &&
        cli(port, 'EXISTS', 'tribune:room:alone') === '1', 'the node and its room in Redis',
      { ms: 30000, servers: [srv] });
      await waitFor(async () => (await (await fetch(`${srv.url}/healthz`)).json()).state ===
        'redis', '/healthz to say redis', { servers: [srv] });
    } finally {
      await srv.stop();
      await stopRedis(redis);
    }
  });
});
