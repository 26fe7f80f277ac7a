// cli.test.mjs — the tribune command line: --check-config on LiveKit configs,
// config errors and warnings, environment and flag overrides, --version,
// `tribune token create`, --dev's loopback listeners and prometheus.port.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenVerifier } from 'livekit-server-sdk';
import { freePort, runTribune, startTribune } from './lib/server.mjs';

const PEEKLE = 'conf/examples/peekle-livekit.yaml'; // relative to the repo root (runTribune's cwd)
const PEEKLE_SECRET = 'peekle_livekit_secret_at_least_32_chars_long';
const PEEKLE_REDIS_PASSWORD = 'peekle-redis-password';
const KEYS = 'keys:\n  k1: k1_secret_0123456789_abcdefghijklmnopq\n';
const K1_SECRET = 'k1_secret_0123456789_abcdefghijklmnopq';

/** The lines of a top-level YAML section (`name:` up to the next top-level key). */
function section(yaml, name) {
  const lines = yaml.split('\n');
  const start = lines.findIndex((l) => l === `${name}:` || l.startsWith(`${name}: `));
  assert.ok(start >= 0, `no top-level \`${name}\` in:\n${yaml}`);
  const out = [lines[start]];
  for (const l of lines.slice(start + 1)) {
    if (l && !l.startsWith(' ') && !l.startsWith('-') && !l.startsWith('#')) break;
    out.push(l);
  }
  return out.join('\n');
}

const checkConfig = (args, env) => runTribune(['--check-config', ...args], { env });

describe('--check-config', () => {
  it('loads the Peekle deployment\'s livekit.yaml unchanged, secrets masked', async () => {
    const r = await checkConfig(['--config', PEEKLE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^port: 7880$/m);
    const rtc = section(r.stdout, 'rtc');
    assert.match(rtc, /^ {2}udp_port: 7882$/m);
    assert.match(rtc, /^ {2}tcp_port: 7881$/m);
    assert.match(rtc, /^ {2}use_external_ip: true$/m);
    assert.match(section(r.stdout, 'redis'), /address: "?127\.0\.0\.1:6379"?/);
    assert.match(section(r.stdout, 'keys'), /livekit_api_key/);
    const turn = section(r.stdout, 'turn');
    assert.match(turn, /domain: "?i14a408\.p\.ssafy\.io"?/);
    assert.match(turn, /tls_port: 5349/);
    assert.match(turn, /udp_port: 3478/);
    assert.match(turn, /external_tls: true/);
    for (const secret of [PEEKLE_SECRET, PEEKLE_REDIS_PASSWORD]) {
      assert.ok(!r.stdout.includes(secret), `stdout shows \`${secret}\``);
      assert.ok(!r.stderr.includes(secret), `stderr shows \`${secret}\``);
    }
  });

  it('a typo key fails (exit 1) with a suggestion and the line number', async () => {
    const r = await checkConfig(['--config-body', `${KEYS}rtc:\n  udp_prot: 7882\n`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /unknown key `rtc\.udp_prot`/);
    assert.match(r.stderr, /did you mean `rtc\.udp_port`/);
    assert.match(r.stderr, /:4:\d+|line 4/, 'the error names line 4');
  });

  it('a type error (port: abc) fails naming `port`', async () => {
    const r = await checkConfig(['--config-body', `port: abc\n${KEYS}`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /`port`/);
    assert.match(r.stderr, /abc/);
  });

  it('an out-of-range port (70000) fails', async () => {
    const r = await checkConfig(['--config-body', `port: 70000\n${KEYS}`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /port/);
    assert.match(r.stderr, /70000/);
  });

  it('a missing config file fails naming the file', async () => {
    const r = await checkConfig(['--config', 'conf/examples/no-such-file.yaml']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no-such-file\.yaml/);
  });

  it('no keys at all fails with a hint', async () => {
    const r = await checkConfig(['--config-body', 'port: 7880\n']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /keys/);
  });

  it('a LiveKit setting tribune does not implement is accepted with a warning', async () => {
    const r = await checkConfig(['--config-body', `${KEYS}video:\n  dynacast_pause_delay: 5s\n`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning/i);
    assert.match(r.stderr, /video/);
  });

  it('the warning does not make the file invalid: the rest still applies', async () => {
    const r = await checkConfig(['--config-body',
      `${KEYS}port: 7990\nvideo:\n  dynacast_pause_delay: 5s\n`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^port: 7990$/m);
  });
});

describe('environment and flag overrides', () => {
  it('LIVEKIT_KEYS provides key k1 (secret masked)', async () => {
    const r = await checkConfig([], { LIVEKIT_KEYS: `k1: ${K1_SECRET}` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(section(r.stdout, 'keys'), /"?k1"?: "\*+"/);
    assert.ok(!r.stdout.includes(K1_SECRET) && !r.stderr.includes(K1_SECRET));
  });

  it('UDP_PORT=9000 sets rtc.udp_port', async () => {
    const r = await checkConfig([], { LIVEKIT_KEYS: `k1: ${K1_SECRET}`, UDP_PORT: '9000' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(section(r.stdout, 'rtc'), /^ {2}udp_port: 9000$/m);
  });

  it('NODE_IP=203.0.113.7 sets rtc.node_ip', async () => {
    const r = await checkConfig([], { LIVEKIT_KEYS: `k1: ${K1_SECRET}`, NODE_IP: '203.0.113.7' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(section(r.stdout, 'rtc'), /node_ip: "?203\.0\.113\.7"?/);
  });

  it('REDIS_HOST=127.0.0.1:6390 sets redis.address', async () => {
    const r = await checkConfig([], { LIVEKIT_KEYS: `k1: ${K1_SECRET}`,
      REDIS_HOST: '127.0.0.1:6390' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(section(r.stdout, 'redis'), /address: "?127\.0\.0\.1:6390"?/);
  });

  it('environment overrides the config file', async () => {
    const r = await checkConfig(['--config', PEEKLE], { UDP_PORT: '9000',
      REDIS_HOST: '127.0.0.1:6390' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(section(r.stdout, 'rtc'), /^ {2}udp_port: 9000$/m);
    assert.match(section(r.stdout, 'redis'), /address: "?127\.0\.0\.1:6390"?/);
  });

  it('flags override the environment (--udp-port, --node-ip, --keys)', async () => {
    const r = await checkConfig(['--udp-port', '9100', '--node-ip', '198.51.100.9',
      '--keys', `k2: ${K1_SECRET}`],
    { LIVEKIT_KEYS: `k1: ${K1_SECRET}`, UDP_PORT: '9000', NODE_IP: '203.0.113.7' });
    assert.equal(r.code, 0, r.stderr);
    const rtc = section(r.stdout, 'rtc');
    assert.match(rtc, /^ {2}udp_port: 9100$/m);
    assert.match(rtc, /node_ip: "?198\.51\.100\.9"?/);
    const keys = section(r.stdout, 'keys');
    assert.match(keys, /k2/);
    assert.doesNotMatch(keys, /k1/);
  });

  it('a bad UDP_PORT is an error naming its source', async () => {
    const r = await checkConfig([], { LIVEKIT_KEYS: `k1: ${K1_SECRET}`, UDP_PORT: 'abc' });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /UDP_PORT/);
  });

  it('LIVEKIT_CONFIG carrying YAML works like --config-body', async () => {
    const r = await checkConfig([], { LIVEKIT_CONFIG: `port: 7999\n${KEYS}rtc:\n  udp_port: 7333\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^port: 7999$/m);
    assert.match(section(r.stdout, 'rtc'), /^ {2}udp_port: 7333$/m);
    assert.match(section(r.stdout, 'keys'), /k1/);
  });

  it('errors in LIVEKIT_CONFIG are reported like --config-body ones', async () => {
    const r = await checkConfig([], { LIVEKIT_CONFIG: `${KEYS}rtc:\n  udp_prot: 7882\n` });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown key `rtc\.udp_prot`/);
    assert.match(r.stderr, /LIVEKIT_CONFIG/);
  });
});

describe('version and bad flags', () => {
  it('--version prints the version and the SRTP backend', async () => {
    const r = await runTribune(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /tribune \d+\.\d+\.\d+/);
    assert.match(r.stdout, /^SRTP: \S.*$/m);
  });

  it('--bogus-flag exits non-zero naming the flag', async () => {
    const r = await runTribune(['--bogus-flag']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--bogus-flag/);
  });

  it('--config and --config-body together are refused', async () => {
    const r = await runTribune(['--check-config', '--config', PEEKLE, '--config-body', 'port: 1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /exclusive|both|together/);
  });
});

describe('tribune token create', () => {
  const decode = async (stdout, key, secret) => {
    const token = stdout.trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, `not a JWT: ${stdout}`);
    return new TokenVerifier(key, secret).verify(token);
  };

  it('--dev mints a token for devkey/secret the SDK verifies', async () => {
    const r = await runTribune(['token', 'create', '--dev', '--room', 'r', '--identity', 'i',
      '--name', 'N', '--ttl', '10m', '--no-publish']);
    assert.equal(r.code, 0, r.stderr);
    const c = await decode(r.stdout, 'devkey', 'secret');
    assert.equal(c.sub, 'i');
    assert.equal(c.name, 'N');
    assert.equal(c.video.room, 'r');
    assert.equal(c.video.roomJoin, true);
    assert.equal(c.video.canPublish, false);
    assert.equal(c.exp - c.nbf, 600);
  });

  it('--api-key/--api-secret sign with that pair', async () => {
    const secret = 'cli_secret_0123456789_abcdefghijklmnopqrs';
    const r = await runTribune(['token', 'create', '--api-key', 'K', '--api-secret', secret,
      '--room', 'r2', '--identity', 'bob', '--metadata', '{"x":1}', '--room-admin']);
    assert.equal(r.code, 0, r.stderr);
    const c = await decode(r.stdout, 'K', secret);
    assert.equal(c.iss, 'K');
    assert.equal(c.sub, 'bob');
    assert.equal(c.metadata, '{"x":1}');
    assert.equal(c.video.room, 'r2');
    assert.equal(c.video.roomAdmin, true);
    await assert.rejects(new TokenVerifier('devkey', 'secret').verify(r.stdout.trim()));
  });

  it('the key of a config file is used when no --api-key is given', async () => {
    const r = await runTribune(['token', 'create', '--config', PEEKLE, '--room', 'study-1',
      '--identity', 'u1']);
    assert.equal(r.code, 0, r.stderr);
    const c = await decode(r.stdout, 'livekit_api_key', PEEKLE_SECRET);
    assert.equal(c.video.room, 'study-1');
  });

  it('missing --room exits non-zero with a message', async () => {
    const r = await runTribune(['token', 'create', '--dev', '--identity', 'i']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--room/);
    assert.equal(r.stdout.trim(), '');
  });

  it('a bad --ttl exits non-zero', async () => {
    const r = await runTribune(['token', 'create', '--dev', '--room', 'r', '--identity', 'i',
      '--ttl', 'forever']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ttl/i);
  });
});

describe('running servers', () => {
  const servers = [];
  after(async () => { await Promise.all(servers.map((s) => s.stop())); });

  it('--dev listens on 127.0.0.1 and ::1 and accepts devkey tokens', async () => {
    const port = await freePort();
    const srv = await startTribune({ port, configBody: `port: ${port}\n`, args: ['--dev'] });
    servers.push(srv);
    for (const host of ['127.0.0.1', '[::1]']) {
      const res = await fetch(`http://${host}:${port}/`);
      assert.equal(res.status, 200, host);
      assert.equal(await res.text(), 'OK', host);
    }
    const t = await runTribune(['token', 'create', '--dev', '--room', 'dev-room',
      '--identity', 'dev-user']);
    assert.equal(t.code, 0, t.stderr);
    const v = await fetch(`http://[::1]:${port}/rtc/validate?access_token=${t.stdout.trim()}`);
    assert.equal(v.status, 200);
    assert.equal(await v.text(), 'success');
    const stopped = await srv.stop();
    assert.equal(stopped.code, 0, `exit after SIGTERM: ${JSON.stringify(stopped)}\n${srv.stderr()}`);
  });

  it('prometheus.port serves /metrics only', async () => {
    const port = await freePort();
    let metricsPort = await freePort();
    while (metricsPort === port) metricsPort = await freePort();
    const srv = await startTribune({ port, configBody: ({ key, secret }) =>
      `port: ${port}\nbind_addresses: [127.0.0.1]\nkeys:\n  ${key}: ${secret}\n` +
      `prometheus:\n  port: ${metricsPort}\n` });
    servers.push(srv);
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^tribune_build_info\{/m);
    const twirp = await fetch(`http://127.0.0.1:${metricsPort}/twirp/livekit.RoomService/ListRooms`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(twirp.status, 404);
    await twirp.arrayBuffer();
    const tokens = await fetch(`http://127.0.0.1:${metricsPort}/api/v1/rooms/r/tokens`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(tokens.status, 404);
    await tokens.arrayBuffer();
    // the main port still serves the API
    const main = await fetch(`${srv.url}/twirp/livekit.RoomService/ListRooms`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(main.status, 401);
    await main.arrayBuffer();
  });
});
