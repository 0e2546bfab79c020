"""Reference architectures: the seed's autoencoder and a RAVE-style model.

`build_model(config)` builds either from a plain dict (as found in a YAML model config):

    {"architecture": "seed"}
    {"architecture": "rave", "size": "small", ...RaveConfig overrides...}

`MODEL_CONFIGS` names the configurations the benchmarks use. The architectures are imported
on first use (PEP 562), so that reading `MODEL_CONFIGS` does not import torch (`--help`).
"""
from __future__ import annotations

import importlib
from typing import Any, Dict

from .configs import MODEL_CONFIGS

ARCHITECTURES = ("seed", "rave")

# public name -> the submodule that defines it
_LAZY = {
    "SeededNoise": "noise", "set_randomness": "noise",
    "PQMF": "pqmf",
    "SIZES": "rave", "RaveConfig": "rave", "RaveModel": "rave", "config_for": "rave", "kl_divergence": "rave",
    "SeedAutoencoder": "seed",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


def build_model(config: Dict[str, Any]):
    """A freshly initialised model (an nn.Module) for a model config dict (see module doc)."""
    config = dict(config or {})
    arch = config.pop("architecture", None)
    if arch == "seed":
        if config:
            raise ValueError(f"the seed autoencoder takes no options, got {sorted(config)}")
        from .seed import SeedAutoencoder
        return SeedAutoencoder()
    if arch == "rave":
        from .rave import RaveModel, config_for
        size = config.pop("size", "small")
        return RaveModel(config_for(size, **config))
    raise ValueError(f"unknown architecture {arch!r}: choose one of {list(ARCHITECTURES)}")


__all__ = ["ARCHITECTURES", "MODEL_CONFIGS", "PQMF", "RaveConfig", "RaveModel", "SIZES", "SeedAutoencoder",
           "SeededNoise", "build_model", "config_for", "kl_divergence", "set_randomness"]
