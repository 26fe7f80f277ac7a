// turn.mjs — helpers for turn.test.mjs: run coturn's command-line clients
// (turnutils_uclient, turnutils_peer, turnutils_stunclient) and parse what
// they print, free UDP/TCP ports and relay ranges, a self-signed certificate,
// TURN REST credentials, /metrics samples, a coturn `turnserver` to check the
// harness against (TURN_INTEROP_SERVER=coturn), and a minimal STUN/TURN client
// over UDP for the few cases the coturn tools cannot force (an Allocate with
// EVEN-PORT, a forged NONCE, quotas, ChannelBind to a chosen port).
//
// Every process started here is killed (by its own PID) when the test process
// exits, should a test forget its after() hook.
import { spawn, execFileSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { freeUdpPort as freeUdpPortOn } from './server.mjs';

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** True when `bin` is on $PATH. */
export function hasCommand(bin) {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The coturn client tools are installed (Debian package `coturn`). */
export const HAS_TURNUTILS = ['turnutils_uclient', 'turnutils_peer', 'turnutils_stunclient']
  .every(hasCommand);

// ---- ports ---------------------------------------------------------------

async function canBindUdp(port, host) {
  const s = dgram.createSocket('udp4');
  try {
    s.bind(port, host);
    await once(s, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    try { s.close(); } catch { /* never bound */ }
  }
}

async function canBindTcp(port, host) {
  const srv = net.createServer();
  try {
    srv.listen(port, host);
    await once(srv, 'listening');
    srv.close();
    await once(srv, 'close');
    return true;
  } catch {
    return false;
  }
}

/** A UDP port free on 0.0.0.0 a moment ago (kernel-chosen). */
export function freeUdpPort() {
  return freeUdpPortOn('0.0.0.0');
}

/** A port number free for both TCP and UDP on all addresses. */
export async function freeTcpUdpPort() {
  for (let i = 0; i < 50; i++) {
    const port = await freeUdpPort();
    if (await canBindTcp(port, '0.0.0.0')) return port;
  }
  throw new Error('no port free for both TCP and UDP');
}

/** A UDP port p with p+1 also free (uclient also talks to peer port + 1). */
export async function freeUdpPortPair() {
  for (let i = 0; i < 50; i++) {
    const port = await freeUdpPort();
    if (port < 65535 && await canBindUdp(port + 1, '0.0.0.0')) return port;
  }
  throw new Error('no free pair of UDP ports');
}

/**
 * `count` consecutive UDP ports, all free on 0.0.0.0, starting at a random
 * place in [lo, hi]. Resolves to [start, end] (inclusive). `avoid` lists ports
 * that must not fall inside.
 */
export async function freeUdpRange(count, { lo = 42000, hi = 48000, avoid = [] } = {}) {
  for (let tries = 0; tries < 40; tries++) {
    const start = lo + Math.floor(Math.random() * (hi - lo - count));
    let ok = true;
    for (let p = start; p < start + count && ok; p++) {
      ok = !avoid.includes(p) && await canBindUdp(p, '0.0.0.0');
    }
    if (ok) return [start, start + count - 1];
  }
  throw new Error(`no ${count} consecutive free UDP ports in ${lo}-${hi}`);
}

// ---- files and credentials ----------------------------------------------

/** Writes a self-signed certificate for `cn` into dir; returns {cert, key}. */
export function makeSelfSignedCert(dir, cn = 'localhost') {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec',
    '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', `subjectAltName=DNS:${cn},IP:127.0.0.1`], { stdio: 'ignore' });
  return { cert, key };
}

/** TURN REST credentials: username "<expiry>:<identity>", password base64(HMAC-SHA1). */
export function restCredentials(secret, identity, expiryUnixSeconds) {
  const username = `${expiryUnixSeconds}:${identity}`;
  const password = createHmac('sha1', secret).update(username).digest('base64');
  return { username, password };
}

// ---- processes -----------------------------------------------------------

/**
 * Runs a command to completion (SIGKILL after timeoutMs). Resolves to
 * {code, signal, timedOut, out (stdout + stderr interleaved), cmd, ms}.
 */
export function runTool(bin, args, { timeoutMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let out = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { out += d; });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); live.delete(child); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, timedOut, out, cmd: [bin, ...args].join(' '), ms: Date.now() - t0 });
    });
  });
}

/** Starts a long-running process; returns {pid, out(), exited(), stop()}. */
export function startProcess(bin, args) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let exited = null;
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { out += d; });
  const exitPromise = new Promise((resolve) => {
    const end = (r) => { exited = r; live.delete(child); resolve(r); };
    child.on('exit', (code, signal) => end({ code, signal }));
    child.on('error', (e) => end({ code: null, signal: null, error: e }));
  });
  return {
    pid: child.pid,
    out: () => out,
    exited: () => exited,
    async stop() {
      if (exited) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 3000);
      const r = await exitPromise;
      clearTimeout(timer);
      return r;
    },
  };
}

/** Sends one datagram to host:port and waits (ms) for any answer. */
async function udpEchoes(host, port, ms = 200) {
  const s = dgram.createSocket('udp4');
  try {
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    const got = once(s, 'message');
    s.send(Buffer.from('turn-test-probe'), port, host);
    return await Promise.race([got.then(() => true), sleep(ms).then(() => false)]);
  } finally {
    s.close();
  }
}

/** turnutils_peer (a UDP echo server) on host:port, ready when it echoes. */
export async function startPeer(port, host = '127.0.0.1') {
  const p = startProcess('turnutils_peer', ['-L', host, '-p', String(port)]);
  for (let i = 0; i < 25; i++) {
    if (p.exited()) throw new Error(`turnutils_peer exited: ${p.out()}`);
    if (await udpEchoes(host, port)) return p;
  }
  await p.stop();
  throw new Error(`turnutils_peer on ${host}:${port} does not echo; output:\n${p.out()}`);
}

// ---- coturn tools' output ------------------------------------------------

/**
 * What turnutils_uclient printed (coturn 4.6):
 *   sent, recv       "start_mclient: tot_send_msgs=N, tot_recv_msgs=M" (final line)
 *   lost, lossPct    "Total lost packets N (P%)"
 *   errors           [{code, reason, where}] from "error 403 (Forbidden)",
 *                    "channel bind: error 403 (...)", "create permission error ..."
 *   cannotAllocate   "Cannot complete Allocation" (32 challenges without success: 401s)
 *   finished         the final statistics were printed
 */
export function parseUclient(out) {
  const totals = [...out.matchAll(/start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/g)];
  const last = totals.at(-1);
  const loss = out.match(/Total lost packets (\d+) \(([\d.]+)%\)/);
  const errors = [...out.matchAll(/(channel bind: |create permission |)error (\d+) \(([^)\n]*)\)/g)]
    .map((m) => ({ where: m[1].replace(/[: ]+$/, '') || 'allocate/refresh', code: Number(m[2]),
      reason: m[3] }));
  return {
    sent: last ? Number(last[1]) : 0,
    recv: last ? Number(last[2]) : 0,
    lost: loss ? Number(loss[1]) : null,
    lossPct: loss ? Number(loss[2]) : null,
    errors,
    cannotAllocate: /Cannot complete Allocation/.test(out),
    finished: Boolean(last && loss),
  };
}

/**
 * turnutils_uclient with -c: no RTCP relay. Without -c uclient asks for an
 * RTP/RTCP pair (EVEN-PORT with the R bit, then RESERVATION-TOKEN); with -c
 * it still puts EVEN-PORT (R=0) into about half of its Allocates, at random.
 * Options:
 *   host, port        TURN server (port: the TLS port with tls)
 *   tcp, tls          -t, -t -S
 *   user, password    -u/-w; secret: -W (TURN REST, uclient builds the name
 *                     "<now + 1 day>:<user>" itself)
 *   peer, peerPort    -e/-r (uclient also binds a channel to peerPort + 1,
 *                     and does so first)
 *   messages, intervalMs, length   -n, -z, -l
 *   extra             more arguments
 * uclient starts sending 1 to 6 s (at random) after its allocations, and
 * waits 10 s for missing answers, so a run takes 2 to 7 s, 17 s with loss.
 * Resolves to {...runTool result, ...parseUclient}.
 */
export async function uclient({ host = '127.0.0.1', port, tcp = false, tls = false, user, password,
  secret, peer = '127.0.0.1', peerPort, messages = 20, intervalMs = 20, length = 100, extra = [],
  timeoutMs = 19000 } = {}) {
  const args = ['-c', '-n', String(messages), '-z', String(intervalMs), '-l', String(length),
    '-p', String(port), '-e', peer, '-r', String(peerPort)];
  if (tcp || tls) args.push('-t');
  if (tls) args.push('-S');
  if (user !== undefined) args.push('-u', user);
  if (password !== undefined) args.push('-w', password);
  if (secret !== undefined) args.push('-W', secret);
  args.push(...extra, host);
  const r = await runTool('turnutils_uclient', args, { timeoutMs });
  return { ...r, ...parseUclient(r.out) };
}

/** A uclient result as text for assertion messages. */
export function describeRun(r) {
  return `$ ${r.cmd}\n(exit ${r.code}${r.signal ? `, signal ${r.signal}` : ''}` +
    `${r.timedOut ? ', TIMED OUT' : ''}, ${r.ms} ms)\n${r.out}`;
}

/** turnutils_stunclient: {mapped: {ip, port} | null, ...runTool result}. */
export async function stunclient({ host = '127.0.0.1', port, timeoutMs = 5000 }) {
  const r = await runTool('turnutils_stunclient', ['-p', String(port), host], { timeoutMs });
  const m = r.out.match(/UDP reflexive addr: ([0-9.]+):(\d+)/);
  return { ...r, mapped: m ? { ip: m[1], port: Number(m[2]) } : null };
}

// ---- /metrics ------------------------------------------------------------

/** All samples of /metrics as a Map "name{labels}" → number (plus the raw text). */
export async function scrapeMetrics(url) {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
  const samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^(\S+?(?:\{[^}]*\})?)\s+(\S+)/);
    if (m) samples.set(m[1], Number(m[2]));
  }
  return { text, samples };
}

/** Sum of every sample named `name` whose labels contain each of `labels` ({k: v}). */
export function metricSum(samples, name, labels = {}) {
  let sum = 0;
  let found = false;
  for (const [key, v] of samples) {
    const m = key.match(/^([^{]+)(?:\{(.*)\})?$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)]
      .map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v2]) => have[k] === String(v2))) {
      sum += v;
      found = true;
    }
  }
  return found ? sum : NaN;
}

// ---- coturn as the reference server --------------------------------------

/**
 * Starts coturn's turnserver on 127.0.0.1 with the given ports (UDP+TCP on
 * port, TLS on tlsPort), relay ports [relayLo, relayHi], realm, static users
 * or a REST secret (coturn cannot do both at once), loopback peers allowed or
 * not, per-user quota. Ready when turnutils_stunclient gets an answer.
 */
export async function startCoturn({ dir, port, tlsPort, relay, realm, users = {}, secret,
  allowLoopback = true, userQuota = 0, cert, key }) {
  const args = ['-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', '--no-cli',
    `--listening-port=${port}`, `--tls-listening-port=${tlsPort}`, `--cert=${cert}`,
    `--pkey=${key}`, `--realm=${realm}`, '--lt-cred-mech', `--min-port=${relay[0]}`,
    `--max-port=${relay[1]}`, '--log-file=stdout', '--simple-log', '--no-dtls', '--fingerprint',
    `--pidfile=${path.join(dir, `turnserver-${port}.pid`)}`,
    `--userdb=${path.join(dir, `turndb-${port}`)}`, '--no-multicast-peers'];
  if (allowLoopback) args.push('--allow-loopback-peers');
  if (userQuota) args.push(`--user-quota=${userQuota}`);
  if (secret) args.push('--use-auth-secret', `--static-auth-secret=${secret}`);
  for (const [u, p] of Object.entries(users)) args.push(`--user=${u}:${p}`);
  fs.mkdirSync(dir, { recursive: true });
  const p = startProcess('turnserver', args);
  for (let i = 0; i < 40; i++) {
    if (p.exited()) throw new Error(`turnserver exited:\n${p.out()}`);
    const r = await stunclient({ port, timeoutMs: 500 });
    if (r.mapped) return p;
    await sleep(100);
  }
  await p.stop();
  throw new Error(`turnserver did not answer on ${port}:\n${p.out()}`);
}

// ---- a minimal STUN/TURN client (RFC 8489/8656) over UDP -----------------

const MAGIC = 0x2112a442;
export const ATTR = {
  MAPPED_ADDRESS: 0x0001, USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, ERROR_CODE: 0x0009,
  CHANNEL_NUMBER: 0x000c, LIFETIME: 0x000d, XOR_PEER_ADDRESS: 0x0012, REALM: 0x0014,
  NONCE: 0x0015, XOR_RELAYED_ADDRESS: 0x0016, EVEN_PORT: 0x0018, REQUESTED_TRANSPORT: 0x0019,
  XOR_MAPPED_ADDRESS: 0x0020, RESERVATION_TOKEN: 0x0022, FINGERPRINT: 0x8028,
};
export const METHOD = { BINDING: 0x001, ALLOCATE: 0x003, REFRESH: 0x004,
  CREATE_PERMISSION: 0x008, CHANNEL_BIND: 0x009 };

function encodeAttr(type, value) {
  const pad = (4 - (value.length % 4)) % 4;
  const b = Buffer.alloc(4 + value.length + pad);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(value.length, 2);
  value.copy(b, 4);
  return b;
}

/** XOR-*-ADDRESS value for an IPv4 address. */
export function xorAddress(ip, port) {
  const v = Buffer.alloc(8);
  v[1] = 0x01;
  v.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const n = ip.split('.').reduce((a, x) => (a << 8) | Number(x), 0) >>> 0;
  v.writeUInt32BE((n ^ MAGIC) >>> 0, 4);
  return v;
}

function decodeXorAddress(v) {
  if (v.length < 8 || v[1] !== 0x01) return null;
  const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
  const n = (v.readUInt32BE(4) ^ MAGIC) >>> 0;
  return { ip: [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), port };
}

/**
 * Encodes a request. attrs: [[type, Buffer]]. auth: {username, realm, nonce,
 * key} adds USERNAME, REALM, NONCE and MESSAGE-INTEGRITY; FINGERPRINT last.
 */
export function encodeRequest(method, attrs, { auth, txid = randomBytes(12) } = {}) {
  const parts = attrs.map(([t, v]) => encodeAttr(t, v));
  if (auth) {
    parts.push(encodeAttr(ATTR.USERNAME, Buffer.from(auth.username)));
    parts.push(encodeAttr(ATTR.REALM, Buffer.from(auth.realm)));
    parts.push(encodeAttr(ATTR.NONCE, Buffer.from(auth.nonce)));
  }
  const header = Buffer.alloc(20);
  header.writeUInt16BE(method, 0); // the request class of methods below 0x10
  header.writeUInt32BE(MAGIC, 4);
  txid.copy(header, 8);
  let body = Buffer.concat(parts);
  if (auth) {
    header.writeUInt16BE(body.length + 24, 2);
    const mac = createHmac('sha1', auth.key).update(Buffer.concat([header, body])).digest();
    body = Buffer.concat([body, encodeAttr(ATTR.MESSAGE_INTEGRITY, mac)]);
  }
  header.writeUInt16BE(body.length + 8, 2);
  const crc = (zlib.crc32(Buffer.concat([header, body])) ^ 0x5354554e) >>> 0;
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE(crc, 0);
  return Buffer.concat([header, body, encodeAttr(ATTR.FINGERPRINT, fp)]);
}

/** Decodes a STUN message: {method, cls ('success'|'error'|...), txid, attrs, error, ...}. */
export function decodeMessage(buf) {
  if (buf.length < 20 || buf.readUInt32BE(4) !== MAGIC) return null;
  const type = buf.readUInt16BE(0);
  const cls = ((type >> 7) & 2) | ((type >> 4) & 1);
  const method = (type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80);
  const attrs = new Map();
  let off = 20;
  const end = Math.min(buf.length, 20 + buf.readUInt16BE(2));
  while (off + 4 <= end) {
    const t = buf.readUInt16BE(off);
    const l = buf.readUInt16BE(off + 2);
    if (!attrs.has(t)) attrs.set(t, buf.subarray(off + 4, off + 4 + l));
    off += 4 + l + ((4 - (l % 4)) % 4);
  }
  const ec = attrs.get(ATTR.ERROR_CODE);
  const msg = {
    method,
    cls: ['request', 'indication', 'success', 'error'][cls],
    txid: buf.subarray(8, 20),
    attrs,
    error: ec ? (ec[2] & 7) * 100 + ec[3] : 0,
    reason: ec ? ec.subarray(4).toString('utf8') : '',
  };
  for (const [name, t] of [['mapped', ATTR.XOR_MAPPED_ADDRESS],
    ['relayed', ATTR.XOR_RELAYED_ADDRESS]]) {
    const v = attrs.get(t);
    if (v) msg[name] = decodeXorAddress(v);
  }
  for (const [name, t] of [['realm', ATTR.REALM], ['nonce', ATTR.NONCE]]) {
    const v = attrs.get(t);
    if (v) msg[name] = v.toString('utf8');
  }
  const lt = attrs.get(ATTR.LIFETIME);
  if (lt && lt.length === 4) msg.lifetime = lt.readUInt32BE(0);
  return msg;
}

/**
 * One client 5-tuple (a UDP socket on 127.0.0.1) towards a TURN server, with
 * long-term credentials: request() answers a 401/438 challenge once by itself
 * unless told not to.
 */
export class TurnUdpClient {
  constructor({ host = '127.0.0.1', port, username, password }) {
    Object.assign(this, { host, port, username, password });
    this.realm = null;
    this.nonce = null;
    this.sock = null;
  }

  async open() {
    this.sock = dgram.createSocket('udp4');
    this.sock.bind(0, '127.0.0.1');
    await once(this.sock, 'listening');
    return this;
  }

  close() {
    try { this.sock?.close(); } catch { /* closed */ }
    this.sock = null;
  }

  key() {
    return createHash('md5').update(`${this.username}:${this.realm}:${this.password}`).digest();
  }

  /** One transaction: sends buf (retransmitting) until a response with its txid comes. */
  async transact(buf, { timeoutMs = 2000 } = {}) {
    const txid = buf.subarray(8, 20);
    return new Promise((resolve, reject) => {
      let rto = 100;
      let timer;
      const deadline = setTimeout(() => {
        done();
        reject(new Error('STUN transaction timed out'));
      }, timeoutMs);
      const onMsg = (m) => {
        const d = decodeMessage(m);
        if (d && d.txid.equals(txid)) { done(); resolve(d); }
      };
      const send = () => {
        this.sock.send(buf, this.port, this.host);
        timer = setTimeout(send, rto);
        rto *= 2;
      };
      const done = () => {
        clearTimeout(timer);
        clearTimeout(deadline);
        this.sock.off('message', onMsg);
      };
      this.sock.on('message', onMsg);
      send();
    });
  }

  /**
   * A request with credentials (when a realm/nonce is known, or after the
   * first 401/438). nonce: force this NONCE value. Returns the final response.
   */
  async request(method, attrs = [], { challenge = true, nonce } = {}) {
    const build = () => encodeRequest(method, attrs, (this.nonce || nonce) ? { auth: {
      username: this.username, realm: this.realm ?? '', nonce: nonce ?? this.nonce, key: this.key(),
    } } : {});
    let r = await this.transact(build());
    if (challenge && (r.error === 401 || r.error === 438) && r.nonce) {
      this.realm = r.realm ?? this.realm;
      this.nonce = r.nonce;
      nonce = undefined;
      r = await this.transact(build());
    }
    if (r.nonce) this.nonce = r.nonce;
    return r;
  }

  /** Allocate (UDP relay) with extra attributes. */
  allocate(extra = [], opts = {}) {
    return this.request(METHOD.ALLOCATE, [[ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0])],
      ...extra], opts);
  }

  /** CreatePermission for one peer IP. */
  createPermission(ip) {
    return this.request(METHOD.CREATE_PERMISSION, [[ATTR.XOR_PEER_ADDRESS, xorAddress(ip, 0)]]);
  }

  /** ChannelBind of channel `num` (0x4000..0x4FFF) to ip:port. */
  channelBind(num, ip, port) {
    const v = Buffer.alloc(4);
    v.writeUInt16BE(num, 0);
    return this.request(METHOD.CHANNEL_BIND, [[ATTR.CHANNEL_NUMBER, v],
      [ATTR.XOR_PEER_ADDRESS, xorAddress(ip, port)]]);
  }

  /** Refresh LIFETIME 0 (deletes the allocation); errors ignored. */
  async release() {
    const lt = Buffer.alloc(4);
    try { return await this.request(METHOD.REFRESH, [[ATTR.LIFETIME, lt]]); } catch { return null; }
  }
}
