#!/usr/bin/python3
"""lk_client.py — a minimal LiveKit /rtc/v1 participant on aiortc: a second
client, independent of livekit-client, for tribune's interop tests.

It joins a room over WebSocket (/rtc/v1?access_token=JWT&join_request=...,
the publisher offer inside the gzip-compressed JoinRequest), publishes a sine
tone (add_track, then a re-offer whose sendonly audio section carries
a=msid:<stream> <cid>), follows media_sections_requirement with new recvonly
transceivers and a re-offer, and records every remote audio track it is sent.
After --seconds it measures each remote track (dominant frequency, RMS),
writes a JSON report, sends `leave` and exits.

    lk_client.py --url ws://127.0.0.1:PORT --token JWT --tone 523 \
                 --seconds 8 --json out.json

Progress goes to stdout as JSON lines ({"event": "joined", ...}, "answer",
"published", "track", "requirement", "update", "leave", "done"), so a driver
can follow it; diagnostics go to stderr.

The protobuf modules are generated at run time by protoc from
src/proto/*.proto (LiveKit's field numbers) into a temporary directory that
is removed once they are imported. Needs Debian's python3-aiortc,
python3-protobuf, protobuf-compiler, python3-websockets (python3-numpy for
the FFT; without it a Goertzel scan is used). Written by hand: no LiveKit
Python SDK is packaged for Debian, and this one tests the wire protocol
independently of any SDK.
"""
import argparse
import array
import asyncio
import base64
import fractions
import gzip
import importlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

import aioice.ice
import websockets
from aiortc import (MediaStreamTrack, RTCConfiguration, RTCPeerConnection,
                    RTCSessionDescription)
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

try:
    import numpy
except ImportError:  # the Goertzel scan below does without
    numpy = None

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.join(HERE, '..', '..', 'src', 'proto')
PROTOS = ('livekit_models.proto', 'livekit_room.proto', 'livekit_rtc.proto')
RATE = 48000           # Opus's clock rate; aiortc decodes to 48 kHz
PTIME = 0.020          # 20 ms frames
SKIP_S = 0.5           # the start of each received track is not measured
T0 = time.monotonic()


def ms():
    """Milliseconds since this process started."""
    return round((time.monotonic() - T0) * 1000)


def log(*a):
    print(f'[lk_client {ms()} ms]', *a, file=sys.stderr, flush=True)


def emit(event, **fields):
    """One progress line on stdout."""
    print(json.dumps({'event': event, 't': ms(), **fields}), flush=True)


def load_protos(proto_dir=PROTO_DIR):
    """Generates the *_pb2 modules with protoc into a temp dir, imports them,
    removes the dir. Returns (rtc, models)."""
    out = tempfile.mkdtemp(prefix='lk-proto-')
    try:
        subprocess.run(['protoc', f'-I{proto_dir}', f'--python_out={out}', *PROTOS],
                       cwd=proto_dir, check=True, timeout=30)
        sys.path.insert(0, out)
        try:
            models = importlib.import_module('livekit_models_pb2')
            importlib.import_module('livekit_room_pb2')
            rtc = importlib.import_module('livekit_rtc_pb2')
        finally:
            sys.path.remove(out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return rtc, models


def loopback_only():
    """aiortc gathers on every host address but skips loopback; tribune's
    tests run in a namespace that has only 127.0.0.1."""
    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=False: ['127.0.0.1']


class ToneTrack(MediaStreamTrack):
    """A microphone that plays a sine of `hz` at `amplitude` (0.5 = -6 dBFS):
    48 kHz mono s16 frames of 20 ms, paced in real time."""
    kind = 'audio'

    def __init__(self, hz, amplitude=0.5):
        super().__init__()
        self.hz = hz
        self.amplitude = amplitude
        self._n = 0          # samples produced so far
        self._start = None   # wall clock of sample 0

    async def recv(self):
        if self.readyState != 'live':
            raise MediaStreamError
        count = int(RATE * PTIME)
        if self._start is None:
            self._start = time.time()
        else:
            wait = self._start + self._n / RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        w = 2 * math.pi * self.hz / RATE
        peak = 32767 * self.amplitude
        if numpy is not None:
            idx = numpy.arange(self._n, self._n + count)
            pcm = (peak * numpy.sin(w * idx)).astype('<i2').tobytes()
        else:
            pcm = b''.join(int(peak * math.sin(w * (self._n + i))).to_bytes(2, 'little', signed=True)
                           for i in range(count))
        frame = AudioFrame(format='s16', layout='mono', samples=count)
        frame.planes[0].update(pcm)
        frame.pts = self._n
        frame.sample_rate = RATE
        frame.time_base = fractions.Fraction(1, RATE)
        self._n += count
        return frame


# ---- measuring ------------------------------------------------------------------

def goertzel_power(x, hz):
    w = 2 * math.pi * hz / RATE
    c = 2 * math.cos(w)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + c * s1 - s2, s1
    return s1 * s1 + s2 * s2 - c * s1 * s2


def peak_hz(x):
    """Dominant frequency of the samples x (floats in [-1, 1])."""
    if numpy is not None:
        a = numpy.asarray(x, dtype=float)
        spec = numpy.abs(numpy.fft.rfft(a * numpy.hanning(len(a)))) ** 2
        spec[:int(40 * len(a) / RATE) + 1] = 0   # ignore DC and rumble below 40 Hz
        k = int(numpy.argmax(spec))
        if 0 < k < len(spec) - 1:                # parabola through log power
            la, lb, lc = (math.log(spec[k + d] + 1e-30) for d in (-1, 0, 1))
            den = la - 2 * lb + lc
            k += 0.5 * (la - lc) / den if den else 0
        return k * RATE / len(a)
    win = list(x[:RATE // 2])                      # 0.5 s: 20 Hz then 1 Hz steps
    best = max(range(40, 4000, 20), key=lambda f: goertzel_power(win, f))
    return float(max(range(best - 20, best + 21), key=lambda f: goertzel_power(win, f)))


def measure(samples):
    """{seconds, peak_hz, rms, rms_min, rms_max} of a track's samples (floats),
    skipping its first SKIP_S; rms_min/max over 100 ms blocks."""
    x = samples[int(SKIP_S * RATE):]
    out = {'seconds': round(len(samples) / RATE, 3), 'measured_seconds': round(len(x) / RATE, 3)}
    if len(x) < RATE // 10:
        return {**out, 'peak_hz': None, 'rms': 0.0, 'rms_min': 0.0, 'rms_max': 0.0}
    blk = RATE // 10
    rms = []
    for i in range(0, len(x) - blk + 1, blk):
        b = x[i:i + blk]
        rms.append(math.sqrt(sum(v * v for v in b) / blk) if numpy is None
                   else float(numpy.sqrt(numpy.mean(numpy.square(b)))))
    total = (float(numpy.sqrt(numpy.mean(numpy.square(x)))) if numpy is not None
             else math.sqrt(sum(v * v for v in x) / len(x)))
    return {**out, 'peak_hz': round(peak_hz(x), 2), 'rms': round(total, 4),
            'rms_min': round(min(rms), 4), 'rms_max': round(max(rms), 4)}


def frame_samples(frame):
    """Channel 0 of a decoded s16 frame (aiortc's Opus decoder gives packed
    stereo) as floats in [-1, 1]."""
    if frame.format.name not in ('s16', 's16p'):
        raise ValueError(f'unexpected sample format {frame.format.name}')
    chans = len(frame.layout.channels)
    step = chans if frame.format.is_packed else 1
    pcm = array.array('h', bytes(frame.planes[0]))[:frame.samples * step:step]
    if numpy is not None:
        return (numpy.frombuffer(pcm, dtype=numpy.int16) / 32768.0).tolist()
    return [v / 32768.0 for v in pcm]


def parse_answer_msids(sdp):
    """{mid: (direction, stream_id, track_id)} of an SDP's audio sections."""
    out, mid, direction, msid, audio = {}, None, None, (None, None), False

    def flush():
        if audio and mid is not None:
            out[mid] = (direction, *msid)
    for line in sdp.splitlines():
        if line.startswith('m='):
            flush()
            mid, direction, msid, audio = None, 'sendrecv', (None, None), line.startswith('m=audio')
        elif line.startswith('a=mid:'):
            mid = line[6:].strip()
        elif line[2:] in ('sendonly', 'recvonly', 'sendrecv', 'inactive') and line.startswith('a='):
            direction = line[2:]
        elif line.startswith('a=msid:'):
            bits = line[7:].split()
            msid = (bits[0], bits[1] if len(bits) > 1 else None)
    flush()
    return out


# ---- the participant -------------------------------------------------------------

class Client:
    def __init__(self, args, rtc, models):
        self.a = args
        self.rtc, self.models = rtc, models
        self.ws = None
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.tone = ToneTrack(args.tone)
        self.cid = self.tone.id                 # msid track id = AddTrack cid
        self.offer_id = 0
        self.answers = {}                       # offer id -> Future(SessionDescription)
        self.neg_lock = asyncio.Lock()
        self.published = asyncio.get_running_loop().create_future()
        self.left = asyncio.Event()
        self.me = None                          # our ParticipantInfo
        self.names = {}                         # participant sid -> identity
        self.states = {}                        # participant sid -> last State name
        self.mids = {}                          # mid -> {participant_sid, track_sid, stream}
        self.buckets = {}                       # track sid -> {samples, participant_sid, ...}
        self.readers = []
        self.tasks = []
        self.report = {'events': [], 'errors': [], 'offers': 0, 'answers': 0,
                       'requirements': [], 'speakers': [], 'pings': 0, 'pongs': 0}
        self.ping_interval = 5
        self.pc.on('track', self.on_track)
        self.pc.on('connectionstatechange', lambda: self.note(
            'pc_state', state=self.pc.connectionState))

    def note(self, event, **fields):
        self.report['events'].append({'event': event, 't': ms(), **fields})
        emit(event, **fields)

    def fail(self, what):
        log('error:', what)
        self.report['errors'].append({'t': ms(), 'error': what})

    # -- signaling out --
    async def send(self, **kw):
        req = self.rtc.SignalRequest(**kw)
        await self.ws.send(req.SerializeToString())

    def join_url(self, sdp):
        rtc, models = self.rtc, self.models
        jr = rtc.JoinRequest(
            client_info=models.ClientInfo(sdk=models.ClientInfo.PYTHON, version='0.1.0',
                                          protocol=16, os='linux', browser='aiortc'),
            connection_settings=rtc.ConnectionSettings(auto_subscribe=True),
            publisher_offer=rtc.SessionDescription(type='offer', sdp=sdp, id=1))
        wrapped = rtc.WrappedJoinRequest(compression=rtc.WrappedJoinRequest.GZIP,
                                         join_request=gzip.compress(jr.SerializeToString()))
        b64 = base64.urlsafe_b64encode(wrapped.SerializeToString()).decode().rstrip('=')
        q = urllib.parse.urlencode({'access_token': self.a.token, 'join_request': b64})
        return f"{self.a.url.rstrip('/')}/rtc/v1?{q}"

    async def local_offer(self):
        offer = await self.pc.createOffer()
        await self.pc.setLocalDescription(offer)
        self.offer_id += 1
        self.report['offers'] += 1
        self.answers[self.offer_id] = asyncio.get_running_loop().create_future()
        if self.a.verbose:
            log(f'offer {self.offer_id}:\n{self.pc.localDescription.sdp}')
        return self.pc.localDescription.sdp, self.offer_id

    async def apply_answer(self, oid, timeout=5):
        try:
            sd = await asyncio.wait_for(self.answers[oid], timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f'no answer to offer {oid} within {timeout} s')
        m2t = dict(sd.mid_to_track_id)
        if self.a.verbose:
            log(f'answer {oid} (mid_to_track_id {m2t}):\n{sd.sdp}')
        for mid, (direction, stream, track) in parse_answer_msids(sd.sdp).items():
            if direction != 'sendonly' or not stream:
                if mid in self.mids and direction != 'sendonly':
                    self.mids[mid] = None
                continue
            psid = stream.split('|')[0]
            tsid = m2t.get(mid) or track
            if track and m2t.get(mid) and m2t[mid] != track:
                self.fail(f'answer {oid}: mid {mid}: msid track {track} but '
                          f'mid_to_track_id {m2t[mid]}')
            self.mids[mid] = {'participant_sid': psid, 'track_sid': tsid, 'stream': stream}
        self.note('answer', id=oid, mid_to_track_id=m2t,
                  sending={m: v['track_sid'] for m, v in self.mids.items() if v})
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sd.sdp, type='answer'))

    async def negotiate(self, why):
        """One offer/answer round (the client is always the offerer on /rtc/v1)."""
        async with self.neg_lock:
            sdp, oid = await self.local_offer()
            self.note('offer', id=oid, why=why)
            await self.send(offer=self.rtc.SessionDescription(type='offer', sdp=sdp, id=oid))
            await self.apply_answer(oid)

    # -- signaling in --
    def learn(self, p):
        state = self.models.ParticipantInfo.State.Name(p.state)
        self.names[p.sid] = p.identity
        self.states[p.sid] = state
        return {'sid': p.sid, 'identity': p.identity, 'state': state,
                'tracks': [t.sid for t in p.tracks]}

    async def on_message(self, msg):
        kind = msg.WhichOneof('message')
        if kind == 'answer':
            self.report['answers'] += 1
            fut = self.answers.get(msg.answer.id)
            if fut is None or fut.done():
                self.fail(f'answer with unexpected id {msg.answer.id}')
            else:
                fut.set_result(msg.answer)
        elif kind == 'media_sections_requirement':
            n = msg.media_sections_requirement.num_audios
            self.report['requirements'].append(n)
            self.note('requirement', num_audios=n)
            for _ in range(n):
                self.pc.addTransceiver('audio', direction='recvonly')
            self.spawn(self.negotiate(f'media_sections_requirement {n}'))
        elif kind == 'track_published':
            tp = msg.track_published
            if tp.cid == self.cid and not self.published.done():
                self.published.set_result(tp.track)
            self.note('track_published', cid=tp.cid, track=tp.track.sid)
        elif kind == 'update':
            ps = [self.learn(p) for p in msg.update.participants]
            self.note('update', participants=ps)
        elif kind == 'speakers_changed':
            mine = {self.me.sid: self.me.identity} if self.me else {}
            sp = [{'sid': s.sid, 'identity': self.names.get(s.sid) or mine.get(s.sid),
                   'active': s.active, 'level': round(s.level, 3)}
                  for s in msg.speakers_changed.speakers]
            self.report['speakers'].append({'t': ms(), 'speakers': sp})
        elif kind == 'leave':
            self.note('leave', reason=msg.leave.reason, action=msg.leave.action)
            self.left.set()
        elif kind in ('pong', 'pong_resp'):
            self.report['pongs'] += 1
        elif kind == 'join':
            self.fail('a second JoinResponse')
        else:
            log('ignored', kind)

    async def reader(self):
        try:
            async for raw in self.ws:
                if isinstance(raw, str):
                    self.fail(f'text frame on a binary session: {raw[:80]}')
                    continue
                msg = self.rtc.SignalResponse()
                msg.ParseFromString(raw)
                await self.on_message(msg)
        except websockets.ConnectionClosed:
            pass
        self.note('ws_closed')
        self.left.set()

    async def pinger(self):
        while True:
            await asyncio.sleep(self.ping_interval)
            now = int(time.time() * 1000)
            await self.send(ping_req=self.rtc.Ping(timestamp=now))
            self.report['pings'] += 1

    def spawn(self, coro):
        async def guarded():
            try:
                await coro
            except (asyncio.CancelledError, websockets.ConnectionClosed):
                pass
            except Exception as e:  # recorded in the report, never silent
                self.fail(f'{type(e).__name__}: {e}')
        t = asyncio.ensure_future(guarded())
        self.tasks.append(t)
        return t

    # -- media in --
    def on_track(self, track):
        tr = next((t for t in self.pc.getTransceivers() if t.receiver.track is track), None)
        mid = tr.mid if tr else None
        self.note('track', mid=mid, kind=track.kind, assigned=self.mids.get(mid))
        if track.kind == 'audio':
            self.readers.append(self.spawn(self.record(mid, track)))

    async def record(self, mid, track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            cur = self.mids.get(mid)
            if not cur:
                continue
            b = self.buckets.get(cur['track_sid'])
            if b is None:
                b = self.buckets[cur['track_sid']] = {
                    'participant_sid': cur['participant_sid'], 'mid': mid, 'first_ms': ms(),
                    'samples': []}
                self.note('first_audio', mid=mid, track=cur['track_sid'],
                          participant=cur['participant_sid'])
            b['samples'].extend(frame_samples(frame))

    # -- the run --
    async def run(self):
        self.pc.addTransceiver(self.tone, direction='sendonly')
        for _ in range(self.a.recv):
            self.pc.addTransceiver('audio', direction='recvonly')
        sdp, oid = await self.local_offer()
        self.ws = await asyncio.wait_for(
            websockets.connect(self.join_url(sdp), max_size=None, ping_interval=None),
            self.a.timeout)
        first = self.rtc.SignalResponse()
        first.ParseFromString(await asyncio.wait_for(self.ws.recv(), 5))
        if first.WhichOneof('message') != 'join':
            raise RuntimeError(f"first message is {first.WhichOneof('message')}, not join")
        j = first.join
        self.me = j.participant
        self.ping_interval = j.ping_interval or 5
        others = [self.learn(p) for p in j.other_participants]
        self.report.update(identity=j.participant.identity, sid=j.participant.sid,
                           room=j.room.name, server_version=j.server_version)
        self.note('joined', identity=j.participant.identity, sid=j.participant.sid,
                  room=j.room.name, others=others, ping_interval=j.ping_interval)
        self.tasks.append(asyncio.ensure_future(self.reader()))
        self.spawn(self.pinger())
        async with self.neg_lock:
            await self.apply_answer(oid)
        await self.publish()
        t_pub = time.monotonic()
        try:
            await asyncio.wait_for(self.left.wait(), self.a.seconds)
            self.fail('the session ended before --seconds')
        except asyncio.TimeoutError:
            pass
        self.report['recorded_seconds'] = round(time.monotonic() - t_pub, 3)

    async def publish(self):
        rtc, models = self.rtc, self.models
        await self.send(add_track=rtc.AddTrackRequest(
            cid=self.cid, name='microphone', type=models.AUDIO, source=models.MICROPHONE))
        try:
            track = await asyncio.wait_for(self.published, 5)
        except asyncio.TimeoutError:
            raise RuntimeError('no track_published within 5 s of add_track')
        self.report['track_sid'] = track.sid
        await self.negotiate('publish')
        self.note('published', track=track.sid, cid=self.cid)
        if self.a.bad_srtp:
            await self.send_bad_srtp(self.a.bad_srtp)

    async def send_bad_srtp(self, count):
        """Sends `count` RTP packets with random payloads and random (so wrong)
        SRTP auth tags straight onto the selected ICE pair: tribune must drop
        and count them, and keep forwarding the real audio."""
        for _ in range(100):  # only once DTLS is up do they reach SRTP
            if self.pc.connectionState == 'connected':
                break
            await asyncio.sleep(0.05)
        dtls = next(t.sender.transport for t in self.pc.getTransceivers()
                    if t.sender.transport is not None)
        conn = dtls.transport.iceGatherer._connection  # aioice Connection
        ssrc = int.from_bytes(os.urandom(4), 'big')
        for seq in range(count):
            hdr = bytes([0x80, 111]) + seq.to_bytes(2, 'big') + (seq * 960).to_bytes(4, 'big') \
                + ssrc.to_bytes(4, 'big')
            await conn.send(hdr + os.urandom(40) + os.urandom(10))
        self.note('bad_srtp_sent', count=count)

    def results(self):
        remotes = []
        for tsid, b in self.buckets.items():
            psid = b['participant_sid']
            remotes.append({'track_sid': tsid, 'participant_sid': psid,
                            'identity': self.names.get(psid), 'mid': b['mid'],
                            'first_audio_ms': b['first_ms'], **measure(b['samples'])})
        return remotes

    async def leave(self):
        if self.ws is not None and not self.left.is_set():
            try:
                await self.send(leave=self.rtc.LeaveRequest(
                    reason=self.models.CLIENT_INITIATED,
                    action=self.rtc.LeaveRequest.DISCONNECT))
                await asyncio.wait_for(self.left.wait(), 3)
            except (websockets.ConnectionClosed, asyncio.TimeoutError):
                pass
        if self.ws is not None:
            await asyncio.wait_for(self.ws.close(), 3)
        for t in self.tasks:
            t.cancel()
        self.tone.stop()
        await asyncio.wait_for(self.pc.close(), 5)


async def main_async(args):
    rtc, models = load_protos(args.proto_dir)
    c = Client(args, rtc, models)
    ok = True
    try:
        await asyncio.wait_for(c.run(), args.seconds + args.timeout)
    except Exception as e:
        c.fail(f'{type(e).__name__}: {e}')
        ok = False
    report = {**c.report, 'tone_hz': args.tone, 'participants': c.names,
              'participant_states': c.states, 'remotes': c.results(),
              'cid': c.cid}
    try:
        await c.leave()
    except Exception as e:
        c.fail(f'leave: {type(e).__name__}: {e}')
    report['errors'] = c.report['errors']
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1)
    emit('done', ok=ok, remotes=[{k: r[k] for k in ('identity', 'peak_hz', 'rms', 'seconds')}
                                 for r in report['remotes']], errors=report['errors'])
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--url', required=True, help='ws://host:port of tribune')
    ap.add_argument('--token', required=True, help='LiveKit access token (JWT)')
    ap.add_argument('--tone', type=float, default=523, help='Hz of the published sine')
    ap.add_argument('--seconds', type=float, default=8, help='how long to stay after publishing')
    ap.add_argument('--recv', type=int, default=3, help='recvonly audio sections in the first offer')
    ap.add_argument('--json', help='write the report here')
    ap.add_argument('--timeout', type=float, default=10, help='seconds allowed to join and publish')
    ap.add_argument('--proto-dir', default=PROTO_DIR)
    ap.add_argument('--verbose', action='store_true', help='log every offer and answer SDP')
    ap.add_argument('--bad-srtp', type=int, default=0,
                    help='after publishing, send this many packets with bad SRTP auth tags')
    args = ap.parse_args()
    loopback_only()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == '__main__':
    main()
