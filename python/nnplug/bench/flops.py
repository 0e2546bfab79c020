"""The arithmetic a model needs per second of audio, against what one core can do: an upper
bound on how much faster than real time the model can possibly run on this machine.

    nnplug bench flops rave-v2 [more names from nnplug.models.MODEL_CONFIGS]

Counts the multiply-adds of every Conv1d / ConvTranspose1d (forward hooks on one second of
audio; activations and the rest are ignored, so the bound is generous), and times a large
float32 matrix product on one thread (MKL's best case). Bound = product rate / model FLOPs.
"""
from __future__ import annotations

import sys
import time

import torch
import torch.nn as nn

SAMPLE_RATE = 44100


def conv_flops_per_second(model: nn.Module, sample_rate: int = SAMPLE_RATE) -> float:
    """Floating-point operations (2 per multiply-add) of the model's convolutions on one second of mono audio."""
    macs = 0

    def count(module, inputs, output):
        nonlocal macs
        frames = inputs[0].shape[-1] if isinstance(module, nn.ConvTranspose1d) else output.shape[-1]
        macs += module.weight.numel() * frames * inputs[0].shape[0]

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d))]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 1, sample_rate))
    finally:
        for h in hooks:
            h.remove()
    return 2.0 * macs


def matmul_flops_per_second(size: int = 1536, rows: int = 512, repeats: int = 20) -> float:
    """One thread's float32 matrix-product rate on a large, well-shaped product (the best case)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        a, b = torch.randn(rows, size), torch.randn(size, size)
        a @ b
        t0 = time.perf_counter()
        for _ in range(repeats):
            a @ b
        return repeats * 2.0 * rows * size * size / (time.perf_counter() - t0)
    finally:
        torch.set_num_threads(before)


def main(argv=None) -> int:
    from nnplug.models import MODEL_CONFIGS, build_model

    names = (argv if argv is not None else sys.argv[1:]) or ["rave-v2"]
    peak = matmul_flops_per_second()
    print(f"one thread, float32 matrix product: {peak / 1e9:.1f} GFLOP/s")
    for name in names:
        if name not in MODEL_CONFIGS:
            print(f"unknown model {name!r}: one of {', '.join(MODEL_CONFIGS)}", file=sys.stderr)
            return 2
        model = build_model(MODEL_CONFIGS[name])
        flops = conv_flops_per_second(model)
        params = sum(p.numel() for p in model.parameters())
        print(f"{name}: {params / 1e6:.1f} M parameters, {flops / 1e9:.2f} GFLOP per second of mono audio "
              f"(convolutions) -> at most {peak / flops:.1f}x real time on one thread, at the product's best rate")
    return 0


if __name__ == "__main__":
    print("nnplug: note: python -m nnplug.bench.flops is deprecated; use nnplug bench flops", file=sys.stderr)
    sys.exit(main())
