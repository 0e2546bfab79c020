"""The matrix products of a wide layer on a short buffer, per weight format: how
`nnplug.streaming.int8.INT8_MIN_WEIGHTS` was chosen.

    python -m nnplug.bench.kernels [--rows-scale 1,8]

For each layer shape of the RAVE v2-sized model (`rave-v2`) that is near the threshold or above
it, with the rows its matrix product has at a model buffer of 2048 (times each --rows-scale:
8 = a buffer of 16384), one thread, it times float32 `addmm`, fbgemm's fp16 kernel and its
dynamic int8 kernel (with and without reduce_range). Each product cycles through enough copies
of the weights (64 MB of float32) that they come from memory, as in a model that does not fit in
the cache; the best of 5 repetitions is kept. Prints microseconds per product and int8 / float32.
"""
from __future__ import annotations

import argparse
import time
import warnings

import torch

from nnplug.streaming.int8 import int8_grid

# (reduced dimension C_in * k, output rows, rows of the product at N = 2048): rave-v2's layers
SHAPES = [(6144, 768, 1), (2304, 768, 2), (768, 768, 2), (1152, 384, 8), (384, 384, 8), (576, 192, 32),
          (192, 192, 32), (1536, 96, 8), (288, 96, 128), (96, 96, 128), (672, 16, 128), (112, 96, 128)]


def _best(fn, copies: int) -> float:
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for i in range(copies * 3):
            fn(i % copies)
        best = min(best, (time.perf_counter() - t0) / (copies * 3))
    return best * 1e6


def measure(reduced: int, outputs: int, rows: int) -> dict:
    copies = max(2, int(64e6 // (reduced * outputs * 4)))
    g = torch.Generator().manual_seed(0)
    weights = [torch.randn(outputs, reduced, generator=g) / reduced ** 0.5 for _ in range(copies)]
    bias = torch.randn(outputs, generator=g)
    x = torch.randn(rows, reduced, generator=g)
    half = [torch.ops.quantized.linear_prepack_fp16(w, bias) for w in weights]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # torch's deprecation notice for quantized tensors
        packed = []
        for w in weights:
            q, scale = int8_grid(w, transposed=False)
            qw = torch._make_per_channel_quantized_tensor(q, scale.double(), torch.zeros(outputs, dtype=torch.long), 0)
            packed.append(torch.ops.quantized.linear_prepack(qw, bias))
    return {
        "float32": _best(lambda i: torch.addmm(bias, x, weights[i].t()), copies),
        "float16": _best(lambda i: torch.ops.quantized.linear_dynamic_fp16(x, half[i]), copies),
        "int8": _best(lambda i: torch.ops.quantized.linear_dynamic(x, packed[i], True), copies),
        "int8 full range": _best(lambda i: torch.ops.quantized.linear_dynamic(x, packed[i], False), copies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows-scale", default="1,8", help="multiples of the rows at N = 2048 (default: 1,8)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| weights | C_in*k | C_out | rows | float32 µs | float16 µs | int8 µs | int8 full range µs | "
          "int8 / float32 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for scale in (int(s) for s in args.rows_scale.split(",")):
        for reduced, outputs, rows in sorted(SHAPES, key=lambda s: -s[0] * s[1]):
            t = measure(reduced, outputs, rows * scale)
            print(f"| {reduced * outputs} | {reduced} | {outputs} | {rows * scale} | {t['float32']:.1f} | "
                  f"{t['float16']:.1f} | {t['int8']:.1f} | {t['int8 full range']:.1f} | "
                  f"{t['int8'] / t['float32']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
