// app.test.mjs — the web app routes: static files under /app/ from app_dir
// (content types, ETag/304, HEAD, no listing, path traversal and symlinks out
// of the directory refused), app_dir unset, --dev serving ./web/dist, and the
// dev-only POST /app/token (absent without --dev; its tokens verified by
// livekit-server-sdk's TokenVerifier with devkey/secret).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TokenVerifier } from 'livekit-server-sdk';
import { defaultConfigBody, freePort, freeUdpPort, runTribune, startTribune }
  from './lib/server.mjs';

// Outside the app directory; no answer may ever contain it.
const SECRET = `TOP-SECRET-${randomBytes(8).toString('hex')}`;
const FILES = {
  'index.html': '<!doctype html><title>debate</title><script src="app.js"></script>',
  'app.js': 'console.log("debate");\n',
  'style.css': 'body { margin: 0 }\n',
  'icon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
  'data.json': '{"a":1}',
  'blob.xyz': 'raw',
  'sub/page.txt': 'a page in a subdirectory',
  'assets/index-AbCd1234.js': 'export default 1;\n',
};

let tmp;       // temp root: app/, tribune.yaml and outside/secret.txt
let appDir;
let srv;       // app_dir set, not development mode

/**
 * One request with the path sent exactly as given (fetch would normalise
 * `..` and backslashes first). Resolves to {status, headers, body}; status is
 * null when the server closed the connection without an answer.
 */
function rawGet(port, rawPath, { method = 'GET', timeoutMs = 3000 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const split = text.indexOf('\r\n\r\n');
      const head = split >= 0 ? text.slice(0, split) : text;
      const headers = {};
      for (const line of head.split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: m ? Number(m[1]) : null, headers,
        body: split >= 0 ? text.slice(split + 4) : '' });
    };
    const timer = setTimeout(finish, timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', finish);
    sock.on('close', finish);
    sock.on('error', finish);
    sock.write(Buffer.from(`${method} ${rawPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      'Connection: close\r\n\r\n', 'latin1'));
  });
}

function writeTree(root, files) {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
}

before(async () => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tribune-app-')));
  appDir = path.join(tmp, 'app');
  writeTree(appDir, FILES);
  writeTree(tmp, { 'tribune.yaml': `# ${SECRET}\n`, 'outside/secret.txt': SECRET });
  fs.writeFileSync(path.join(appDir, '.env'), SECRET);        // hidden file
  fs.writeFileSync(path.join(appDir, 'a\\b'), SECRET);        // a backslash in the name
  fs.symlinkSync('../outside/secret.txt', path.join(appDir, 'out.txt'));
  fs.symlinkSync('..', path.join(appDir, 'up'));
  fs.symlinkSync('index.html', path.join(appDir, 'alias.html')); // stays inside: served
  srv = await startTribune({ configBody: ({ port, key, secret }) =>
    defaultConfigBody({ port, key, secret, extra: `app_dir: "${appDir}"\n` }) });
});

after(async () => {
  await srv?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const get = (p, init) => fetch(`${srv.url}${p}`, init);

describe('static files under /app/', () => {
  it('/app/ is index.html: text/html, no-cache, nosniff, a quoted ETag', async () => {
    const res = await get('/app/');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), FILES['index.html']);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('etag') ?? '', /^"[^"]+"$/);
  });

  it('/app redirects to /app/ (301)', async () => {
    const res = await get('/app', { redirect: 'manual' });
    assert.equal(res.status, 301);
    assert.equal(res.headers.get('location'), '/app/');
    const followed = await get('/app');
    assert.equal(followed.status, 200);
    assert.equal(await followed.text(), FILES['index.html']);
  });

  it('content types by extension; assets/ is immutable, the rest no-cache', async () => {
    const want = {
      'app.js': 'text/javascript; charset=utf-8',
      'style.css': 'text/css; charset=utf-8',
      'icon.svg': 'image/svg+xml',
      'data.json': 'application/json',
      'blob.xyz': 'application/octet-stream',
      'sub/page.txt': 'text/plain; charset=utf-8',
      'assets/index-AbCd1234.js': 'text/javascript; charset=utf-8',
    };
    for (const [rel, type] of Object.entries(want)) {
      const res = await get(`/app/${rel}`);
      assert.equal(res.status, 200, rel);
      assert.equal(await res.text(), FILES[rel], rel);
      assert.equal(res.headers.get('content-type'), type, rel);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', rel);
      assert.equal(res.headers.get('cache-control'), rel.startsWith('assets/')
        ? 'public, max-age=31536000, immutable' : 'no-cache', rel);
    }
  });

  it('If-None-Match with the ETag → 304 without a body; a changed file → 200', async () => {
    const first = await get('/app/style.css');
    await first.text();
    const etag = first.headers.get('etag');
    assert.ok(etag);
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const res = await get('/app/style.css', { headers: { 'If-None-Match': inm } });
      assert.equal(res.status, 304, inm);
      assert.equal(await res.text(), '');
      assert.equal(res.headers.get('etag'), etag);
    }
    const other = await get('/app/style.css', { headers: { 'If-None-Match': '"other"' } });
    assert.equal(other.status, 200);
    assert.equal(await other.text(), FILES['style.css']);
    fs.writeFileSync(path.join(appDir, 'style.css'), 'body { margin: 1px }\n');
    try {
      const changed = await get('/app/style.css', { headers: { 'If-None-Match': etag } });
      assert.equal(changed.status, 200);
      assert.equal(await changed.text(), 'body { margin: 1px }\n');
      assert.notEqual(changed.headers.get('etag'), etag);
    } finally {
      fs.writeFileSync(path.join(appDir, 'style.css'), FILES['style.css']);
    }
  });

  it('HEAD answers the headers of GET and no body', async () => {
    const res = await rawGet(srv.port, '/app/app.js', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(FILES['app.js'])));
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(res.body, '');
  });

  it('a symlink that stays inside the directory is served', async () => {
    const res = await get('/app/alias.html');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), FILES['index.html']);
  });

  it('directories are not listed: /app/sub, /app/sub/, /app/assets/ → 404', async () => {
    for (const p of ['/app/sub', '/app/sub/', '/app/assets/']) {
      const res = await get(p);
      assert.equal(res.status, 404, p);
      assert.doesNotMatch(await res.text(), /page\.txt|index-AbCd/, p);
    }
  });

  it('a missing file → 404 JSON not_found', async () => {
    const res = await get('/app/nope.js');
    assert.equal(res.status, 404);
    assert.equal((await res.json()).code, 'not_found');
  });

  // Each is sent byte for byte. libwebsockets resolves `..` (also %2e%2e and
  // %2f) before routing, so some of these end up outside /app/ and get the
  // router's 404; the others reach the handler, which refuses them.
  const attempts = [
    '/app/../tribune.yaml',
    '/app/%2e%2e/tribune.yaml',
    '/app/%2E%2E/tribune.yaml',
    '/app/sub/../../tribune.yaml',
    '/app/..%2ftribune.yaml',
    '/app/..%2Ftribune.yaml',
    '/app/..\\tribune.yaml',
    '/app/..%5ctribune.yaml',
    '/app/sub\\..\\..\\tribune.yaml',
    '/app/a\\b',            // exists, but has a backslash
    '/app/a%5cb',
    '/app/.env',            // exists, hidden
    '/app/out.txt',         // symlink to ../outside/secret.txt
    '/app/up/outside/secret.txt', // symlink to ..
    '/app/up/tribune.yaml',
    '/app//etc/passwd',
    '/app/%2fetc/passwd',
    `/app/${'%2e%2e/'.repeat(12)}etc/passwd`,
    `/app${tmp}/outside/secret.txt`,
  ];
  for (const p of attempts) {
    it(`traversal attempt ${JSON.stringify(p)} → 404, nothing from outside`, async () => {
      const res = await rawGet(srv.port, p);
      assert.equal(res.status, 404, `${p}: ${res.status}\n${res.body}`);
      assert.ok(!res.body.includes(SECRET), `${p} leaked the secret`);
      assert.doesNotMatch(res.body, /root:x:0:0/, `${p} leaked /etc/passwd`);
    });
  }

  it('a NUL byte (%00) in the path never serves the file named before it', async () => {
    // libwebsockets drops some of these connections (status null); the rest
    // get tribune's 400 (a path with a NUL goes to no route)
    for (const p of ['/app/index.html%00.png', '/app/out.txt%00', '/app/sub/page.txt%00.js']) {
      const res = await rawGet(srv.port, p);
      assert.ok([null, 400, 404].includes(res.status), `${p}: ${res.status}`);
      assert.ok(!res.body.includes(SECRET) && !res.body.includes('<title>debate') &&
        !res.body.includes(FILES['sub/page.txt']), p);
    }
    const res = await rawGet(srv.port, '/app/%00index.html');
    assert.equal(res.status, 400, res.body);
    assert.match(res.body, /NUL/);
  });

  it('POST on a static path → 405 Allow: GET', async () => {
    const res = await get('/app/app.js', { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET');
  });
});

describe('app_dir unset', () => {
  let bare;
  before(async () => { bare = await startTribune(); });
  after(async () => { await bare?.stop(); });

  it('/app/ and every file under it → 404', async () => {
    for (const p of ['/app/', '/app/index.html', '/app']) {
      const res = await fetch(`${bare.url}${p}`, { redirect: 'manual' });
      assert.equal(res.status, 404, p);
      assert.equal((await res.json()).code, 'not_found', p);
    }
  });

  it('a bad app_dir is a config error naming the key', async () => {
    const missing = path.join(tmp, 'no-such-dir');
    let r = await runTribune(['--dev', '--app-dir', missing, '--check-config']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /`app_dir`.*no-such-dir/);
    r = await runTribune(['--dev', '--app-dir', path.join(appDir, 'index.html'), '--check-config']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /`app_dir`.*not a directory/);
    r = await runTribune(['--dev', '--app-dir', appDir, '--check-config']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^app_dir: "?${appDir}"?$`, 'm'));
  });
});

describe('POST /app/token without development mode', () => {
  it('is absent: 404 for POST and GET, no token', async () => {
    const res = await get('/app/token', { method: 'POST', headers: { 'Content-Type':
      'application/json' }, body: JSON.stringify({ room: 'debate', identity: 'alice' }) });
    assert.equal(res.status, 404);
    const text = await res.text();
    assert.doesNotMatch(text, /eyJ/);
    assert.equal(JSON.parse(text).code, 'not_found');
    assert.equal((await get('/app/token')).status, 404);
  });
});

describe('--dev', () => {
  let cwd;
  let dev;
  const DIST_INDEX = '<!doctype html><title>from web/dist</title>';

  /** Starts `tribune --dev ...` with cwd as its working directory. */
  async function startDev(args = []) {
    const port = await freePort();
    const udp = await freeUdpPort();
    const prev = process.cwd();
    process.chdir(cwd); // the child inherits it at spawn
    try {
      return await startTribune({ port, args: ['--dev', ...args],
        configBody: `port: ${port}\nrtc:\n  udp_port: ${udp}\n  tcp_port: 0\n` });
    } finally {
      process.chdir(prev);
    }
  }

  before(async () => {
    cwd = path.join(tmp, 'cwd');
    writeTree(path.join(cwd, 'web', 'dist'), { 'index.html': DIST_INDEX });
    dev = await startDev();
  });
  after(async () => { await dev?.stop(); });

  it('serves ./web/dist when app_dir is unset, and logs the directory', async () => {
    const res = await fetch(`${dev.url}/app/`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), DIST_INDEX);
    assert.ok(dev.stderr().includes(`serving ${path.join(cwd, 'web', 'dist')} at /app/`),
      dev.stderr());
  });

  it('--app-dir wins over ./web/dist', async () => {
    const other = await startDev(['--app-dir', appDir]);
    try {
      const res = await fetch(`${other.url}/app/`);
      assert.equal(await res.text(), FILES['index.html']);
    } finally {
      await other.stop();
    }
  });

  const post = (body, type = 'application/json') => fetch(`${dev.url}/app/token`, {
    method: 'POST', headers: { 'Content-Type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('POST /app/token: a devkey token with join, publish, subscribe, data; 6 h', async () => {
    const res = await post({ room: 'debate', identity: 'alice', name: 'Alice' });
    assert.equal(res.status, 200);
    const j = await res.json();
    assert.deepEqual(Object.keys(j).sort(), ['token', 'url']);
    assert.equal(j.url, `ws://127.0.0.1:${dev.port}`);
    const c = await new TokenVerifier('devkey', 'secret').verify(j.token);
    assert.equal(c.iss, 'devkey');
    assert.equal(c.sub, 'alice');
    assert.equal(c.name, 'Alice');
    assert.equal(c.video.room, 'debate');
    assert.equal(c.video.roomJoin, true);
    assert.equal(c.video.canPublish, true);
    assert.equal(c.video.canSubscribe, true);
    assert.equal(c.video.canPublishData, true);
    assert.ok(!c.video.roomAdmin, 'roomAdmin without admin: true');
    assert.equal(c.exp - c.nbf, 6 * 3600);
    await assert.rejects(new TokenVerifier('devkey', 'not-the-secret').verify(j.token));
    const v = await fetch(`${dev.url}/rtc/validate?access_token=${j.token}`);
    assert.equal(v.status, 200, await v.clone().text());
  });

  it('admin: true adds roomAdmin, admin: false does not', async () => {
    for (const admin of [true, false]) {
      const res = await post({ room: 'debate', identity: 'mod', admin });
      assert.equal(res.status, 200);
      const c = await new TokenVerifier('devkey', 'secret').verify((await res.json()).token);
      assert.equal(Boolean(c.video.roomAdmin), admin);
      assert.equal(c.video.room, 'debate');
    }
  });

  const bad = [
    [{ identity: 'a' }, /`room`/],
    [{ room: '', identity: 'a' }, /`room`/],
    [{ room: 5, identity: 'a' }, /`room`/],
    [{ room: 'r'.repeat(300), identity: 'a' }, /`room`/],
    [{ room: 'r' }, /`identity`/],
    [{ room: 'r', identity: '' }, /`identity`/],
    [{ room: 'r', identity: 'i'.repeat(300) }, /`identity`/],
    [{ room: 'r', identity: 'a', admin: 'yes' }, /`admin`/],
    [{ room: 'r', identity: 'a', name: 7 }, /`name`/],
    [{ room: 'r', identity: 'a', colour: 'red' }, /`colour`/],
    ['[]', /object/],
    ['{"room": "r",', /JSON/],
    ['', /empty/],
  ];
  for (const [body, msg] of bad) {
    it(`POST /app/token ${typeof body === 'string' ? JSON.stringify(body) :
      JSON.stringify(body).slice(0, 60)} → 400`, async () => {
      const res = await post(body);
      const text = await res.text();
      assert.equal(res.status, 400, text);
      const j = JSON.parse(text);
      assert.equal(j.code, 'invalid_argument');
      assert.match(j.msg, msg);
      assert.doesNotMatch(text, /eyJ/);
    });
  }

  it('POST /app/token with text/plain → 415; GET → 405', async () => {
    assert.equal((await post({ room: 'r', identity: 'a' }, 'text/plain')).status, 415);
    const res = await fetch(`${dev.url}/app/token`);
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
  });
});
