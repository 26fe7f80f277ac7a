// redis_sentinel.test.mjs — tribune finding its Redis through Sentinel
// (Debian's redis-sentinel), all on free loopback ports: a master, a replica
// and one sentinel. The node registers on the master the sentinel names;
// when the master is killed and the sentinel promotes the replica, tribune
// asks again and registers on the new master. Also: sentinels that do not
// answer are skipped, none answering is an outage (logged once, tribune
// keeps serving), the sentinel credentials are sent, a node that is no
// master (a stale answer) is left, and so is a master demoted without a
// +switch-master (it answers READONLY). The last three use a fake sentinel
// (a few lines of RESP) to give those answers.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, sleep, waitFor } from './lib/redis.mjs';
import { defaultConfigBody, freePort, startTribune } from './lib/server.mjs';

const HAS_SENTINEL = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'pipe' });
    execFileSync('redis-sentinel', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

// Every process started here, killed by its PID in after().
const children = new Set();

function spawnChild(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { log += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { log += d; });
  child.log = () => log;
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

async function killChild(child, signal = 'SIGTERM') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  process.kill(child.pid, signal);
  const timer = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch { } }, 5000);
  await gone;
  clearTimeout(timer);
}

async function waitUp(port, child, what) {
  for (let i = 0; i < 50; i++) {
    try {
      if (cli(port, 'PING') === 'PONG') return child;
    } catch { /* not up yet */ }
    await sleep(100);
  }
  await killChild(child, 'SIGKILL');
  throw new Error(`${what} did not start:\n${child.log()}`);
}

// dir: where a replica keeps the copy it syncs (a temp directory).
function startRedis(dir, port, ...extra) {
  const child = spawnChild('redis-server', ['--port', String(port), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no', '--dir', dir, ...extra]);
  return waitUp(port, child, `redis-server :${port}`);
}

// Sentinel rewrites its config file: it lives in dir (a temp directory).
function startSentinel(dir, port, masterPort) {
  const conf = path.join(dir, `sentinel-${port}.conf`);
  fs.writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'logfile ""',
    `sentinel monitor m 127.0.0.1 ${masterPort} 1`, 'sentinel down-after-milliseconds m 1000',
    'sentinel failover-timeout m 3000', 'sentinel parallel-syncs m 1', ''].join('\n'));
  return waitUp(port, spawnChild('redis-sentinel', [conf]), `redis-sentinel :${port}`);
}

const nodeKeys = (port) => cli(port, '--raw', 'KEYS', 'tribune:node:*').split('\n')
  .filter(Boolean);
// The key of the node srv on the Redis at port (undefined when not there).
const nodeKeyOf = (port, srv) => nodeKeys(port)
  .find((k) => cli(port, 'HGET', k, 'http_port') === String(srv.port));
// Log lines arrive through the event loop: poll for them (cli() blocks it).
const logShows = (srv, re, what) => waitFor(() => re.test(srv.stderr()), what,
  { servers: [srv] });
const viaSentinel = (port, sport) => new RegExp(`Redis master m at 127\\.0\\.0\\.1:${port} ` +
  `\\(via sentinel 127\\.0\\.0\\.1:${sport}\\)`);
const masterOf = (sport) => cli(sport, '--raw', 'SENTINEL', 'get-master-addr-by-name', 'm')
  .split('\n').join(':');

const sentinelConfig = (addrs, more = '') => ({ port: http, key, secret }) =>
  defaultConfigBody({ port: http, key, secret, extra: 'redis:\n  sentinel_master_name: m\n' +
    `  sentinel_addresses: [${addrs.join(', ')}]\n${more}` });

// A fake sentinel (RESP over TCP) that names `answer` ("host:port") as the
// master and records the commands it gets.
async function fakeSentinel(answer) {
  const commands = [];
  const bulk = (s) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  const srv = net.createServer((sock) => {
    let buf = '';
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) { // complete arrays of bulk strings only
        const m = /^\*(\d+)\r\n/.exec(buf);
        if (!m) return;
        let at = m[0].length;
        const args = [];
        for (let i = 0; i < Number(m[1]); i++) {
          const h = /^\$(\d+)\r\n/.exec(buf.slice(at));
          if (!h || buf.length < at + h[0].length + Number(h[1]) + 2) return;
          args.push(buf.substr(at + h[0].length, Number(h[1])));
          at += h[0].length + Number(h[1]) + 2;
        }
        buf = buf.slice(at);
        commands.push(args);
        const cmd = args.join(' ').toLowerCase();
        if (cmd.startsWith('sentinel get-master-addr-by-name')) {
          const [host, port] = answer.split(':');
          sock.write(`*2\r\n${bulk(host)}${bulk(port)}`);
        } else if (cmd.startsWith('subscribe')) {
          sock.write(`*3\r\n${bulk('subscribe')}${bulk(args[1])}:1\r\n`);
        } else {
          sock.write('+OK\r\n');
        }
      }
    });
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { port: srv.address().port, commands, close: () => srv.close() };
}

describe('Redis through Sentinel', { skip: !HAS_SENTINEL && 'redis-sentinel not installed' },
  () => {
    let dir;
    let mport; // the first master
    let rport; // its replica, promoted in the failover test
    let sport; // the sentinel
    let master;
    let replica;
    const servers = new Set();

    async function tribune(configBody) {
      const srv = await startTribune({ configBody });
      servers.add(srv);
      return srv;
    }

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tribune-sentinel-'));
      [mport, rport, sport] = [await freePort(), await freePort(), await freePort()];
      master = await startRedis(dir, mport);
      replica = await startRedis(dir, rport, '--replicaof', '127.0.0.1', String(mport));
      await waitFor(() => /master_link_status:up/.test(cli(rport, 'INFO', 'replication')),
        'the replica in sync');
      await startSentinel(dir, sport, mport);
      // the sentinel must know the replica before it can promote it
      await waitFor(() => cli(sport, 'SENTINEL', 'replicas', 'm').includes(String(rport)),
        'the sentinel to see the replica', { ms: 15000 });
    });

    after(async () => {
      for (const srv of servers) await srv.stop();
      for (const child of [...children]) await killChild(child);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('registers on the master Sentinel names, and follows a failover', async () => {
      const srv = await tribune(sentinelConfig([`127.0.0.1:${sport}`]));
      const key = await waitFor(() => nodeKeyOf(mport, srv), 'the node key on the master',
        { servers: [srv] });
      assert.match(key, /^tribune:node:ND_\w+$/);
      await logShows(srv, viaSentinel(mport, sport), 'the resolution');

      const killed = Date.now();
      await killChild(master, 'SIGKILL');
      await waitFor(() => masterOf(sport) === `127.0.0.1:${rport}`,
        'Sentinel to promote the replica', { ms: 20000, servers: [srv] });
      assert.equal(cli(rport, 'ROLE').split('\n')[0], 'master');
      // a heartbeat newer than the kill can only come from tribune itself
      await waitFor(() => Number(cli(rport, 'HGET', key, 'heartbeat_ms')) > killed,
        'the node key on the new master', { ms: 30000, servers: [srv] });
      await logShows(srv, viaSentinel(rport, sport), 'the re-resolution');
      await logShows(srv, new RegExp(`Redis master m at 127\\.0\\.0\\.1:${mport} unreachable`),
        'the outage warning');
      await logShows(srv, new RegExp(`Redis master m at 127\\.0\\.0\\.1:${rport} is back`),
        'the end of the outage');
      const r = await fetch(`${srv.url}/`);
      assert.equal(await r.text(), 'OK');
      await srv.stop();
      servers.delete(srv);
      await waitFor(() => cli(rport, 'EXISTS', key) === '0', 'a clean stop to remove the key',
        { ms: 3000 });
    });

    it('skips a sentinel that does not answer', async () => {
      const dead = await freePort();
      const srv = await tribune(sentinelConfig([`127.0.0.1:${dead}`, `127.0.0.1:${sport}`]));
      await waitFor(() => nodeKeyOf(rport, srv), 'the node key', { servers: [srv] });
      await logShows(srv, viaSentinel(rport, sport), 'the resolution');
      assert.doesNotMatch(srv.stderr(), /unreachable/);
      await srv.stop();
      servers.delete(srv);
    });

    it('no sentinel answering is an outage: logged once, tribune keeps serving', async () => {
      const dead = await freePort();
      const srv = await tribune(sentinelConfig([`127.0.0.1:${dead}`]));
      await logShows(srv, new RegExp('Redis master m unreachable \\(no sentinel gave its ' +
        `address; last: 127\\.0\\.0\\.1:${dead}: .+\\): serving from this node's own state, ` +
        'retrying'), 'the outage warning');
      const r = await fetch(`${srv.url}/`);
      assert.equal(await r.text(), 'OK');
      await sleep(500); // tribune's connections (commands, pub/sub) warn once each
      const warnings = srv.stderr().match(/unreachable/g).length;
      await sleep(3000); // two more attempts each: no more warnings
      assert.equal(srv.stderr().match(/unreachable/g).length, warnings, srv.stderr());
      await srv.stop();
      servers.delete(srv);
    });

    it('sends the sentinel credentials, and leaves a node that is not a master', async () => {
      const fake = await fakeSentinel(`127.0.0.1:${rport}`);
      try {
        // the fake names the real master first: credentials, then SUBSCRIBE
        const srv = await tribune(sentinelConfig([`127.0.0.1:${fake.port}`],
          '  sentinel_username: sentu\n  sentinel_password: sentpw\n'));
        await waitFor(() => nodeKeyOf(rport, srv), 'the node key', { servers: [srv] });
        const names = fake.commands.map((c) => c[0].toUpperCase());
        assert.deepEqual(fake.commands[0], ['AUTH', 'sentu', 'sentpw']);
        assert.deepEqual(fake.commands[1], ['SENTINEL', 'get-master-addr-by-name', 'm']);
        assert.ok(names.includes('SUBSCRIBE'), names.join(' '));
        await srv.stop();
        servers.delete(srv);
      } finally {
        fake.close();
      }
      // a stale answer: a replica (of a master that is not there)
      const stalePort = await freePort();
      await startRedis(dir, stalePort, '--replicaof', '127.0.0.1', String(await freePort()));
      const stale = await fakeSentinel(`127.0.0.1:${stalePort}`);
      try {
        const srv = await tribune(sentinelConfig([`127.0.0.1:${stale.port}`]));
        await logShows(srv, new RegExp(`Redis master m at 127\\.0\\.0\\.1:${stalePort} ` +
          'unreachable \\(ROLE says slave, not master: a stale Sentinel answer\\)'),
        'the stale-answer warning');
        assert.equal(cli(stalePort, 'DBSIZE'), '0');
        await srv.stop();
        servers.delete(srv);
      } finally {
        stale.close();
      }
    });

    it('leaves a master demoted without a +switch-master (READONLY), and comes back', async () => {
      const port = await freePort();
      await startRedis(dir, port);
      const fake = await fakeSentinel(`127.0.0.1:${port}`); // never announces a switch
      try {
        const srv = await tribune(sentinelConfig([`127.0.0.1:${fake.port}`]));
        const key = await waitFor(() => nodeKeyOf(port, srv), 'the node key',
          { servers: [srv] });
        cli(port, 'REPLICAOF', '127.0.0.1', String(await freePort())); // of nobody
        await logShows(srv, new RegExp(`Redis master m at 127\\.0\\.0\\.1:${port} answered ` +
          'READONLY \\(a replica now\\): asking Sentinel again'), 'the READONLY warning');
        await logShows(srv, /ROLE says slave, not master/, 'the stale-answer warning');
        const promoted = Date.now();
        cli(port, 'REPLICAOF', 'NO', 'ONE');
        await waitFor(() => Number(cli(port, 'HGET', key, 'heartbeat_ms')) > promoted,
          'the node key written again', { ms: 20000, servers: [srv] });
        await srv.stop();
        servers.delete(srv);
      } finally {
        fake.close();
      }
    });
  });
