"""Weights of an exported module: the digest `nnplug inspect` recomputes, and sharing the copies
that converting each method on its own leaves behind."""
from __future__ import annotations

import hashlib
from typing import Dict, Iterable

import torch
import torch.nn as nn


def _raw_bytes(t: torch.Tensor) -> bytes:
    # numpy has no bfloat16: hash its bits as int16
    return (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()


def weights_sha256(module: nn.Module) -> str:
    """sha256 over every parameter and persistent buffer (name order): name, dtype, shape,
    then the raw bytes. `nnplug inspect` recomputes it from a loaded file."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(name.encode())
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(_raw_bytes(t))
    return h.hexdigest()


def share_identical_weights(modules: Iterable[nn.Module]) -> int:
    """Each method is converted on its own, so forward, encode and decode each hold a copy of
    the same weights. Point every parameter at the first one with the same dtype, shape and
    bytes: TorchScript saves a shared tensor once and keeps it shared on load, so the file and
    every plugin instance hold each weight once (a RAVE v2-sized model: 148 MB instead of 296).
    Parameters only: they are never written while streaming. Returns the bytes saved."""
    first: Dict[tuple, nn.Parameter] = {}
    saved = 0
    for module in modules:
        for sub in module.modules():
            for name, p in list(sub._parameters.items()):
                if p is None:
                    continue
                key = (p.dtype, tuple(p.shape), hashlib.sha256(_raw_bytes(p.detach().cpu().contiguous())).hexdigest())
                kept = first.setdefault(key, p)
                if kept is not p:
                    sub._parameters[name] = kept
                    saved += p.numel() * p.element_size()
    return saved
