"""Half-precision weights for the wide layers of a model (opt-in, `nnplug export --weights float16`).

Two steps, so that the streaming model stays exactly the offline model it claims to be:

1. `round_to_half(model)` rounds, in the offline model, the weights of every wide conv (at least
   `HALF_MIN_WEIGHTS` weights, groups 1) to the nearest float16 value. This is the model the file
   holds: a different model from the float32 one, by the float16 rounding of its wide layers.
2. after `convert`, `store_half(stream)` makes each cached conv whose weights are exactly float16
   values keep them as float16 and multiply with fbgemm's fp16 kernel
   (`CachedConv1d.store_half`). The stream then equals the rounded offline model up to float32
   summation order, which export validation checks as for any model.

Why only wide layers: the fp16 kernel is faster when the weights' bytes dominate, i.e. layers
with many weights and few samples per call (RAVE's low-rate layers). On small layers it is
no faster than float32 (`nnplug bench plugin --model rave-v2-fp16` against `rave-v2`).
"""
from __future__ import annotations

import torch
import torch.nn as nn
from torch.nn.utils import parametrize

from .cached import CachedConv1d, CachedConvTranspose1d

HALF_MIN_WEIGHTS = 100_000


def _wide(conv: nn.Module, min_weights: int) -> bool:
    return conv.groups == 1 and conv.weight.numel() >= min_weights


def round_to_half(model: nn.Module, min_weights: int = HALF_MIN_WEIGHTS) -> int:
    """Round the weights of every wide Conv1d / ConvTranspose1d of `model` to float16 values, in
    place. The weights must be plain parameters: fold weight norm and parametrizations first
    (`reparam.plain_copy`, as export does). Returns the number of layers rounded."""
    count = 0
    for conv in model.modules():
        if not isinstance(conv, (nn.Conv1d, nn.ConvTranspose1d)) or not _wide(conv, min_weights):
            continue
        if hasattr(conv, "weight_g") or parametrize.is_parametrized(conv, "weight"):
            raise ValueError("round_to_half needs plain weights: fold weight norm first (nnplug.streaming.reparam."
                             "plain_copy)")
        with torch.no_grad():
            conv.weight.copy_(conv.weight.half().to(conv.weight.dtype))
        count += 1
    return count


def store_half(stream: nn.Module, min_weights: int = HALF_MIN_WEIGHTS) -> int:
    """Make every wide cached conv of a converted model whose weights are exactly float16 values
    (see `round_to_half`) keep them as float16. Returns the number of layers changed."""
    count = 0
    for layer in stream.modules():
        if not isinstance(layer, (CachedConv1d, CachedConvTranspose1d)) or layer.half_weights:
            continue
        weight = layer.weight.detach()
        if _wide(layer, min_weights) and torch.equal(weight.half().to(weight.dtype), weight):
            layer.store_half()
            count += 1
    return count
