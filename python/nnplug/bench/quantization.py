"""What float16 and int8 weights do to a model's output, against its float32 self.

    python -m nnplug.bench.quantization --model rave-v2 --buffers 2048,4096,8192,16384
    python -m nnplug.bench.quantization --model default --min-weights 4096 --signal tones

For each weight format (float16; int8 with reduce_range, as export stores it; int8 with the full
8-bit activation range, for comparison) the model's forward is rounded, converted, stored and
scripted as `export` does, streamed at each buffer size N on one thread, and compared with the
float32 offline model shifted by the delay (interior samples only): relative RMS, largest error
and the multi-resolution STFT distance of `nnplug.export.quality`. *vs first N* is the relative
RMS between the stream at N and at the first buffer size: how much the per-call activation
scales make the output depend on N (0 for float16, whose kernel quantizes nothing).

Signals: `noise` is export's own test signal (white noise at 0.5 standard deviation);
`tones` is the held-out set of `nnplug train` (harmonic tones, what the default model learned),
its clips played one after another.
"""
from __future__ import annotations

import argparse
import copy
import warnings
from pathlib import Path

import torch

from nnplug import streaming as ns
from nnplug.export.quality import relative_rms, stft_distance
from nnplug.runtime import plugin_execution
from nnplug.streaming.check import interior_margins, run_in_buffers
from nnplug.streaming.half import HALF_MIN_WEIGHTS, round_to_half, store_half
from nnplug.streaming.int8 import INT8_MIN_WEIGHTS, round_to_int8, store_int8
from nnplug.streaming.reparam import plain_copy

VARIANTS = ("float16", "int8", "int8 full range")


def _model(name: str) -> torch.nn.Module:
    from nnplug.models import MODEL_CONFIGS, build_model, set_randomness
    if name == "default":
        from nnplug.export import load_config
        model, _ = load_config(str(Path(__file__).resolve().parents[1] / "data" / "default.yaml"))
    else:
        torch.manual_seed(0)
        model = build_model(MODEL_CONFIGS[name])
    set_randomness(model, enabled=False)
    return plain_copy(model).cpu().float().eval()


def _signal(kind: str, samples: int) -> torch.Tensor:
    if kind == "tones":
        from nnplug.train import held_out_set
        clips = held_out_set(0)
        return clips.reshape(1, 1, -1)
    return 0.5 * torch.randn(1, 1, samples, generator=torch.Generator().manual_seed(3))


def _stream(model: torch.nn.Module, variant: str, min_weights: int) -> tuple:
    rounded = copy.deepcopy(model)
    if variant == "float16":
        layers = round_to_half(rounded, min_weights)
        stream = ns.convert(rounded)
        store_half(stream, min_weights)
    else:
        layers = round_to_int8(rounded, min_weights)
        stream = ns.convert(rounded)
        store_int8(stream, min_weights, reduce_range=(variant == "int8"))
    return torch.jit.script(stream), stream.delay, stream.receptive_field, layers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="rave-v2", help="a name of nnplug.models.MODEL_CONFIGS, or default "
                        "(the shipped trained model)")
    parser.add_argument("--buffers", default="2048,4096,8192,16384")
    parser.add_argument("--min-weights", type=int, default=0,
                        help=f"wide-layer threshold (default: export's, {HALF_MIN_WEIGHTS} for float16 and "
                             f"{INT8_MIN_WEIGHTS} for int8)")
    parser.add_argument("--signal", choices=("noise", "tones"), default="noise")
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds of noise (default: 6)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*quantized tensor creation.*")
    buffers = [int(b) for b in args.buffers.split(",")]
    model = _model(args.model)
    print(f"`python -m nnplug.bench.quantization --model {args.model} --buffers {args.buffers}"
          + (f" --min-weights {args.min_weights}" if args.min_weights else "") + f" --signal {args.signal}`\n")
    print("| model | weights | layers | N | relative RMS | max abs error | peak | STFT distance | vs first N |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    with plugin_execution():
        for variant in VARIANTS:
            threshold = args.min_weights or (HALF_MIN_WEIGHTS if variant == "float16" else INT8_MIN_WEIGHTS)
            scripted, delay, field, layers = _stream(model, variant, threshold)
            ratio = max(buffers[0], 1)
            x = _signal(args.signal, int(args.seconds * 44100))
            x = x[..., : x.size(-1) // ratio * ratio]
            offline = model(x)
            left, right = interior_margins(field)
            first = None
            for n in buffers:
                scripted.reset()
                y = run_in_buffers(scripted, x, [n])
                length = min(offline.size(-1), y.size(-1) - delay)
                ref, got = offline[..., left:length - right], y[..., left + delay:length - right + delay]
                first = got if first is None else first
                print(f"| {args.model} | {variant} | {layers} (>= {threshold}) | {n} | {relative_rms(got, ref):.2e} | "
                      f"{float((got - ref).abs().max()):.2e} | {float(ref.abs().max()):.2f} | "
                      f"{stft_distance(got, ref):.3g} | {relative_rms(got, first):.2e} |", flush=True)


if __name__ == "__main__":
    main()
