#!/usr/bin/env bash
# `make demo`: build the plugin, stage a model into it, render a demo WAV through the plugin
# in pedalboard, and print where it is and the latency the plugin reported.
# The staged model is the test fixture (a streaming cached filter with a known delay) until
# the default model from `nnplug export` is wired in here.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
BUILD_DIR=${BUILD_DIR:-build}
CONFIG=${CONFIG:-Release}
OUT=${OUT:-out/demo}
mkdir -p "$OUT"

.venv/bin/nnplug build --config "$CONFIG" --build-dir "$BUILD_DIR"
VST3="$BUILD_DIR/juce_project/nnplug_artefacts/$CONFIG/VST3/nnplug.vst3"

"$PY" tests/fixtures/make_models.py "$OUT/models" >/dev/null
MODEL="$OUT/models/delay_mono.ts"
.venv/bin/nnplug stage --plugin "$VST3" --model "$MODEL"

"$PY" - "$VST3" "$OUT/demo.wav" <<'PYEOF'
import sys
import numpy as np
import pedalboard
from pedalboard.io import AudioFile

vst3, wav = sys.argv[1], sys.argv[2]
sr = 44100
t = np.arange(3 * sr) / sr
x = (0.3 * np.sin(2 * np.pi * 220 * t) * np.exp(-t)).astype(np.float32)
x = np.stack([x, np.roll(x, 100)])
plugin = pedalboard.load_plugin(vst3)
y = plugin.process(x, sr, buffer_size=512)
with AudioFile(wav, "w", sr, num_channels=2) as f:
    f.write(y)
print(f"demo: wrote {wav} ({y.shape[1] / sr:.1f} s, stereo)")
print(f"demo: plugin reported latency {plugin.reported_latency_samples} samples "
      f"({1000 * plugin.reported_latency_samples / sr:.1f} ms at {sr} Hz)")
PYEOF
