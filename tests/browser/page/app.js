// app.js — the page script of the browser tests, bundled by esbuild with the
// real, unmodified livekit-client. The Node test drives it through
// page.evaluate() on these window functions:
//   join(url, token, opts)  connect a Room, publish the microphone
//   analyse(identity?, o)   RMS + dominant frequency of each remote audio track
//   mute(bool)              mute/unmute the published microphone
//   state()                 connection state, remote participants and tracks
//   leave()                 disconnect
//   rtcStats()              RTCP-derived stats of the SDK's peer connections, and
//                           the local candidate of each selected pair (relay or not)
//   setSubscribed(id, on)   unsubscribe from / resubscribe to a participant's audio
//   unpublish()             unpublish the microphone
//   sendData(text, opts)    publishData (reliable/lossy, topic, destinations);
//                           received ones are recorded as DataReceived events
//   sendBigText(size)       sendText on topic 'big' (a LiveKit text stream,
//                           chunked); received ones are TextReceived events
//   window.events           everything the Room reported, in order
//   loopback*()             the harness self-test (no server; loopback.js)

import { RemoteAudioTrack, Room, RoomEvent, Track, version } from 'livekit-client';
import { createTap, measureTaps } from './analyse.js';
import { RAW_AUDIO, loopbackAnalyse, loopbackAnalyseLocal, loopbackMute, loopbackReceiver,
  loopbackStart, loopbackStats, loopbackStop } from './loopback.js';

const events = [];
const t0 = performance.now();
let room = null;
const taps = new Map(); // remote track sid -> analyser tap
const elements = new Map(); // remote track sid -> <audio> from track.attach()

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Keep the peer connections the SDK makes, to read their stats: the SDK
// calls the global constructor, so wrapping it sees every one.
const peerConnections = [];
const NativePC = window.RTCPeerConnection;
window.RTCPeerConnection = function TrackedPC(...args) {
  const pc = new NativePC(...args);
  peerConnections.push(pc);
  return pc;
};
window.RTCPeerConnection.prototype = NativePC.prototype;
Object.setPrototypeOf(window.RTCPeerConnection, NativePC);

/**
 * What the browser learnt from the server's RTCP: remote-outbound-rtp exists
 * for an inbound audio stream once a sender report arrived; remote-inbound-rtp
 * for our outbound audio once a receiver report arrived.
 */
async function rtcStats() {
  const out = { remoteOutbound: [], remoteInbound: [], inbound: [], outbound: [],
    remoteCandidates: [], selectedLocal: [] };
  for (const pc of peerConnections) {
    if (pc.connectionState === 'closed') continue;
    const report = await pc.getStats();
    const mime = (s) => report.get(s.codecId)?.mimeType;
    report.forEach((s) => {
      if (s.type === 'remote-candidate')
        out.remoteCandidates.push({ address: s.address, port: s.port, protocol: s.protocol });
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        const local = report.get(report.get(s.selectedCandidatePairId)?.localCandidateId);
        if (local) out.selectedLocal.push({ candidateType: local.candidateType,
          relayProtocol: local.relayProtocol, address: local.address, port: local.port });
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio')
        out.outbound.push({ ssrc: s.ssrc, packetsSent: s.packetsSent, mimeType: mime(s) });
      if (s.kind !== 'audio' && s.mediaType !== 'audio') return;
      if (s.type === 'remote-outbound-rtp')
        out.remoteOutbound.push({ ssrc: s.ssrc, packetsSent: s.packetsSent,
          remoteTimestamp: s.remoteTimestamp, reportsSent: s.reportsSent });
      if (s.type === 'remote-inbound-rtp')
        out.remoteInbound.push({ ssrc: s.ssrc, packetsLost: s.packetsLost,
          jitter: s.jitter, roundTripTime: s.roundTripTime });
      if (s.type === 'inbound-rtp')
        out.inbound.push({ ssrc: s.ssrc, packetsReceived: s.packetsReceived,
          packetsLost: s.packetsLost, nackCount: s.nackCount, mimeType: mime(s) });
    });
  }
  return out;
}

/** Appends one event; t is ms since the page loaded. */
function record(type, fields = {}) {
  events.push({ t: Math.round(performance.now() - t0), type, ...fields });
}

const pubFields = (pub, p) => ({ identity: p?.identity, trackSid: pub?.trackSid,
  kind: pub?.kind, source: pub?.source });

/**
 * Plays a remote audio track the way an app does (track.attach() into the
 * page). Besides, Chromium feeds a remote track to Web Audio only while an
 * element plays it (analyse.js).
 */
function playRemote(sid, track) {
  const el = track.attach();
  document.body.appendChild(el);
  elements.set(sid, el);
}

/** Undoes playRemote() and drops the track's analyser tap. */
function unplayRemote(sid, track) {
  taps.get(sid)?.close();
  taps.delete(sid);
  track.detach().forEach((el) => el.remove());
  elements.delete(sid);
}

/** The analyser tap of a remote track (made once); fresh: just made. */
async function tapRemote(sid, track) {
  if (taps.has(sid)) return { tap: taps.get(sid), fresh: false };
  const stream = new MediaStream([track.mediaStreamTrack]);
  const tap = await createTap(stream, { withElement: !elements.has(sid) });
  taps.set(sid, tap);
  return { tap, fresh: true };
}

const checksum = (bytes) => bytes.reduce((a, b) => (a * 31 + b) >>> 0, 7);

/** Subscribes the recorder (and the audio playback) to a Room's events. */
function listen(r) {
  // text streams (LiveKit's chunked path for large messages) on topic 'big'
  r.registerTextStreamHandler('big', async (reader, p) => {
    const text = await reader.readAll();
    record('TextReceived', { from: p.identity, size: text.length,
      checksum: checksum(new TextEncoder().encode(text)) });
  });
  r.on(RoomEvent.ParticipantConnected, (p) => record('ParticipantConnected',
    { identity: p.identity }))
    .on(RoomEvent.ParticipantDisconnected, (p) => record('ParticipantDisconnected',
      { identity: p.identity }))
    .on(RoomEvent.TrackSubscribed, (track, pub, p) => {
      record('TrackSubscribed', pubFields(pub, p));
      if (track.kind === Track.Kind.Audio) playRemote(pub.trackSid, track);
    })
    .on(RoomEvent.TrackUnsubscribed, (track, pub, p) => {
      record('TrackUnsubscribed', pubFields(pub, p));
      unplayRemote(pub.trackSid, track);
    })
    .on(RoomEvent.TrackMuted, (pub, p) => record('TrackMuted', pubFields(pub, p)))
    .on(RoomEvent.TrackUnmuted, (pub, p) => record('TrackUnmuted', pubFields(pub, p)))
    .on(RoomEvent.ActiveSpeakersChanged, (speakers) => record('ActiveSpeakersChanged',
      { speakers: speakers.map((s) => s.identity) }))
    .on(RoomEvent.LocalTrackPublished, (pub) => record('LocalTrackPublished',
      pubFields(pub, r.localParticipant)))
    .on(RoomEvent.ConnectionStateChanged, (state) => record('ConnectionStateChanged', { state }))
    .on(RoomEvent.Reconnecting, () => record('Reconnecting'))
    .on(RoomEvent.SignalReconnecting, () => record('SignalReconnecting'))
    .on(RoomEvent.Reconnected, () => record('Reconnected'))
    .on(RoomEvent.AudioPlaybackStatusChanged, () => record('AudioPlaybackStatusChanged',
      { canPlayback: r.canPlaybackAudio }))
    .on(RoomEvent.Disconnected, (reason) => record('Disconnected', { reason }))
    .on(RoomEvent.DataReceived, (payload, p, kind, topic) => record('DataReceived', {
      from: p?.identity ?? null, kind, topic: topic ?? null, size: payload.length,
      text: payload.length <= 256 ? new TextDecoder().decode(payload) : null,
      checksum: checksum(payload) }));
}

/** sendText of size ASCII characters on topic 'big'; resolves to their checksum. */
async function sendBigText(size) {
  const text = Array.from({ length: size }, (_, i) => String.fromCharCode(97 + (i % 26)))
    .join('');
  await room.localParticipant.sendText(text, { topic: 'big' });
  return checksum(new TextEncoder().encode(text));
}

/**
 * Publishes a data message. text: a string, or {size} for that many bytes
 * (i % 251); opts: reliable (default true), topic, destinationIdentities.
 * Resolves to the checksum of what was sent, or rejects with the SDK's error.
 */
async function sendData(text, { reliable = true, topic, destinationIdentities } = {}) {
  const payload = typeof text === 'string' ? new TextEncoder().encode(text)
    : Uint8Array.from({ length: text.size }, (_, i) => i % 251);
  await room.localParticipant.publishData(payload, { reliable, topic, destinationIdentities });
  return checksum(payload);
}

const withTimeout = (p, ms, what) => Promise.race([p, new Promise((_, rej) =>
  setTimeout(() => rej(new Error(`${what}: no result within ${ms} ms`)), ms))]);

/**
 * Connects to url (ws://host:port) with token and publishes the microphone.
 * opts: singlePeerConnection (default true: /rtc/v1), audio (capture options;
 * default RAW_AUDIO so test tones arrive intact), timeoutMs (default 15000),
 * roomOptions, connectOptions. Resolves to {identity, sid, remotes}.
 */
async function join(url, token, opts = {}) {
  if (room) throw new Error('already joined');
  const { singlePeerConnection = true, audio = RAW_AUDIO, timeoutMs = 15000,
    roomOptions = {}, connectOptions = {}, publish = undefined } = opts;
  room = new Room({ singlePeerConnection, ...roomOptions });
  listen(room);
  try {
    await withTimeout(room.connect(url, token, connectOptions), timeoutMs, 'room.connect');
    record('Connected', { identity: room.localParticipant.identity });
    await withTimeout(room.localParticipant.setMicrophoneEnabled(true, audio, publish), timeoutMs,
      'setMicrophoneEnabled');
  } catch (e) {
    record('JoinFailed', { error: String(e?.message || e) });
    await room.disconnect().catch(() => {});
    room = null;
    throw e;
  }
  return { identity: room.localParticipant.identity, sid: room.localParticipant.sid,
    remotes: [...room.remoteParticipants.values()].map((p) => p.identity) };
}

/** The subscribed remote audio tracks, optionally of one identity. */
function remoteAudio(identity) {
  const out = [];
  for (const p of room?.remoteParticipants.values() || []) {
    if (identity && p.identity !== identity) continue;
    for (const pub of p.audioTrackPublications.values()) {
      if (pub.track && pub.isSubscribed) out.push({ p, pub });
    }
  }
  return out;
}

/**
 * Measures every subscribed remote audio track (of identity, if given) for
 * durationMs (default 1000). Resolves to [{identity, trackSid, muted, rms,
 * rmsMin, rmsMax, peakHz, blocks}] (see analyse.js).
 */
async function analyse(identity, { durationMs = 1000, warmupMs = 400 } = {}) {
  const list = remoteAudio(identity);
  let fresh = false;
  const tapList = [];
  for (const { pub } of list) {
    const t = await tapRemote(pub.trackSid, pub.track);
    fresh ||= t.fresh;
    tapList.push(t.tap);
  }
  if (fresh) await sleep(warmupMs);
  const res = await measureTaps(tapList, { durationMs });
  return list.map(({ p, pub }, i) => ({ identity: p.identity, trackSid: pub.trackSid,
    muted: pub.isMuted, ...res[i] }));
}

/** Mutes (true) or unmutes (false) the published microphone. */
async function mute(on) {
  if (!room) throw new Error('not joined');
  await room.localParticipant.setMicrophoneEnabled(!on);
}

/** Unsubscribes from (false) or resubscribes to (true) identity's audio. */
function setSubscribed(identity, on) {
  const p = [...(room?.remoteParticipants.values() || [])].find((x) => x.identity === identity);
  if (!p) throw new Error(`no participant ${identity}`);
  for (const pub of p.audioTrackPublications.values()) pub.setSubscribed(on);
}

/** Unpublishes the microphone (the track leaves the peer connection). */
async function unpublish() {
  const pub = room?.localParticipant.getTrackPublication(Track.Source.Microphone);
  if (pub?.track) await room.localParticipant.unpublishTrack(pub.track);
}

/** A snapshot of the room as this page sees it. */
function state() {
  if (!room) return { state: 'none' };
  return {
    state: room.state,
    identity: room.localParticipant.identity,
    activeSpeakers: room.activeSpeakers.map((s) => s.identity),
    remotes: [...room.remoteParticipants.values()].map((p) => ({
      identity: p.identity,
      tracks: [...p.trackPublications.values()].map((pub) => ({ sid: pub.trackSid,
        kind: pub.kind, subscribed: pub.isSubscribed, muted: pub.isMuted })),
    })),
  };
}

/** Disconnects and releases the analyser taps. */
async function leave() {
  if (!room) return;
  for (const tap of taps.values()) tap.close();
  taps.clear();
  await room.disconnect();
  room = null;
}

/**
 * Self-test of the LiveKit path of analyse(): wraps the loopback's received
 * track in livekit-client's own RemoteAudioTrack, plays it with its attach()
 * and measures it through the same tap as a room's tracks.
 */
async function loopbackAnalyseLiveKit({ durationMs = 1000, warmupMs = 400 } = {}) {
  const receiver = loopbackReceiver();
  const sid = 'TR_loopback';
  const track = new RemoteAudioTrack(receiver.track, sid, receiver);
  playRemote(sid, track);
  try {
    const { tap } = await tapRemote(sid, track);
    await sleep(warmupMs);
    const [res] = await measureTaps([tap], { durationMs });
    return { ...res, element: elements.get(sid)?.tagName, tapOwnElement: !!tap.element };
  } finally {
    unplayRemote(sid, track);
  }
}

Object.assign(window, { events, join, analyse, mute, state, leave, rtcStats, setSubscribed,
  unpublish, sendData, sendBigText,
  livekitVersion: version,
  loopbackStart, loopbackAnalyse, loopbackAnalyseLocal, loopbackAnalyseLiveKit, loopbackMute,
  loopbackStats, loopbackStop });
window.harnessReady = true;
