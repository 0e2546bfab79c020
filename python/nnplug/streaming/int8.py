"""Int8 weights for the wide layers of a model (opt-in, `nnplug export --weights int8`).

The same two steps as float16 (`half.py`), so that the file states which model it holds:

1. `round_to_int8(model)` puts, in the offline model, the weights of every wide conv (at least
   `INT8_MIN_WEIGHTS` weights, groups 1) on a symmetric int8 grid, one scale per output row of
   the layer's matrix product: per output channel for a conv, per output channel and tap for a
   transposed conv (whose product yields C_out * k rows). The weights become q * scale with q in
   -127 ... 127 and stay float32 there: this is the offline model the file claims.
2. after `convert`, `store_int8(stream)` makes each cached conv whose weights lie on that grid
   keep only q (int8) and the scales, and multiply with fbgemm's dynamic int8 kernel
   (`torch.ops.quantized.linear_dynamic`): each call quantizes its input rows to 8 bits with a
   scale from their own range, multiplies in integers, and scales back to float32.

Unlike float16, step 2 is not exact: the activations are quantized per call, with a range that
depends on what the call holds. The stream therefore differs from the rounded offline model by
the activation quantization, and two streams at different buffer sizes differ from each other
by as much (`nnplug.export.checks` bounds and reports it).

The scales are rounded up to 17 significant bits, so that q * scale is exact in float32 and the
grid is idempotent: rounding rounded weights again changes nothing, which is how `store_int8`
recognises them.

Why `reduce_range` (7-bit activations, 0 ... 127): fbgemm's AVX2 kernel adds pairs of
uint8 x int8 products in 16-bit saturating arithmetic, which overflows with 8-bit activations
(2 * 255 * 127 > 32767); the AVX512-VNNI kernel accumulates in 32 bits and does not. A file runs
on machines of either kind, so it uses the range that is exact on both, at the cost of one bit
of activation resolution (the error it costs is in docs/architecture.md#int8-weights).

Why only wide layers: the int8 kernel quantizes its input and requantizes its output on every
call, which costs more than it saves on layers with few weights; from about 20 000 weights on it
is faster than float32 at every row count a model buffer of 2048 ... 16384 gives
(`python -m nnplug.bench.kernels`).
"""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn as nn
from torch.nn.utils import parametrize

from .cached import CachedConv1d, CachedConvTranspose1d

INT8_MIN_WEIGHTS = 20_000
_SCALE_BITS = 17      # significant bits of a scale: 7 (q) + 17 <= 24 (float32), so q * scale is exact


def _wide(conv: nn.Module, min_weights: int) -> bool:
    return conv.groups == 1 and conv.weight.numel() >= min_weights


def _rows_last(weight: torch.Tensor, transposed: bool) -> torch.Tensor:
    """The weights as (rows, reduced): one row per output row of the layer's matrix product."""
    if transposed:                                   # (C_in, C_out, k): rows (C_out, k), reduced over C_in
        return weight.reshape(weight.size(0), -1).t()
    return weight.reshape(weight.size(0), -1)        # (C_out, C_in, k): rows C_out


def int8_grid(weight: torch.Tensor, transposed: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    """(q, scales): q int8 in the weight's own layout, one float32 scale per row (`_rows_last`),
    with weight ~ q * scale. Symmetric, zero point 0, q in -127 ... 127."""
    rows = _rows_last(weight.detach().float(), transposed)
    peak = rows.abs().amax(1)
    scale = torch.where(peak > 0, peak / 127, torch.ones_like(peak))
    mantissa, exponent = torch.frexp(scale)         # round up: |w| / scale stays <= 127
    scale = torch.ldexp(torch.ceil(mantissa * 2.0 ** _SCALE_BITS) / 2.0 ** _SCALE_BITS, exponent)
    q = torch.round(rows / scale[:, None]).clamp_(-127, 127)
    q = (q.t() if transposed else q).reshape(weight.shape).to(torch.int8)
    return q, scale


def dequantized(q: torch.Tensor, scale: torch.Tensor, transposed: bool) -> torch.Tensor:
    rows = _rows_last(q.float(), transposed) * scale[:, None]
    return (rows.t() if transposed else rows).reshape(q.shape)


def round_to_int8(model: nn.Module, min_weights: int = INT8_MIN_WEIGHTS) -> int:
    """Put the weights of every wide Conv1d / ConvTranspose1d of `model` on their int8 grid, in
    place (float32 values q * scale). The weights must be plain parameters: fold weight norm and
    parametrizations first (`reparam.plain_copy`, as export does). Returns the number of layers."""
    count = 0
    for conv in model.modules():
        if not isinstance(conv, (nn.Conv1d, nn.ConvTranspose1d)) or not _wide(conv, min_weights):
            continue
        if hasattr(conv, "weight_g") or parametrize.is_parametrized(conv, "weight"):
            raise ValueError("round_to_int8 needs plain weights: fold weight norm first (nnplug.streaming.reparam."
                             "plain_copy)")
        transposed = isinstance(conv, nn.ConvTranspose1d)
        with torch.no_grad():
            conv.weight.copy_(dequantized(*int8_grid(conv.weight, transposed), transposed))
        count += 1
    return count


def store_int8(stream: nn.Module, min_weights: int = INT8_MIN_WEIGHTS, reduce_range: bool = True) -> int:
    """Make every wide cached conv of a converted model whose weights lie on their int8 grid (see
    `round_to_int8`) keep them as int8 and run fbgemm's dynamic int8 kernel. Returns the number of
    layers changed."""
    count = 0
    for layer in stream.modules():
        if not isinstance(layer, (CachedConv1d, CachedConvTranspose1d)) or layer.half_weights or layer.int8_weights:
            continue
        if not _wide(layer, min_weights) or layer.weight.dtype != torch.float32:
            continue
        transposed = isinstance(layer, CachedConvTranspose1d)
        q, scale = int8_grid(layer.weight, transposed)
        if torch.equal(dequantized(q, scale, transposed), layer.weight.detach()):
            layer.store_int8(q, scale, reduce_range)
            count += 1
    return count


def float_twin(stream: nn.Module) -> nn.Module:
    """A copy of a stream whose int8 layers compute with their dequantized weights in float32:
    the same streaming graph without the activation quantization (what export measures that
    quantization against)."""
    import copy
    twin = copy.deepcopy(stream)
    for layer in twin.modules():
        if isinstance(layer, (CachedConv1d, CachedConvTranspose1d)) and layer.int8_weights:
            transposed = isinstance(layer, CachedConvTranspose1d)
            layer.weight = nn.Parameter(dequantized(layer.weight, layer.weight_scale, transposed), requires_grad=False)
            del layer.weight_scale
            layer.int8_weights = False
            layer.packed = None
    twin.reset()
    return twin
