// loopback.js — the harness self-test's stand-in for a server: two
// RTCPeerConnections in one page send the fake microphone (the WAV given to
// this Chromium) from pc1 to pc2 over real ICE/DTLS/SRTP on loopback, so the
// same analyser that measures LiveKit's tracks can be checked on a known tone.

import { measureStream } from './analyse.js';

/** Capture constraints that keep a test tone intact (no AGC/NS/AEC). */
export const RAW_AUDIO = { echoCancellation: false, noiseSuppression: false,
  autoGainControl: false };

let lb = null; // {pc1, pc2, local, remote, candidates}

const withTimeout = (p, ms, what) => Promise.race([p, new Promise((_, rej) =>
  setTimeout(() => rej(new Error(`${what}: no result within ${ms} ms`)), ms))]);

/** Resolves when pc reaches connectionState 'connected'. */
function connected(pc) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pc.connectionState === 'connected') resolve();
      if (pc.connectionState === 'failed') reject(new Error('peer connection failed'));
    };
    pc.addEventListener('connectionstatechange', check);
    check();
  });
}

/**
 * Captures the microphone and sends it pc1 -> pc2. Resolves to
 * {candidates: ["udp 127.0.0.1 host", ...], codec} once both are connected
 * (timeoutMs at most). audio: getUserMedia audio constraints.
 */
export async function loopbackStart({ audio = RAW_AUDIO, timeoutMs = 10000 } = {}) {
  if (lb) throw new Error('loopback already started');
  const local = await navigator.mediaDevices.getUserMedia({ audio, video: false });
  const pc1 = new RTCPeerConnection({ iceServers: [] });
  const pc2 = new RTCPeerConnection({ iceServers: [] });
  lb = { pc1, pc2, local, remote: null, candidates: [] };
  pc1.onicecandidate = (e) => {
    if (!e.candidate) return;
    lb.candidates.push(`${e.candidate.protocol} ${e.candidate.address} ${e.candidate.type}`);
    pc2.addIceCandidate(e.candidate);
  };
  pc2.onicecandidate = (e) => e.candidate && pc1.addIceCandidate(e.candidate);
  const gotTrack = new Promise((resolve) => {
    pc2.ontrack = (e) => resolve(e.streams[0] || new MediaStream([e.track]));
  });
  pc1.addTrack(local.getAudioTracks()[0], local);
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription);
  lb.remote = await withTimeout(gotTrack, timeoutMs, 'ontrack');
  await withTimeout(Promise.all([connected(pc1), connected(pc2)]), timeoutMs,
    `ICE/DTLS connect (candidates: ${lb.candidates.join(', ') || 'none'})`);
  const codec = /a=rtpmap:\d+ ([^\r\n]+)/.exec(pc2.remoteDescription.sdp)?.[1] || '';
  return { candidates: lb.candidates, codec };
}

/** Measures the track pc2 receives (see analyse.js measureStream). */
export async function loopbackAnalyse(opts = {}) {
  if (!lb) throw new Error('loopback not started');
  return measureStream(lb.remote, opts);
}

/** Measures the local microphone itself, before any WebRTC (diagnostic). */
export async function loopbackAnalyseLocal(opts = {}) {
  if (!lb) throw new Error('loopback not started');
  return measureStream(lb.local, opts);
}

/** pc2's RTCRtpReceiver of the audio (app.js wraps it as a LiveKit track). */
export function loopbackReceiver() {
  if (!lb) throw new Error('loopback not started');
  return lb.pc2.getReceivers().find((r) => r.track.kind === 'audio');
}

/** Mutes (true) or unmutes pc1's sent track (track.enabled; silence is sent). */
export function loopbackMute(on) {
  if (!lb) throw new Error('loopback not started');
  lb.local.getAudioTracks()[0].enabled = !on;
}

/** pc2's inbound audio RTP counters. */
export async function loopbackStats() {
  if (!lb) throw new Error('loopback not started');
  const out = {};
  (await lb.pc2.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      Object.assign(out, { packetsReceived: s.packetsReceived, bytesReceived: s.bytesReceived,
        audioLevel: s.audioLevel });
    }
  });
  return out;
}

/** Closes both connections and stops the microphone. */
export function loopbackStop() {
  if (!lb) return;
  lb.pc1.close();
  lb.pc2.close();
  lb.local.getTracks().forEach((t) => t.stop());
  lb = null;
}
