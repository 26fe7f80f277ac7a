// ws.mjs — a small WebSocket client (RFC 6455) over node:net for the
// interop tests. Hand-written: Node 20's global WebSocket needs
// --experimental-websocket and the `ws` package is not installed; the tests
// also need what a browser API hides (the HTTP status of a refused upgrade,
// raw frames, close codes).
//
//   const r = await wsConnect('ws://127.0.0.1:7880/rtc/v1?...');
//   if (r.status !== 101) console.log(r.status, r.body);   // refused upgrade
//   const ws = r.ws;
//   ws.send(bytes) / ws.send('text', { text: true });
//   const msg = await ws.next((m) => ..., 2000);            // {text, data}
//   const { code, reason } = await ws.waitClosed(2000);
//   await ws.close();
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const OP_CONT = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** One masked client frame (RFC 6455 §5.2). */
export function encodeFrame(opcode, payload, { fin = true } = {}) {
  const data = Buffer.from(payload);
  const len = data.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.alloc(head + 4 + len);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (len < 126) {
    out[1] = 0x80 | len;
  } else if (len < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  mask.copy(out, head);
  for (let i = 0; i < len; i++) out[head + 4 + i] = data[i] ^ mask[i & 3];
  return out;
}

/** An open WebSocket connection (after a 101). */
export class WsClient {
  constructor(sock, rest) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.queue = [];        // messages no waiter wanted yet
    this.waiters = [];      // {pred, resolve, reject, timer}
    this.frag = null;       // {text, parts} of a fragmented message
    this.closeFrame = null; // {code, reason} of the server's close frame
    this.closeSent = false;
    this.isClosed = false;
    this.closed = new Promise((resolve) => {
      sock.on('close', () => {
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`socket closed (${this.closeInfo().code}) while waiting for ` +
            `${w.what}`));
        }
        resolve(this.closeInfo());
      });
    });
    sock.on('error', () => { /* surfaces as 'close' */ });
    sock.on('data', (d) => this.onData(d));
    if (rest.length) this.onData(rest);
  }

  /** The close code/reason the server sent, else 1006 (abnormal). */
  closeInfo() { return this.closeFrame ?? { code: 1006, reason: '' }; }

  onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      const masked = (b[1] & 0x80) !== 0;
      const maskAt = off;
      if (masked) off += 4;
      if (b.length < off + len) return;
      const payload = Buffer.from(b.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= b[maskAt + (i & 3)];
      this.buf = b.subarray(off + len);
      this.onFrame((b[0] & 0x80) !== 0, b[0] & 0x0f, payload);
    }
  }

  onFrame(fin, op, payload) {
    if (op === OP_TEXT || op === OP_BINARY) {
      if (fin) this.push({ text: op === OP_TEXT, data: payload });
      else this.frag = { text: op === OP_TEXT, parts: [payload] };
    } else if (op === OP_CONT && this.frag) {
      this.frag.parts.push(payload);
      if (fin) {
        this.push({ text: this.frag.text, data: Buffer.concat(this.frag.parts) });
        this.frag = null;
      }
    } else if (op === OP_PING) {
      this.rawWrite(encodeFrame(OP_PONG, payload));
    } else if (op === OP_CLOSE) {
      this.closeFrame = {
        code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005,
        reason: payload.subarray(2).toString('utf8'),
      };
      if (!this.closeSent) {
        this.closeSent = true;
        this.rawWrite(encodeFrame(OP_CLOSE, payload.subarray(0, 2)));
      }
      this.sock.end();
    }
  }

  push(msg) {
    const i = this.waiters.findIndex((w) => w.pred(msg));
    if (i < 0) {
      this.queue.push(msg);
      return;
    }
    const [w] = this.waiters.splice(i, 1);
    clearTimeout(w.timer);
    w.resolve(msg);
  }

  rawWrite(buf) {
    if (!this.sock.destroyed && this.sock.writable) this.sock.write(buf);
  }

  /** Sends one message (binary unless text: true). */
  send(data, { text = typeof data === 'string' } = {}) {
    this.rawWrite(encodeFrame(text ? OP_TEXT : OP_BINARY, data));
  }

  /**
   * The first queued or future message for which pred(msg) is true (others
   * stay queued); rejects after timeoutMs or when the socket closes.
   */
  next(pred = () => true, timeoutMs = 2000, what = 'a message') {
    const i = this.queue.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    if (this.isClosed) {
      return Promise.reject(new Error(`socket closed (${this.closeInfo().code}) while waiting ` +
        `for ${what}`));
    }
    return new Promise((resolve, reject) => {
      const w = { pred, resolve, reject, what };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Resolves to {code, reason} once the TCP connection is closed. */
  async waitClosed(timeoutMs = 2000) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)),
        timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closing handshake (code 1000), then the socket is destroyed (1 s at most). */
  async close(code = 1000) {
    if (this.isClosed) return this.closeInfo();
    if (!this.closeSent) {
      this.closeSent = true;
      const p = Buffer.alloc(2);
      p.writeUInt16BE(code);
      this.rawWrite(encodeFrame(OP_CLOSE, p));
    }
    try {
      return await this.waitClosed(1000);
    } catch {
      this.sock.destroy();
      return this.closed;
    }
  }
}

function parseHead(head) {
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  return { status: m ? Number(m[1]) : 0, headers };
}

/**
 * Opens ws://host:port/path?query. Resolves to {status: 101, headers, ws} on
 * success, else to {status, headers, body} (the refused upgrade's HTTP answer).
 * Rejects on a connect error or when no answer arrives within timeoutMs.
 */
export function wsConnect(url, { timeoutMs = 5000, headers = {} } = {}) {
  const u = new URL(url);
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: u.hostname, port: Number(u.port) });
    let buf = Buffer.alloc(0);
    let head = null;
    let settled = false;
    const timer = setTimeout(() => {
      sock.destroy();
      settle(new Error(`WebSocket ${u.pathname}: no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    function settle(err, value) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value);
    }
    function refused() {
      sock.destroy();
      settle(null, { ...head, body: buf.toString('utf8') });
    }
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      if (!head) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = parseHead(buf.subarray(0, end).toString('latin1'));
        buf = buf.subarray(end + 4);
        if (head.status === 101) {
          sock.off('data', onData);
          const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
          if (head.headers['sec-websocket-accept'] !== accept) {
            sock.destroy();
            settle(new Error('101 without the right Sec-WebSocket-Accept'));
            return;
          }
          settle(null, { ...head, ws: new WsClient(sock, buf) });
          return;
        }
      }
      const cl = head.headers['content-length'];
      if (cl !== undefined && buf.length >= Number(cl)) refused();
    };
    sock.on('data', onData);
    sock.on('error', (e) => settle(e));
    sock.on('close', () => {
      if (head && head.status !== 101) refused();
      else settle(new Error(`WebSocket ${u.pathname}: connection closed before an answer`));
    });
    sock.on('connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n` +
        'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`);
    });
  });
}
