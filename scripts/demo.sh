#!/usr/bin/env bash
# `make demo`: build the plugin, stage the shipped default model into it, render a demo WAV
# (a sound generated in code) through the plugin in pedalboard, and print where it is and
# the latency the plugin reported.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
BUILD_DIR=${BUILD_DIR:-build}
CONFIG=${CONFIG:-Release}
OUT=${OUT:-out/demo}
MODEL=${MODEL:-python/nnplug/data/default.ts}
mkdir -p "$OUT"

if [ ! -f "$MODEL" ]; then
    # the shipped export is missing: export it again from its config and checkpoint
    .venv/bin/nnplug export python/nnplug/data/default.yaml -o "$OUT/default.ts"
    MODEL="$OUT/default.ts"
fi
.venv/bin/nnplug build --config "$CONFIG" --build-dir "$BUILD_DIR"
VST3="$BUILD_DIR/juce_project/nnplug_artefacts/$CONFIG/VST3/nnplug.vst3"
# the demo's bundle holds exactly the default model (an earlier stage may have left others)
rm -rf "$VST3/Contents/Resources/models"
.venv/bin/nnplug stage --plugin "$VST3" --model "$MODEL"

"$PY" - "$VST3" "$OUT/demo.wav" "$OUT/demo-input.wav" <<'PYEOF'
import sys
import numpy as np
from nnplug.audio import write_wav
from nnplug.hosts import open_host

vst3, wav, dry_wav = sys.argv[1], sys.argv[2], sys.argv[3]
sr = 44100
# A few plucked harmonic notes (the default model was trained on harmonic tones).
t = np.arange(4 * sr) / sr
x = np.zeros_like(t)
for k, f0 in enumerate([220.0, 277.2, 329.6, 440.0]):
    on = t >= k * 0.9
    tt = np.where(on, t - k * 0.9, 0.0)
    note = sum(np.sin(2 * np.pi * f0 * h * tt) / h for h in range(1, 6))
    x += on * 0.15 * note * np.exp(-3.0 * tt)
x = np.stack([x, x]).astype(np.float32)
host = open_host("pedalboard", vst3, sr)
y = host.render(x, 512)
for path, audio in ((dry_wav, x), (wav, y)):
    write_wav(path, audio, sr)
lat = host.reported_latency()
print(f"demo: input  {dry_wav}")
print(f"demo: output {wav} ({y.shape[1] / sr:.1f} s, stereo, through nnplug.vst3 with the default model)")
print(f"demo: plugin reported latency {lat} samples ({1000 * lat / sr:.1f} ms at {sr} Hz; compensated by pedalboard)")
if not np.isfinite(y).all() or np.abs(y).max() == 0:
    sys.exit("demo: the plugin produced silence or non-finite samples")
PYEOF
