"""Reference architectures: the seed's autoencoder and a RAVE-style model.

`build_model(config)` builds either from a plain dict (as found in a YAML model config):

    {"architecture": "seed"}
    {"architecture": "rave", "size": "small", ...RaveConfig overrides...}
"""
from __future__ import annotations

from typing import Any, Dict

import torch.nn as nn

from .noise import SeededNoise, set_randomness
from .pqmf import PQMF
from .rave import SIZES, RaveConfig, RaveModel, config_for, kl_divergence
from .seed import SeedAutoencoder

ARCHITECTURES = ("seed", "rave")


def build_model(config: Dict[str, Any]) -> nn.Module:
    """A freshly initialised model for a model config dict (see module doc)."""
    config = dict(config or {})
    arch = config.pop("architecture", None)
    if arch == "seed":
        if config:
            raise ValueError(f"the seed autoencoder takes no options, got {sorted(config)}")
        return SeedAutoencoder()
    if arch == "rave":
        size = config.pop("size", "small")
        return RaveModel(config_for(size, **config))
    raise ValueError(f"unknown architecture {arch!r}: choose one of {list(ARCHITECTURES)}")


__all__ = ["ARCHITECTURES", "PQMF", "RaveConfig", "RaveModel", "SIZES", "SeedAutoencoder", "SeededNoise",
           "build_model", "config_for", "kl_divergence", "set_randomness"]
