"""What `nnplug export SPEC` turns into a model: a `package.module:factory` or a YAML model
config with its checkpoint."""
from __future__ import annotations

import importlib
import os
import sys
from typing import Optional

import torch
import torch.nn as nn

from nnplug.export.errors import ExportError

# keys of a YAML model config that describe the export, not the architecture
EXPORT_KEYS = ("sample_rate", "name", "author", "description", "version", "checkpoint", "noise", "seed_export")


def load_factory(spec: str) -> nn.Module:
    """'package.module:factory' -> factory() (must return an nn.Module)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ExportError(f"model spec {spec!r}: use package.module:factory or a YAML model config")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())   # like `python -m`: modules in the current directory import
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ExportError(f"cannot import {module_name!r}: {e}") from e
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ExportError(f"{module_name} has no callable {attr!r}")
    model = factory()
    if not isinstance(model, nn.Module):
        raise ExportError(f"{spec} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def _read_checkpoint(ckpt: str):
    try:
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - unpickling refused or file unreadable
        raise ExportError(f"cannot load checkpoint {ckpt} as weights only (no code may run): "
                          f"{str(e).strip().splitlines()[0]}") from e
    if isinstance(state, dict) and "state_dict" in state:   # an `nnplug train` checkpoint
        state = state["state_dict"]
    return state


def load_config(path: str, checkpoint: Optional[str] = None) -> tuple:
    """A YAML model config -> (model with the checkpoint's weights, config dict).

    YAML: architecture (seed | rave), size and RaveConfig overrides, optional
    checkpoint (relative to the YAML file), sample_rate, name, author, description, version.
    A checkpoint is a state_dict, or a dict with a "state_dict" entry (what `nnplug train`
    writes). It is read with weights_only=True: it can hold tensors and plain data,
    never code."""
    import yaml

    from nnplug.models import build_model
    try:
        with open(path) as fh:
            config = yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ExportError(f"cannot read model config {path}: {e}") from e
    if not isinstance(config, dict):
        raise ExportError(f"{path}: a model config is a mapping (architecture: ..., size: ...)")
    config = dict(config)
    export_keys = {k: config.pop(k) for k in EXPORT_KEYS if k in config}
    ckpt = checkpoint or export_keys.get("checkpoint")
    state = None
    if ckpt:
        if not os.path.isabs(ckpt) and not checkpoint:   # relative to the YAML file, not the current directory
            ckpt = os.path.join(os.path.dirname(os.path.abspath(path)), ckpt)
        state = _read_checkpoint(ckpt)
    if config.get("architecture") == "rave" and "sample_rate" in export_keys:
        config.setdefault("sample_rate", export_keys["sample_rate"])
    try:
        model = build_model(config)
    except ValueError as e:
        raise ExportError(f"{path}: {e}") from e
    if state is not None:
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise ExportError(f"checkpoint {ckpt} does not fit the model in {path}: "
                              f"{str(e).strip().splitlines()[0]}") from e
    return model, export_keys
