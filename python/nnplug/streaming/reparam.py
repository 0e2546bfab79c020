"""A plain copy of a model: weight reparametrizations folded into ordinary weights.

Trained models compute their weights: `torch.nn.utils.weight_norm` and `spectral_norm` (forward
pre-hooks, the style RAVE, DAC, EnCodec and HiFi-GAN use) and `torch.nn.utils.parametrizations`.
A streaming model only needs the weights they compute. The old hook style also breaks
`copy.deepcopy` (its `weight` is a non-leaf tensor), so the copy is made with every such weight
replaced by its effective value first; the user's model is never touched.
"""
from __future__ import annotations

import copy

import torch
import torch.nn as nn
from torch.nn.utils import parametrize
from torch.nn.utils.spectral_norm import SpectralNorm
from torch.nn.utils.weight_norm import WeightNorm

from .trace import ConversionError

_HOOK_TYPES = (WeightNorm, SpectralNorm)


def _hooks(module: nn.Module):
    return [(key, hook) for key, hook in module._forward_pre_hooks.items() if isinstance(hook, _HOOK_TYPES)]


def plain_copy(model: nn.Module) -> nn.Module:
    """An eval-mode deep copy of `model` whose weights are plain parameters equal to the
    effective ones (weight norm, spectral norm and parametrizations folded)."""
    memo = {}
    with torch.no_grad():
        for module in model.modules():
            for _, hook in _hooks(module):
                # the effective weight, as the hook would compute it in eval mode (spectral
                # norm: no power iteration, the stored singular vectors)
                current = getattr(module, hook.name)
                weight = hook.compute_weight(module) if isinstance(hook, WeightNorm) else \
                    hook.compute_weight(module, do_power_iteration=False)
                memo[id(current)] = nn.Parameter(weight.detach().clone(), requires_grad=False)
    try:
        plain = copy.deepcopy(model, memo)
    except Exception as e:  # noqa: BLE001 - deepcopy fails in many ways on exotic modules
        raise ConversionError(f"cannot copy the model ({type(e).__name__}: {e}); convert needs a model that "
                              "copy.deepcopy can copy") from e
    plain.eval()
    with torch.no_grad():
        for module in plain.modules():
            for key, hook in _hooks(module):
                folded = getattr(module, hook.name)
                del module._forward_pre_hooks[key]
                for suffix in ("_g", "_v", "_orig", "_u"):
                    name = hook.name + suffix
                    if name in module._parameters:
                        del module._parameters[name]
                    elif name in module._buffers:
                        del module._buffers[name]
                if hook.name in module.__dict__:
                    del module.__dict__[hook.name]
                module.register_parameter(hook.name, nn.Parameter(folded.detach().clone(), requires_grad=False))
            if parametrize.is_parametrized(module):
                # not parametrize.remove_parametrizations: it edits the module's class, which a
                # deep copy shares with the user's model
                values = {name: getattr(module, name).detach().clone() for name in module.parametrizations}
                module.__class__ = type(module).__bases__[0]
                del module._modules["parametrizations"]
                for name, value in values.items():
                    module.register_parameter(name, nn.Parameter(value, requires_grad=False))
    for name, module in plain.named_modules():
        if module._forward_pre_hooks or module._forward_hooks:
            raise ConversionError(
                f"module '{name}' ({type(module).__name__}) has forward hooks other than weight/spectral norm; "
                "a traced model cannot run them: remove them (or fold what they compute into the weights)")
    return plain
