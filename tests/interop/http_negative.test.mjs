// http_negative.test.mjs — every bad HTTP input gets a clear 4xx (JSON
// {code, msg} on REST and Twirp) and the server keeps answering: after each
// test GET / must still say "OK".
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import net from 'node:net';
import { startTribune } from './lib/server.mjs';

let srv;
before(async () => { srv = await startTribune(); });
after(async () => { await srv?.stop(); });

// The server survives every test.
afterEach(async () => {
  const res = await fetch(`${srv.url}/`);
  assert.equal(res.status, 200, `GET / after the test: ${res.status}\n${srv.stderr()}`);
  assert.equal(await res.text(), 'OK');
});

const WRONG_SECRET = 'not_the_right_secret_0123456789_abcdefgh';

/** An HS256 LiveKit-style token. */
function token({ video = {}, sub = 'backend', key = srv.key, secret = srv.secret, ttl = 600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iss: key, sub, nbf: now - 5,
    exp: now + ttl, video })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const basicAuth = (key = srv.key, secret = srv.secret) =>
  `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;

/** fetch + read: {status, headers, text, json (or undefined)}. */
async function request(path, init = {}) {
  const res = await fetch(`${srv.url}${path}`, init);
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

/** Asserts a JSON {code, msg} error with this status (and code, msg regexp). */
function assertJsonError(r, status, code, msg) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.ok(r.json && typeof r.json === 'object', `body is not JSON: ${r.text}`);
  assert.equal(typeof r.json.code, 'string');
  assert.equal(typeof r.json.msg, 'string');
  assert.ok(r.json.msg.length > 0);
  if (code) assert.equal(r.json.code, code, r.text);
  if (msg) assert.match(r.json.msg, msg);
}

describe('REST token endpoint: bad requests', () => {
  const path = '/api/v1/rooms/neg-room/tokens';
  const post = (body, { auth = basicAuth(), type = 'application/json', p = path } = {}) => {
    const headers = {};
    if (auth) headers.Authorization = auth;
    if (type) headers['Content-Type'] = type;
    return request(p, { method: 'POST', headers,
      body: typeof body === 'string' ? body : JSON.stringify(body) });
  };

  it('a good request works (baseline)', async () => {
    const r = await post({ identity: 'alice' });
    assert.equal(r.status, 201, r.text);
    assert.equal(typeof r.json.token, 'string');
  });

  it('bad JSON → 400, msg mentions JSON', async () => {
    assertJsonError(await post('{"identity": "alice",'), 400, 'invalid_argument', /JSON/);
  });

  it('an empty body → 400 with a clear message (no parser internals)', async () => {
    const r = await post('');
    assertJsonError(r, 400, 'invalid_argument', /JSON|body/i);
    assert.doesNotMatch(r.json.msg, /line -1|wrong arguments/,
      'the message leaks the JSON parser\'s "wrong arguments (line -1, column -1)"');
  });

  it('a JSON array body → 400', async () => {
    assertJsonError(await post('[]'), 400, 'invalid_argument');
  });

  it('missing identity → 400 naming `identity`', async () => {
    assertJsonError(await post({ name: 'Alice' }), 400, 'invalid_argument', /identity/);
  });

  it('identity not a string → 400 naming `identity`', async () => {
    assertJsonError(await post({ identity: 42 }), 400, 'invalid_argument', /identity/);
    assertJsonError(await post({ identity: '' }), 400, 'invalid_argument', /identity/);
  });

  it('identity longer than limit.max_participant_identity_length → 400', async () => {
    assertJsonError(await post({ identity: 'i'.repeat(300) }), 400, 'invalid_argument',
      /identity/);
  });

  it('ttl_seconds 0 → 400 naming ttl_seconds', async () => {
    assertJsonError(await post({ identity: 'a', ttl_seconds: 0 }), 400, 'invalid_argument',
      /ttl_seconds/);
  });

  it('ttl_seconds "abc" → 400 naming ttl_seconds', async () => {
    assertJsonError(await post({ identity: 'a', ttl_seconds: 'abc' }), 400, 'invalid_argument',
      /ttl_seconds/);
  });

  it('ttl_seconds negative or fractional → 400', async () => {
    assertJsonError(await post({ identity: 'a', ttl_seconds: -5 }), 400, null, /ttl_seconds/);
    assertJsonError(await post({ identity: 'a', ttl_seconds: 1.5 }), 400, null, /ttl_seconds/);
  });

  it('an unknown field → 400 naming it', async () => {
    assertJsonError(await post({ identity: 'a', colour: 'blue' }), 400, 'invalid_argument',
      /colour/);
  });

  it('an unknown permission → 400 naming permissions.x', async () => {
    assertJsonError(await post({ identity: 'a', permissions: { x: true } }), 400,
      'invalid_argument', /permissions\.x/);
  });

  it('a non-boolean permission → 400 naming it', async () => {
    assertJsonError(await post({ identity: 'a', permissions: { can_publish: 'yes' } }), 400,
      'invalid_argument', /permissions\.can_publish/);
  });

  it('attributes with a non-string value → 400', async () => {
    assertJsonError(await post({ identity: 'a', attributes: { level: 3 } }), 400,
      'invalid_argument', /attributes/);
    assertJsonError(await post({ identity: 'a', attributes: 'team=red' }), 400,
      'invalid_argument', /attributes/);
  });

  it('a body over 64 KiB (100 KB metadata) → 413', async () => {
    assertJsonError(await post({ identity: 'a', metadata: 'm'.repeat(100_000) }), 413);
  });

  it('Content-Type text/plain → 415', async () => {
    assertJsonError(await post({ identity: 'a' }, { type: 'text/plain' }), 415);
  });

  it('no credentials → 401 with WWW-Authenticate', async () => {
    const r = await post({ identity: 'a' }, { auth: null });
    assertJsonError(r, 401, 'unauthenticated');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic/);
  });

  it('Basic with the wrong secret → 401', async () => {
    const r = await post({ identity: 'a' }, { auth: basicAuth(srv.key, WRONG_SECRET) });
    assertJsonError(r, 401, 'unauthenticated');
    assert.doesNotMatch(r.text, new RegExp(WRONG_SECRET), 'the secret is echoed back');
  });

  it('Basic with an unknown key → 401', async () => {
    assertJsonError(await post({ identity: 'a' }, { auth: basicAuth('nosuchkey', srv.secret) }),
      401, 'unauthenticated');
  });

  it('Basic with garbage (not base64) → 401', async () => {
    assertJsonError(await post({ identity: 'a' }, { auth: 'Basic !!!not*base64!!!' }), 401,
      'unauthenticated');
  });

  it('an unsupported Authorization scheme → 401', async () => {
    assertJsonError(await post({ identity: 'a' }, { auth: 'Digest username="x"' }), 401,
      'unauthenticated');
  });

  it('Bearer with a malformed token → 401', async () => {
    assertJsonError(await post({ identity: 'a' }, { auth: 'Bearer not.a.jwt' }), 401,
      'unauthenticated');
  });

  it('/api/v1/rooms//tokens (empty room) → 404', async () => {
    assertJsonError(await post({ identity: 'a' }, { p: '/api/v1/rooms//tokens' }), 404);
  });

  it('GET on the token endpoint → 405 with Allow: POST', async () => {
    const r = await request(path);
    assertJsonError(r, 405, 'method_not_allowed');
    assert.equal(r.headers.get('allow'), 'POST');
  });

  it('a room name of 300 characters → 400', async () => {
    assertJsonError(await post({ identity: 'a' }, { p: `/api/v1/rooms/${'r'.repeat(300)}/tokens` }),
      400, 'invalid_argument', /room/);
  });
});

describe('Twirp RoomService: bad requests', () => {
  const twirp = (method, body, { type = 'application/json', auth } = {}) => {
    const headers = {};
    if (type) headers['Content-Type'] = type;
    if (auth !== undefined) headers.Authorization = auth;
    return request(`/twirp/livekit.RoomService/${method}`, { method: 'POST', headers,
      body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });
  };
  const create = () => `Bearer ${token({ video: { roomCreate: true, roomList: true } })}`;

  before(async () => {
    const r = await twirp('CreateRoom', { name: 'room-a' }, { auth: create() });
    assert.equal(r.status, 200, r.text);
    const r2 = await twirp('CreateRoom', { name: 'room-b' }, { auth: create() });
    assert.equal(r2.status, 200, r2.text);
  });

  it('an unknown method → 404 bad_route', async () => {
    assertJsonError(await twirp('FlyToTheMoon', {}, { auth: create() }), 404, 'bad_route');
  });

  it('an unknown service → 404 bad_route', async () => {
    const r = await request('/twirp/livekit.Egress/ListEgress', { method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: create() }, body: '{}' });
    assertJsonError(r, 404, 'bad_route');
  });

  it('a wrong Content-Type → 404 bad_route (Twirp semantics)', async () => {
    assertJsonError(await twirp('ListRooms', {}, { type: 'text/plain', auth: create() }), 404,
      'bad_route', /Content-Type/i);
  });

  it('malformed JSON → 400 malformed', async () => {
    assertJsonError(await twirp('CreateRoom', '{"name": ', { auth: create() }), 400,
      'malformed');
  });

  it('malformed protobuf → 400 malformed', async () => {
    assertJsonError(await twirp('CreateRoom', new Uint8Array([0x0a, 0xff, 0xff, 0xff]), {
      type: 'application/protobuf', auth: create() }), 400, 'malformed');
  });

  it('no token → 401 unauthenticated', async () => {
    assertJsonError(await twirp('CreateRoom', { name: 'x' }), 401, 'unauthenticated');
    assertJsonError(await twirp('ListRooms', {}), 401, 'unauthenticated');
  });

  it('a token signed with the wrong secret → 401 unauthenticated', async () => {
    const auth = `Bearer ${token({ video: { roomCreate: true }, secret: WRONG_SECRET })}`;
    assertJsonError(await twirp('CreateRoom', { name: 'x' }, { auth }), 401, 'unauthenticated');
  });

  it('an Authorization header that is not Bearer → 401 unauthenticated', async () => {
    assertJsonError(await twirp('ListRooms', {}, { auth: basicAuth() }), 401, 'unauthenticated');
  });

  it('a token lacking roomCreate for CreateRoom → 401 unauthenticated', async () => {
    const auth = `Bearer ${token({ video: { roomJoin: true, room: 'x', roomList: true } })}`;
    assertJsonError(await twirp('CreateRoom', { name: 'x' }, { auth }), 401, 'unauthenticated');
  });

  it('roomAdmin for room A used on room B ListParticipants → 401', async () => {
    const auth = `Bearer ${token({ video: { roomAdmin: true, room: 'room-a' } })}`;
    const ok = await twirp('ListParticipants', { room: 'room-a' }, { auth });
    assert.equal(ok.status, 200, ok.text);
    assertJsonError(await twirp('ListParticipants', { room: 'room-b' }, { auth }), 401,
      'unauthenticated');
  });

  it('an oversize body (> 64 KiB) → 400 malformed', async () => {
    assertJsonError(await twirp('CreateRoom', { name: 'x', metadata: 'm'.repeat(100_000) },
      { auth: create() }), 400, 'malformed');
  });

  it('a wrong JSON field type ({"name": 5}) → 400 malformed', async () => {
    assertJsonError(await twirp('CreateRoom', { name: 5 }, { auth: create() }), 400,
      'malformed', /name/);
  });

  it('an empty room name → 400 invalid_argument', async () => {
    assertJsonError(await twirp('CreateRoom', { name: '' }, { auth: create() }), 400,
      'invalid_argument');
  });

  it('Twirp errors carry Content-Type application/json exactly (the SDK compares it)',
    async () => {
      const r = await twirp('FlyToTheMoon', {});
      assert.equal(r.headers.get('content-type'), 'application/json');
      const r2 = await twirp('CreateRoom', { name: 'x' });
      assert.equal(r2.headers.get('content-type'), 'application/json');
    });
});

describe('routing, CORS, health and metrics', () => {
  it('an unknown route → 404 JSON', async () => {
    assertJsonError(await request('/no/such/route'), 404, 'not_found');
    assertJsonError(await request('/no/such/route', { method: 'POST', body: 'x' }), 404);
  });

  // RFC 9110 §9.1: general-purpose servers MUST support GET and HEAD; health
  // probes such as `wget --spider` send HEAD, and livekit-server answers 200.
  it('HEAD / and HEAD /healthz answer 200 like GET, without a body', async () => {
    for (const path of ['/', '/healthz']) {
      const r = await request(path, { method: 'HEAD' });
      assert.equal(r.status, 200, `HEAD ${path}: ${r.status}`);
      assert.equal(r.text, '');
    }
  });

  it('OPTIONS preflight on /twirp/... → 204 with Access-Control-Allow-Methods', async () => {
    const r = await request('/twirp/livekit.RoomService/ListRooms', { method: 'OPTIONS',
      headers: { Origin: 'http://frontend.example', 'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type' } });
    assert.equal(r.status, 204);
    assert.match(r.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(r.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
  });

  it('OPTIONS preflight on /rtc/validate → 204', async () => {
    const r = await request('/rtc/validate', { method: 'OPTIONS',
      headers: { Origin: 'http://frontend.example', 'Access-Control-Request-Method': 'GET' } });
    assert.equal(r.status, 204);
    assert.match(r.headers.get('access-control-allow-methods') ?? '', /GET/);
  });

  it('/rtc/validate with bad tokens answers 401 (feeds the counters)', async () => {
    const bad = token({ video: { roomJoin: true, room: 'r' }, secret: WRONG_SECRET });
    let r = await request(`/rtc/validate?access_token=${bad}`);
    assert.equal(r.status, 401);
    r = await request(`/rtc/validate?access_token=${token({ video: { roomJoin: true, room: 'r' },
      key: 'nosuchkey' })}`);
    assert.equal(r.status, 401);
    r = await request('/rtc/validate?access_token=garbage');
    assert.equal(r.status, 401);
  });

  it('GET /healthz returns JSON with status ok', async () => {
    const r = await request('/healthz');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(r.json?.status, 'ok');
  });

  it('GET /metrics counts requests by route/status and token results', async () => {
    const r = await request('/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const value = (re) => {
      const line = r.text.split('\n').find((l) => re.test(l));
      assert.ok(line, `no metrics line matching ${re}\n${r.text}`);
      return Number(line.trim().split(/\s+/).pop());
    };
    assert.ok(value(/^tribune_http_requests_total\{route="\/api\/v1\/rooms\/tokens",status="401"\} /) > 0);
    assert.ok(value(/^tribune_http_requests_total\{route="\/rtc\/validate",status="401"\} /) > 0);
    assert.ok(value(/^tribune_http_requests_total\{route="[^"]*",status="413"\} /) > 0);
    assert.ok(value(/^tribune_http_requests_total\{route="[^"]*",status="404"\} /) > 0);
    assert.ok(value(/^tribune_token_validations_total\{result="bad_signature"\} /) > 0);
    assert.ok(value(/^tribune_token_validations_total\{result="unknown_key"\} /) > 0);
    assert.ok(value(/^tribune_token_validations_total\{result="malformed"\} /) > 0);
    assert.ok(value(/^tribune_token_validations_total\{result="ok"\} /) > 0);
  });
});

describe('a burst of bad requests', () => {
  it('200 sequential bad requests of mixed kinds, then a good one still works', async () => {
    const json = { 'Content-Type': 'application/json' };
    const badSig = `Bearer ${token({ video: { roomCreate: true }, secret: WRONG_SECRET })}`;
    const kinds = [
      () => request('/api/v1/rooms/burst/tokens', { method: 'POST',
        headers: { ...json, Authorization: basicAuth() }, body: '{"identity":' }),
      () => request('/api/v1/rooms/burst/tokens', { method: 'POST', headers: json,
        body: '{"identity":"a"}' }),
      () => request('/api/v1/rooms/burst/tokens', { method: 'POST',
        headers: { ...json, Authorization: 'Basic %%%' }, body: '{}' }),
      () => request('/twirp/livekit.RoomService/CreateRoom', { method: 'POST',
        headers: { ...json, Authorization: badSig }, body: '{"name":"x"}' }),
      () => request('/twirp/livekit.RoomService/Nope', { method: 'POST', headers: json,
        body: '{}' }),
      () => request('/twirp/livekit.RoomService/CreateRoom', { method: 'POST',
        headers: { 'Content-Type': 'application/protobuf', Authorization: badSig },
        body: new Uint8Array([0x0a, 0xff]) }),
      () => request('/rtc/validate?access_token=a.b.c'),
      () => request(`/nowhere/${'x'.repeat(200)}`),
      () => request('/api/v1/rooms/burst/tokens'),
      () => request('/api/v1/rooms/burst/tokens', { method: 'POST',
        headers: { ...json, Authorization: basicAuth() },
        body: JSON.stringify({ identity: 'a', metadata: 'm'.repeat(70_000) }) }),
    ];
    const statuses = new Map();
    for (let i = 0; i < 200; i++) {
      const r = await kinds[i % kinds.length]();
      assert.ok(r.status >= 400 && r.status < 500,
        `request kind ${i % kinds.length} answered ${r.status}: ${r.text}`);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    assert.ok(statuses.size >= 5, `expected a mix of 4xx, got ${[...statuses.keys()]}`);
    const good = await request('/api/v1/rooms/burst/tokens', { method: 'POST',
      headers: { ...json, Authorization: basicAuth() }, body: '{"identity":"after-burst"}' });
    assert.equal(good.status, 201, good.text);
    const v = await request(`/rtc/validate?access_token=${good.json.token}`);
    assert.equal(v.status, 200, v.text);
  });
});

/**
 * Writes raw bytes on a fresh TCP connection and collects what comes back
 * until the server closes it, a full response with Content-Length arrived,
 * or waitMs passed. Resolves to {data, status (or null), closed, ms}.
 */
function rawExchange(payload, waitMs = 2000) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = net.connect(srv.port, '127.0.0.1');
    let data = '';
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ data, status: m ? Number(m[1]) : null, closed, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    sock.setEncoding('latin1');
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d) => {
      data += d;
      const head = data.indexOf('\r\n\r\n');
      const cl = /\r\ncontent-length: *(\d+)/i.exec(data);
      if (head >= 0 && cl && data.length - head - 4 >= Number(cl[1])) finish(false);
    });
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
  });
}

describe('connection handling', () => {
  it('a POST without Content-Length (no body) is answered, not left hanging', async () => {
    // RFC 9112 §6.3: no Content-Length and no Transfer-Encoding means an
    // empty body; e.g. `curl -X POST -u key:secret .../tokens` sends this.
    const auth = basicAuth();
    const r = await rawExchange('POST /api/v1/rooms/nocl/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Authorization: ${auth}\r\nContent-Type: application/json\r\n\r\n`);
    assert.ok(r.status !== null, `no response within ${r.ms} ms (got ${JSON.stringify(r.data)})`);
    assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
  });

  it('a POST without Content-Length to an unknown route is answered 404', async () => {
    const r = await rawExchange('POST /no/such/route HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal(r.status, 404, `no 404 within ${r.ms} ms (got ${JSON.stringify(r.data)})`);
  });

  it('a chunked request body (fetch with a stream body) is served or refused with 411',
    async () => {
      const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('{}')); c.close(); } });
      let status;
      try {
        const res = await fetch(`${srv.url}/twirp/livekit.RoomService/ListRooms`, {
          method: 'POST', body, duplex: 'half', signal: AbortSignal.timeout(2000),
          headers: { 'Content-Type': 'application/json',
            Authorization: `Bearer ${token({ video: { roomList: true } })}` } });
        status = res.status;
        await res.arrayBuffer();
      } catch (e) {
        assert.fail(`no answer to a chunked POST: ${e.message}`);
      }
      assert.ok(status === 200 || status === 411, `status ${status}`);
    });

  it('bytes that are not HTTP get an error or a close, and nothing else is disturbed',
    async () => {
      for (const junk of ['\x00\x01\x02\xff\r\n\r\n', 'HELLO WORLD\r\n\r\n',
        'GET /\x01\x02 HTTP/1.1\r\n\r\n']) {
        const r = await rawExchange(junk, 1000);
        assert.ok(r.closed || (r.status >= 400 && r.status < 600),
          `junk ${JSON.stringify(junk)}: ${JSON.stringify(r.data.slice(0, 80))}`);
      }
    });

  it('pipelined requests on one connection are both answered', async () => {
    const r = await new Promise((resolve) => {
      const sock = net.connect(srv.port, '127.0.0.1');
      let data = '';
      sock.setEncoding('latin1');
      sock.on('connect', () => sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      sock.on('data', (d) => { data += d; });
      const timer = setTimeout(() => sock.destroy(), 2000);
      sock.on('close', () => { clearTimeout(timer); resolve(data); });
      sock.on('error', () => {});
    });
    assert.equal((r.match(/HTTP\/1\.1 200/g) ?? []).length, 2, r);
    assert.match(r, /"status":"ok"/);
  });

  it('40 idle TCP connections do not stop the server answering others', async () => {
    const idle = [];
    try {
      for (let i = 0; i < 40; i++) {
        const s = net.connect(srv.port, '127.0.0.1');
        s.on('error', () => {});
        idle.push(s);
      }
      await Promise.all(idle.map((s) => new Promise((r) => {
        if (s.readyState === 'open') r(); else { s.once('connect', r); s.once('close', r); }
      })));
      const t0 = Date.now();
      let res;
      try {
        res = await fetch(`${srv.url}/`, { signal: AbortSignal.timeout(1500) });
      } catch (e) {
        assert.fail(`GET / not answered within ${Date.now() - t0} ms while 40 idle ` +
          `connections are open: ${e.message}`);
      }
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'OK');
    } finally {
      for (const s of idle) s.destroy();
    }
  });
});
