// analyse.js — measures received audio in the page: RMS energy and the
// dominant frequency of a MediaStream, through Web Audio
// (MediaStreamAudioSourceNode -> AnalyserNode, fftSize 8192). Used both for
// LiveKit's remote tracks (app.js) and the harness self-test's loopback
// RTCPeerConnection pair (loopback.js), so the self-test proves this code.
//
// Chromium quirk: a remote WebRTC track only feeds Web Audio while the same
// stream also plays in a media element (crbug.com/933677; measured on
// Chromium 156: without the element the analyser reads pure silence). So each
// tap also plays the stream in a muted <audio> element.

const FFT_SIZE = 8192;

/** One shared AudioContext per page (48 kHz, like Opus). */
let sharedCtx = null;

/** The page's AudioContext, created and resumed on first use. */
export async function audioContext() {
  if (!sharedCtx) sharedCtx = new AudioContext({ sampleRate: 48000 });
  if (sharedCtx.state !== 'running') await sharedCtx.resume();
  return sharedCtx;
}

/**
 * Attaches a stream to the audio graph. Returns a tap {analyser, element,
 * close()}. withElement:false leaves out the <audio> element (to show the
 * quirk above).
 */
export async function createTap(stream, { withElement = true } = {}) {
  const ctx = await audioContext();
  let element = null;
  if (withElement) {
    element = document.createElement('audio');
    element.muted = true; // heard by nobody; only makes Chromium pull the track
    element.autoplay = true;
    element.srcObject = stream;
    document.body.appendChild(element);
    await element.play().catch(() => {}); // autoplay flag makes this succeed
  }
  const source = ctx.createMediaStreamSource(stream);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = FFT_SIZE;
  analyser.smoothingTimeConstant = 0;
  source.connect(analyser);
  return {
    analyser,
    element,
    close() {
      source.disconnect();
      if (element) {
        element.srcObject = null;
        element.remove();
      }
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** RMS of one block of time-domain samples. */
function blockRms(buf) {
  let sum = 0;
  for (let i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
  return Math.sqrt(sum / buf.length);
}

/**
 * The peak of a power spectrum, refined by fitting a parabola through the
 * log power of the peak bin and its neighbours. Returns Hz, or 0 if silent.
 */
export function spectrumPeakHz(power, sampleRate, fftSize) {
  let k = 1;
  for (let i = 2; i < power.length - 1; i++) if (power[i] > power[k]) k = i;
  if (!(power[k] > 0)) return 0;
  const a = Math.log(power[k - 1] + 1e-20);
  const b = Math.log(power[k]);
  const c = Math.log(power[k + 1] + 1e-20);
  const den = a - 2 * b + c;
  const delta = den === 0 ? 0 : (0.5 * (a - c)) / den;
  return ((k + delta) * sampleRate) / fftSize;
}

/**
 * Samples the taps together for durationMs, every intervalMs. For each tap
 * returns {rms (mean over blocks), rmsMin, rmsMax, peakHz (of the power
 * spectrum averaged over blocks), blocks}.
 */
export async function measureTaps(taps, { durationMs = 1000, intervalMs = 100 } = {}) {
  const ctx = await audioContext();
  const acc = taps.map((t) => ({
    time: new Float32Array(t.analyser.fftSize),
    freq: new Float32Array(t.analyser.frequencyBinCount),
    power: new Float64Array(t.analyser.frequencyBinCount),
    rms: [],
  }));
  const end = performance.now() + durationMs;
  do {
    await sleep(intervalMs);
    taps.forEach((t, i) => {
      const a = acc[i];
      t.analyser.getFloatTimeDomainData(a.time);
      t.analyser.getFloatFrequencyData(a.freq); // dB
      for (let j = 0; j < a.freq.length; j++) a.power[j] += 10 ** (a.freq[j] / 10);
      a.rms.push(blockRms(a.time));
    });
  } while (performance.now() < end);
  return acc.map((a) => ({
    rms: a.rms.reduce((s, v) => s + v, 0) / a.rms.length,
    rmsMin: Math.min(...a.rms),
    rmsMax: Math.max(...a.rms),
    peakHz: spectrumPeakHz(a.power, ctx.sampleRate, FFT_SIZE),
    blocks: a.rms.length,
  }));
}

/**
 * One-shot: tap a stream, let the analyser's 8192-sample window fill
 * (warmupMs), measure, release the tap.
 */
export async function measureStream(stream, { warmupMs = 400, ...opts } = {}) {
  const tap = await createTap(stream, opts);
  try {
    await sleep(warmupMs);
    return (await measureTaps([tap], opts))[0];
  } finally {
    tap.close();
  }
}
