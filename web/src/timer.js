// timer.js — the debate timer's state, carried in the room's metadata so
// late joiners see it: {"timer": {"startedAt": <ms epoch>, "durationS": 120,
// "by": "alice"}} (or "timer": null when reset). Other keys of the metadata
// are kept. The moderator writes it with RoomService.UpdateRoomMetadata
// (Twirp, authorised by their own roomAdmin token); everybody renders it.

export const DURATIONS_S = [60, 120, 180, 300];

/** The room metadata as an object ({} when empty or not JSON). */
export function parseMetadata(metadata) {
  if (!metadata) return {};
  try {
    const v = JSON.parse(metadata);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

/** The timer in the metadata, or null when there is none (or it is malformed). */
export function timerOf(metadata) {
  const t = parseMetadata(metadata).timer;
  if (!t || typeof t !== 'object') return null;
  const startedAt = Number(t.startedAt);
  const durationS = Number(t.durationS);
  if (!Number.isFinite(startedAt) || !(durationS > 0) || durationS > 24 * 3600) return null;
  return { startedAt, durationS, by: typeof t.by === 'string' ? t.by : '' };
}

/** New metadata string: the old one with its timer replaced (null = reset). */
export function withTimer(metadata, timer) {
  return JSON.stringify({ ...parseMetadata(metadata), timer });
}

/** Seconds left (whole, rounded up; clamped to 0..durationS). */
export function secondsLeft(timer, now = Date.now()) {
  const left = Math.ceil((timer.startedAt + timer.durationS * 1000 - now) / 1000);
  return Math.max(0, Math.min(timer.durationS, left));
}

/** m:ss */
export function formatSeconds(s) {
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

/** "2 minutes", "1 minute", "90 seconds" — for announcements. */
export function spokenDuration(s) {
  if (s % 60 === 0) return `${s / 60} minute${s === 60 ? '' : 's'}`;
  return `${s} seconds`;
}

/**
 * Writes the room's metadata through tribune's Twirp RoomService. Resolves
 * to the updated Room; rejects with the server's message.
 */
export async function updateRoomMetadata({ base, token, room, metadata, timeoutMs = 10000 }) {
  let res;
  try {
    res = await fetch(`${base}/twirp/livekit.RoomService/UpdateRoomMetadata`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ room, metadata }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new Error(`could not reach the server (${e.message})`);
  }
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  if (!res.ok) {
    const msg = (body && (body.msg || body.message)) || text.slice(0, 200) || res.statusText;
    throw new Error(`${msg} (HTTP ${res.status})`);
  }
  return body;
}
