// app.js — tribune's debate room page: join form (development tokens) or
// direct join (token in the URL), participant list with speaking and muted
// state, own microphone toggle and input level, remote audio, text chat over
// LiveKit text streams (topic "chat"), a moderator-run debate timer kept in
// the room metadata, and leaving. Plain JS on the unmodified livekit-client.
import { ConnectionState, DisconnectReason, Room, RoomEvent, Track } from 'livekit-client';
import {
  NoTokenEndpoint, claimsOf, devToken, hasTokenEndpoint, httpBase, identityFor, signalingUrl,
  tokenFromLocation,
} from './token.js';
import {
  formatSeconds, secondsLeft, spokenDuration, timerOf, updateRoomMetadata, withTimer,
} from './timer.js';

const $ = (id) => document.getElementById(id);
const VIEWS = ['join-view', 'notoken-view', 'message-view', 'room-view'];
const CHAT_TOPIC = 'chat';
const CONNECT_TIMEOUT_MS = 20000;
const SEND_TIMEOUT_MS = 10000;
const WARN_AT_S = 30;

const state = {
  room: null,       // the livekit Room while in a room
  token: '',
  wsUrl: '',
  roomName: '',
  identity: '',
  isAdmin: false,
  fromUrl: null,    // {token, url} when the page's URL carried the token
  leaving: false,
  speaking: new Set(), // identities in the last ActiveSpeakersChanged
  timer: null,      // {startedAt, durationS, by} or null
  timerFlags: { warned: false, ended: false },
  ticker: 0,
  meter: null,      // {ctx, source, analyser, mst, buf, interval}
};

function show(view) {
  for (const v of VIEWS) $(v).hidden = v !== view;
}

function setConn(text) {
  $('conn').textContent = text;
}

function focusHeading(el) {
  if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
  el.focus({ preventScroll: false });
}

function showMessage(title, text, { button = null } = {}) {
  $('message-title').textContent = title;
  $('message-text').textContent = text;
  const b = $('message-button');
  b.hidden = !button;
  if (button) {
    b.textContent = button.label;
    b.onclick = button.onClick;
  }
  show('message-view');
  focusHeading($('message-title'));
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => {
    t = setTimeout(() => rej(new Error(`${what} timed out after ${Math.round(ms / 1000)} s`)), ms);
  })]).finally(() => clearTimeout(t));
}

// ---- participants ---------------------------------------------------------

function displayName(p) {
  return (p && (p.name || p.identity)) || '';
}

function nameOfIdentity(identity) {
  const room = state.room;
  if (!room) return identity;
  if (identity === room.localParticipant.identity) return displayName(room.localParticipant);
  const p = room.remoteParticipants.get(identity);
  return p ? displayName(p) : identity;
}

/** {muted, noMic} for a participant's microphone. */
function micState(p, isLocal) {
  const pub = p.getTrackPublication(Track.Source.Microphone);
  if (isLocal) return { muted: !p.isMicrophoneEnabled, noMic: !pub };
  return { muted: !pub || pub.isMuted, noMic: !pub };
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** A crossed-out microphone (the muted icon of the participant list). */
function micOffIcon() {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon muted-icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const [d, cls] of [['M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3z', ''],
    ['M19 11a7 7 0 0 1-14 0M12 18v3M8 21h8', 'line'], ['M4 3l16 18', 'line']]) {
    const path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    if (cls) path.setAttribute('class', cls);
    svg.append(path);
  }
  return svg;
}

function personItem(li, p, isLocal) {
  const speaking = state.speaking.has(p.identity);
  const { muted, noMic } = micState(p, isLocal);
  li.dataset.identity = p.identity;
  li.dataset.name = displayName(p);
  li.dataset.speaking = String(speaking && !muted);
  li.dataset.muted = String(muted);
  li.replaceChildren();
  const dot = document.createElement('span');
  dot.className = 'dot';
  dot.setAttribute('aria-hidden', 'true');
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = displayName(p);
  if (isLocal) {
    const you = document.createElement('span');
    you.className = 'you';
    you.textContent = state.isAdmin ? '(you, moderator)' : '(you)';
    who.append(you);
  }
  const st = document.createElement('span');
  st.className = 'state';
  if (muted) {
    const icon = micOffIcon();
    const t = document.createElement('span');
    t.className = 'visually-hidden';
    t.textContent = noMic ? 'no microphone' : 'microphone off';
    st.append(icon, t);
    st.title = noMic ? 'No microphone' : 'Microphone off';
  } else if (speaking) {
    st.textContent = 'speaking';
  }
  li.append(dot, who, st);
}

function renderPeople() {
  const room = state.room;
  const list = $('people');
  if (!room) {
    list.replaceChildren();
    $('people-count').textContent = '';
    return;
  }
  const people = [[room.localParticipant, true],
    ...[...room.remoteParticipants.values()].map((p) => [p, false])];
  const old = new Map([...list.children].map((li) => [li.dataset.identity, li]));
  const items = people.map(([p, isLocal]) => {
    const li = old.get(p.identity) || document.createElement('li');
    personItem(li, p, isLocal);
    return li;
  });
  list.replaceChildren(...items);
  $('people-count').textContent = `(${items.length})`;
}

// ---- own microphone ---------------------------------------------------------

function renderMic() {
  const room = state.room;
  const on = !!room && room.localParticipant.isMicrophoneEnabled;
  const b = $('mic-button');
  b.setAttribute('aria-pressed', String(on));
  b.title = on ? 'Microphone is on: press to mute' : 'Microphone is off: press to unmute';
}

async function toggleMic() {
  const room = state.room;
  if (!room) return;
  const b = $('mic-button');
  b.disabled = true;
  try {
    await room.localParticipant.setMicrophoneEnabled(!room.localParticipant.isMicrophoneEnabled);
  } catch (e) {
    setConn(`Microphone: ${e.message}`);
  } finally {
    b.disabled = false;
    renderMic();
    renderPeople();
    hookMeter();
  }
}

/** The local microphone's MediaStreamTrack, or null. */
function localMicTrack() {
  const pub = state.room?.localParticipant.getTrackPublication(Track.Source.Microphone);
  return pub?.track?.mediaStreamTrack || null;
}

/** (Re)connects the level meter to the current microphone track. */
function hookMeter() {
  const mst = localMicTrack();
  const m = state.meter;
  if (!m || m.mst === mst) return;
  try { m.source?.disconnect(); } catch { /* already */ }
  m.source = null;
  m.mst = mst;
  if (!mst) return;
  m.source = m.ctx.createMediaStreamSource(new MediaStream([mst]));
  m.source.connect(m.analyser);
}

function startMeter() {
  stopMeter();
  let ctx;
  try {
    ctx = new AudioContext();
  } catch {
    return; // no Web Audio: no meter
  }
  ctx.onstatechange = renderAudioButton;
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  state.meter = { ctx, analyser, source: null, mst: null, buf: new Float32Array(analyser.fftSize) };
  hookMeter();
  state.meter.interval = setInterval(() => {
    const m = state.meter;
    if (!m) return;
    if (m.mst !== localMicTrack()) hookMeter();
    let value = 0;
    if (m.source && m.ctx.state === 'running') {
      m.analyser.getFloatTimeDomainData(m.buf);
      let sum = 0;
      for (const v of m.buf) sum += v * v;
      const rms = Math.sqrt(sum / m.buf.length);
      // -60 dBFS .. 0 dBFS onto 0..1
      value = rms > 0 ? Math.min(1, Math.max(0, (20 * Math.log10(rms) + 60) / 60)) : 0;
    }
    $('mic-level').value = value;
  }, 100);
}

function stopMeter() {
  const m = state.meter;
  if (!m) return;
  clearInterval(m.interval);
  try { m.source?.disconnect(); } catch { /* already */ }
  m.ctx.close().catch(() => {});
  state.meter = null;
  $('mic-level').value = 0;
}

// ---- sound ------------------------------------------------------------------

function renderAudioButton() {
  const room = state.room;
  const suspended = state.meter && state.meter.ctx.state === 'suspended';
  $('audio-button').hidden = !room || (room.canPlaybackAudio && !suspended);
}

async function enableSound() {
  try {
    await state.room?.startAudio();
    await state.meter?.ctx.resume();
  } catch (e) {
    setConn(`Sound: ${e.message}`);
  }
  renderAudioButton();
}

// ---- chat -------------------------------------------------------------------

function timeLabel(ms) {
  const d = new Date(ms);
  return {
    iso: d.toISOString(),
    text: d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
  };
}

function scrollChat(force) {
  const log = $('chat-log');
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  if (force || nearBottom) log.scrollTop = log.scrollHeight;
}

/** Appends a message; returns its <li> (to mark it failed later). */
function addChat({ from, identity = '', text, ts = Date.now(), mine = false }) {
  const li = document.createElement('li');
  li.dataset.from = from;
  li.dataset.identity = identity;
  if (mine) li.classList.add('mine');
  const meta = document.createElement('div');
  meta.className = 'meta';
  const who = document.createElement('span');
  who.className = 'from';
  who.textContent = mine ? `${from} (you)` : from;
  const { iso, text: hm } = timeLabel(Number.isFinite(ts) && ts > 0 ? ts : Date.now());
  const time = document.createElement('time');
  time.dateTime = iso;
  time.textContent = hm;
  meta.append(who, time);
  const body = document.createElement('p');
  body.className = 'text';
  body.textContent = text;
  li.append(meta, body);
  $('chat-log').append(li);
  scrollChat(mine);
  return li;
}

function addSystem(text) {
  const li = document.createElement('li');
  li.className = 'system';
  li.textContent = text;
  $('chat-log').append(li);
  scrollChat(false);
}

async function onTextStream(reader, { identity }) {
  try {
    const text = await reader.readAll();
    if (!text) return;
    addChat({ from: nameOfIdentity(identity), identity, text, ts: reader.info?.timestamp });
  } catch (e) {
    addSystem(`A message from ${nameOfIdentity(identity)} could not be read (${e.message}).`);
  }
}

async function sendChat(ev) {
  ev.preventDefault();
  const room = state.room;
  const input = $('chat-input');
  const text = input.value.trim();
  if (!room || !text) return;
  input.value = '';
  const li = addChat({ from: displayName(room.localParticipant), identity: state.identity, text,
    mine: true });
  li.setAttribute('aria-busy', 'true');
  try {
    await withTimeout(room.localParticipant.sendText(text, { topic: CHAT_TOPIC }),
      SEND_TIMEOUT_MS, 'sending');
    li.dataset.sent = 'true';
  } catch (e) {
    li.classList.add('failed');
    li.dataset.sent = 'false';
    const err = document.createElement('p');
    err.className = 'error';
    err.textContent = `Not delivered: ${e.message}`;
    li.append(err);
  } finally {
    li.removeAttribute('aria-busy');
  }
}

// ---- debate timer -------------------------------------------------------------

function announceTimer(text) {
  // Re-set so that the same phrase twice is announced twice.
  const s = $('timer-status');
  s.textContent = '';
  setTimeout(() => { s.textContent = text; }, 50);
}

function applyTimer(metadata, { initial = false } = {}) {
  const t = timerOf(metadata);
  const prev = state.timer;
  const same = prev && t && prev.startedAt === t.startedAt && prev.durationS === t.durationS;
  if (same) return;
  state.timer = t;
  if (t) {
    const left = secondsLeft(t);
    state.timerFlags = { warned: left <= WARN_AT_S, ended: left === 0 };
    if (!initial || left > 0) {
      announceTimer(`Timer started${t.by ? ` by ${t.by}` : ''}: ${spokenDuration(t.durationS)}.`);
    }
  } else if (prev && !initial) {
    announceTimer('Timer reset.');
  }
  renderTimer();
}

function renderTimer() {
  const el = $('timer');
  const t = state.timer;
  el.classList.remove('idle', 'running', 'warn', 'done');
  if (!t) {
    el.textContent = '0:00';
    el.classList.add('idle');
    el.dataset.state = 'idle';
    el.dataset.left = '';
    $('timer-info').textContent = state.isAdmin
      ? 'No timer running. Choose a duration and start it.'
      : 'No timer running. The moderator starts it.';
    return;
  }
  const left = secondsLeft(t);
  el.textContent = formatSeconds(left);
  el.dataset.left = String(left);
  el.dataset.state = left === 0 ? 'done' : 'running';
  el.classList.add(left === 0 ? 'done' : left <= WARN_AT_S ? 'warn' : 'running');
  const by = t.by ? ` by ${t.by}` : '';
  $('timer-info').textContent = left === 0
    ? `Time is up (${spokenDuration(t.durationS)}, started${by}).`
    : `${spokenDuration(t.durationS)}, started${by}.`;
  if (left === 0 && !state.timerFlags.ended) {
    state.timerFlags.ended = true;
    announceTimer('Time is up.');
  } else if (left > 0 && left <= WARN_AT_S && !state.timerFlags.warned) {
    state.timerFlags.warned = true;
    announceTimer(`${left} seconds left.`);
  }
}

async function setTimer(timer) {
  const room = state.room;
  if (!room) return;
  const err = $('timer-error');
  err.textContent = '';
  const buttons = [$('timer-start'), $('timer-reset')];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const metadata = withTimer(room.metadata, timer);
    const updated = await updateRoomMetadata({ base: httpBase(state.wsUrl), token: state.token,
      room: room.name || state.roomName, metadata });
    applyTimer(updated && typeof updated.metadata === 'string' ? updated.metadata : metadata);
  } catch (e) {
    err.textContent = `Could not ${timer ? 'start' : 'reset'} the timer: ${e.message}`;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

function startTimer() {
  const durationS = Number($('timer-duration').value);
  const by = state.room ? displayName(state.room.localParticipant) : '';
  return setTimer({ startedAt: Date.now(), durationS, by });
}

// ---- joining and leaving --------------------------------------------------------

const REASONS = {
  [DisconnectReason.DUPLICATE_IDENTITY]: 'Someone else joined with your identity.',
  [DisconnectReason.PARTICIPANT_REMOVED]: 'You were removed from the room.',
  [DisconnectReason.ROOM_DELETED]: 'The room was closed.',
  [DisconnectReason.SERVER_SHUTDOWN]: 'The server shut down.',
  [DisconnectReason.JOIN_FAILURE]: 'Joining failed.',
  [DisconnectReason.STATE_MISMATCH]: 'The connection was reset by the server.',
  [DisconnectReason.SIGNAL_CLOSE]: 'The connection to the server was lost.',
};

function wireRoom(room) {
  room
    .on(RoomEvent.ParticipantConnected, (p) => {
      renderPeople();
      addSystem(`${displayName(p)} joined.`);
    })
    .on(RoomEvent.ParticipantDisconnected, (p) => {
      state.speaking.delete(p.identity);
      renderPeople();
      addSystem(`${displayName(p)} left.`);
    })
    .on(RoomEvent.ParticipantNameChanged, renderPeople)
    .on(RoomEvent.ActiveSpeakersChanged, (speakers) => {
      state.speaking = new Set(speakers.map((p) => p.identity));
      renderPeople();
    })
    .on(RoomEvent.TrackMuted, () => { renderPeople(); renderMic(); })
    .on(RoomEvent.TrackUnmuted, () => { renderPeople(); renderMic(); })
    .on(RoomEvent.TrackPublished, renderPeople)
    .on(RoomEvent.TrackUnpublished, renderPeople)
    .on(RoomEvent.LocalTrackPublished, () => { renderPeople(); renderMic(); hookMeter(); })
    .on(RoomEvent.LocalTrackUnpublished, () => { renderPeople(); renderMic(); hookMeter(); })
    .on(RoomEvent.TrackSubscribed, (track, _pub, p) => {
      if (track.kind === Track.Kind.Audio) {
        const el = track.attach();
        el.dataset.identity = p.identity;
        $('audio-sink').append(el);
      }
      renderPeople();
    })
    .on(RoomEvent.TrackUnsubscribed, (track) => {
      for (const el of track.detach()) el.remove();
      renderPeople();
    })
    .on(RoomEvent.RoomMetadataChanged, (md) => applyTimer(md))
    .on(RoomEvent.AudioPlaybackStatusChanged, renderAudioButton)
    .on(RoomEvent.MediaDevicesError, (e) => setConn(`Microphone: ${e.message}`))
    .on(RoomEvent.Reconnecting, () => setConn('Reconnecting…'))
    .on(RoomEvent.Reconnected, () => setConn('Connected'))
    .on(RoomEvent.ConnectionStateChanged, (s) => {
      if (s === ConnectionState.Connected) setConn('Connected');
    })
    .on(RoomEvent.Disconnected, (reason) => onDisconnected(room, reason));
  room.registerTextStreamHandler(CHAT_TOPIC, onTextStream);
}

function teardown() {
  stopMeter();
  clearInterval(state.ticker);
  state.ticker = 0;
  for (const el of [...$('audio-sink').children]) el.remove();
  state.room = null;
  state.speaking = new Set();
  state.timer = null;
  renderPeople();
  document.title = 'Tribune debate room';
}

function rejoinButton() {
  if (state.fromUrl) {
    return { label: 'Join again', onClick: () => joinWith(state.fromUrl.token, state.fromUrl.url) };
  }
  return { label: 'Join again', onClick: () => { show('join-view'); $('join-name').focus(); } };
}

function onDisconnected(room, reason) {
  if (state.room !== room) return;
  teardown();
  setConn('');
  if (state.leaving) {
    state.leaving = false;
    showMessage('You left the room', 'Thanks for taking part.', { button: rejoinButton() });
    return;
  }
  const why = REASONS[reason] || `Disconnected (${DisconnectReason[reason] ?? 'unknown reason'}).`;
  showMessage('Disconnected', why, { button: rejoinButton() });
}

async function leave() {
  const room = state.room;
  if (!room) return;
  state.leaving = true;
  $('leave-button').disabled = true;
  try {
    await withTimeout(room.disconnect(), 5000, 'leaving');
  } catch { /* the Disconnected handler or the fallback below shows the result */ }
  $('leave-button').disabled = false;
  if (state.room === room) onDisconnected(room, DisconnectReason.CLIENT_INITIATED);
}

async function joinWith(token, url) {
  const claims = claimsOf(token);
  state.token = token;
  state.wsUrl = signalingUrl(url);
  state.roomName = claims.video?.room || '';
  state.identity = claims.sub || '';
  state.isAdmin = claims.video?.roomAdmin === true;
  state.leaving = false;
  setConn('Connecting…');
  showMessage('Connecting…', state.roomName ? `Joining room “${state.roomName}”.` : 'Joining.');

  const room = new Room();
  state.room = room;
  wireRoom(room);
  startMeter(); // created now: in the form flow this is still the click's user gesture
  try {
    await withTimeout(room.connect(state.wsUrl, token), CONNECT_TIMEOUT_MS, 'connecting');
  } catch (e) {
    state.room = null;
    room.removeAllListeners();
    await room.disconnect().catch(() => {});
    teardown();
    setConn('');
    showMessage('Could not join', e.message || String(e), { button: {
      label: 'Try again',
      onClick: () => (state.fromUrl ? joinWith(token, url) : (show('join-view'),
        $('join-name').focus())),
    } });
    return;
  }
  state.roomName = room.name || state.roomName;
  state.identity = room.localParticipant.identity;
  document.title = `${state.roomName} — Tribune debate`;
  $('room-name').textContent = `“${state.roomName}”`;
  $('chat-log').replaceChildren();
  $('timer-error').textContent = '';
  $('timer-controls').hidden = !state.isAdmin;
  setConn('Connected');
  show('room-view');
  renderPeople();
  renderMic();
  applyTimer(room.metadata, { initial: true });
  state.ticker = setInterval(renderTimer, 250);
  focusHeading($('room-title'));

  try {
    await room.localParticipant.setMicrophoneEnabled(true);
  } catch (e) {
    setConn(`Connected, but the microphone is unavailable: ${e.message}`);
  }
  renderMic();
  renderPeople();
  hookMeter();
  renderAudioButton();
}

// ---- join form ----------------------------------------------------------------

function fieldError(input, message) {
  input.setAttribute('aria-invalid', 'true');
  $('join-error').textContent = message;
  input.focus();
}

async function submitJoin(ev) {
  ev.preventDefault();
  const nameEl = $('join-name');
  const roomEl = $('join-room');
  for (const el of [nameEl, roomEl]) el.removeAttribute('aria-invalid');
  $('join-error').textContent = '';
  const name = nameEl.value.trim();
  const roomName = roomEl.value.trim();
  if (!name) return fieldError(nameEl, 'Please enter your name.');
  if (!roomName) return fieldError(roomEl, 'Please enter a room name.');
  const button = $('join-button');
  button.disabled = true;
  button.textContent = 'Joining…';
  try {
    const { token, url } = await devToken({ room: roomName, identity: identityFor(name), name,
      admin: $('join-admin').checked });
    try { localStorage.setItem('tribune.name', name); } catch { /* private mode */ }
    const u = new URL(window.location.href);
    u.searchParams.set('room', roomName);
    u.hash = '';
    history.replaceState(null, '', u);
    await joinWith(token, url);
  } catch (e) {
    if (e instanceof NoTokenEndpoint) {
      show('notoken-view');
      focusHeading($('notoken-title'));
    } else {
      $('join-error').textContent = `Could not join: ${e.message}`;
    }
  } finally {
    button.disabled = false;
    button.textContent = 'Join';
  }
}

async function init() {
  $('join-form').addEventListener('submit', submitJoin);
  $('mic-button').addEventListener('click', toggleMic);
  $('audio-button').addEventListener('click', enableSound);
  $('leave-button').addEventListener('click', leave);
  $('chat-form').addEventListener('submit', sendChat);
  $('timer-start').addEventListener('click', startTimer);
  $('timer-reset').addEventListener('click', () => setTimer(null));

  state.fromUrl = tokenFromLocation();
  if (state.fromUrl) {
    await joinWith(state.fromUrl.token, state.fromUrl.url);
    return;
  }
  const params = new URLSearchParams(window.location.search);
  $('join-room').value = params.get('room') || 'debate';
  try { $('join-name').value = localStorage.getItem('tribune.name') || ''; } catch { /* */ }
  show('join-view');
  (params.get('room') && $('join-name').value ? $('join-button') : $('join-name')).focus();
  if (!(await hasTokenEndpoint()) && !$('join-view').hidden) {
    show('notoken-view');
    focusHeading($('notoken-title'));
  }
}

// For debugging from the console.
window.tribuneApp = { get room() { return state.room; }, state };

init();
