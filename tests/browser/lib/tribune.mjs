// tribune.mjs — a tribune server and access tokens for the browser tests.
// Starts the binary through tests/interop/lib/server.mjs (same process
// handling: own PID, SIGTERM then SIGKILL) with media on one UDP port of
// 127.0.0.1, and signs HS256 tokens with node:crypto.
import { createHmac } from 'node:crypto';
import { defaultConfigBody, freeUdpPort, startTribune } from '../../interop/lib/server.mjs';

/** A UDP port that was free a moment ago on 127.0.0.1 (server.mjs's). */
export { freeUdpPort };

/**
 * Starts tribune for browsers: HTTP/WebSocket on a free port, media on one
 * free UDP port announced as 127.0.0.1, ICE-TCP on tcpPort (0 = off).
 * extra: more lines under `rtc:` (indented); topLevel: YAML appended after
 * the rtc block, at the top level (e.g. `redis:\n  address: ...\n`).
 * Resolves to the server.mjs handle plus udpPort and wsUrl (ws://127.0.0.1:port).
 */
export async function startTribuneForBrowsers({ extra = '', topLevel = '', tcpPort = 0,
  portRange = null, ...opts } = {}) {
  const udp = portRange ? 0 : await freeUdpPort();
  const range = portRange ? `  port_range_start: ${portRange[0]}\n  port_range_end: ${portRange[1]}\n`
    : '';
  const rtc = `rtc:\n  udp_port: ${udp}\n  tcp_port: ${tcpPort}\n  node_ip: 127.0.0.1\n${range}${extra}`;
  const body = topLevel ? `${rtc}${rtc.endsWith('\n') ? '' : '\n'}${topLevel}` : rtc;
  const srv = await startTribune({ ...opts,
    configBody: ({ port, key, secret }) => defaultConfigBody({ port, key, secret, extra: body }) });
  return { ...srv, udpPort: udp, wsUrl: srv.url.replace(/^http/, 'ws') };
}

/** An HS256 access token that lets identity join room, publish and subscribe. */
export function joinToken({ key, secret, identity, room, ttlS = 600, grant = {} }) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: key, sub: identity, name: identity, nbf: now - 10, exp: now + ttlS,
    video: { roomJoin: true, room, canPublish: true, canSubscribe: true, canPublishData: true,
      ...grant } };
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
