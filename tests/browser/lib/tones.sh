#!/bin/sh
# tones.sh — writes the sine-tone WAVs that headless Chromium plays as each
# participant's fake microphone (--use-file-for-fake-audio-capture).
#   lib/tones.sh OUTDIR [HZ ...]      default HZ: 440 880 660 550
# Each file is OUTDIR/tone-HZ.wav: 48 kHz, mono, 16-bit signed PCM (the WAV
# flavour Chromium's fake capture reads; it loops the file), 30 s, -6 dBFS.
# Existing files are kept, so a run that needs the same tones reuses them.
set -eu
out=${1:?usage: tones.sh OUTDIR [HZ ...]}
shift
[ $# -gt 0 ] || set -- 440 880 660 550
mkdir -p "$out"
for hz in "$@"; do
  f="$out/tone-$hz.wav"
  [ -s "$f" ] && continue
  sox -q -n -r 48000 -c 1 -b 16 -e signed-integer "$f.tmp.wav" synth 30 sine "$hz" gain -6
  mv "$f.tmp.wav" "$f"
done
