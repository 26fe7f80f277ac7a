// token.js — where the page's access token and signaling URL come from:
// the page's own URL (#token=... preferred, ?token=... accepted, optional
// url=...) in production, or tribune's development endpoint POST /app/token
// (only in --dev mode; 404 otherwise). Also reads the token's claims (no
// verification: the server does that) to know the room, identity and
// whether the participant may run the timer (roomAdmin).

/** The token (and signaling URL, if given) carried by the page's URL, or null. */
export function tokenFromLocation(loc = window.location) {
  const hash = new URLSearchParams(loc.hash.replace(/^#/, ''));
  const query = new URLSearchParams(loc.search);
  const token = hash.get('token') || query.get('token');
  if (!token) return null;
  return { token, url: hash.get('url') || query.get('url') || '' };
}

/**
 * The signaling URL: the page's own origin over ws(s), unless another server
 * is given (a given URL on the page's own host is taken as the page's origin,
 * so a proxy's TLS in front does not turn it into mixed content).
 */
export function signalingUrl(given, loc = window.location) {
  const own = `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}`;
  if (!given) return own;
  try {
    if (new URL(given).host === loc.host) return own;
  } catch {
    return own;
  }
  return given;
}

/** http(s) base of the server behind a ws(s) signaling URL (for Twirp calls). */
export function httpBase(wsUrl) {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  return u.origin;
}

/** The JWT's claims, or {} if it cannot be read. */
export function claimsOf(token) {
  try {
    const part = token.split('.')[1];
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) || {};
  } catch {
    return {};
  }
}

/** Thrown by devToken() when the server has no token endpoint (not --dev):
 * it answered 404 (or 405, as a static file server in front may). */
export class NoTokenEndpoint extends Error {
  constructor() {
    super('this server does not hand out tokens');
    this.name = 'NoTokenEndpoint';
  }
}

const ENDPOINT = 'token'; // relative to /app/

/**
 * Asks the development endpoint for a token. Resolves to {token, url};
 * rejects with NoTokenEndpoint on 404, else with the server's message.
 */
export async function devToken({ room, identity, name, admin }, { timeoutMs = 10000 } = {}) {
  const res = await fetch(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ room, identity, name, admin: !!admin }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.status === 404 || res.status === 405) throw new NoTokenEndpoint();
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  if (!res.ok) {
    const msg = (body && (body.msg || body.message)) || text.slice(0, 200) || res.statusText;
    throw new Error(`token request failed: ${msg} (HTTP ${res.status})`);
  }
  if (!body) throw new Error('token request failed: the answer is not JSON');
  if (!body || typeof body.token !== 'string' || !body.token)
    throw new Error('token request failed: no token in the answer');
  return { token: body.token, url: typeof body.url === 'string' ? body.url : '' };
}

/**
 * Whether the server offers the development endpoint: false only when it
 * answers 404 or 405 (any other answer, even an error, means it exists).
 */
export async function hasTokenEndpoint({ timeoutMs = 5000 } = {}) {
  try {
    const res = await fetch(ENDPOINT, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.status !== 404 && res.status !== 405;
  } catch {
    return true; // unknown: let the join attempt tell
  }
}

/** A stable-looking, unique identity from a display name ("Ann Lee" -> "ann-lee-4kz9"). */
export function identityFor(name) {
  const slug = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32) || 'guest';
  const rnd = new Uint8Array(3);
  crypto.getRandomValues(rnd);
  return `${slug}-${Array.from(rnd, (b) => b.toString(36).padStart(2, '0')).join('').slice(0, 5)}`;
}
