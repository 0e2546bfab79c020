"""The types a converted model is made of: the streaming module itself, the base class for
custom stateful leaves, and which layers stay single nodes when a model is traced."""
from __future__ import annotations

import copy

import torch
import torch.fx as fx
import torch.nn as nn

from .recurrent import RECURRENT_MODULES


class StreamingLeaf(nn.Module):
    """Base class for custom layers that are pointwise in time but keep their own state
    (for example a seeded noise source). `convert` keeps them as leaves, calls
    `streaming_copy()` and resets them with the rest of the model.

    `time_locked = False` declares an output that is not tied to the timing of its input
    (noise): it needs no alignment when it meets other signals."""

    time_locked: bool = True

    def streaming_copy(self) -> nn.Module:
        return copy.deepcopy(self)


# Layers that act on each time step independently (in eval mode), whatever their input layout.


def _torch_forward(m: nn.Module) -> bool:
    """The layer computes what its torch.nn class computes (no forward of its own)."""
    for cls in (nn.Conv1d, nn.ConvTranspose1d) + RECURRENT_MODULES:
        if isinstance(m, cls):
            return type(m).forward is cls.forward
    return False


def is_leaf(m: nn.Module) -> bool:
    """Torch's own convs, recurrent and pointwise layers and StreamingLeaf subclasses stay single
    nodes; everything else is traced into, so a conv subclass with its own forward (cached_conv,
    nnplug.streaming.Conv1d) is seen as the ops it really performs. Other torch.nn layers stay
    leaves too, so that an unsupported one is reported by name."""
    if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d) + RECURRENT_MODULES):
        return _torch_forward(m)
    if isinstance(m, StreamingLeaf):
        return True
    if isinstance(m, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
        return False
    return type(m).__module__.startswith("torch.nn")


class _Method(nn.Module):
    """Makes any method of a model traceable as a forward."""

    def __init__(self, model: nn.Module, method: str):
        super().__init__()
        self.model = model
        self.method = method

    def forward(self, x):
        return getattr(self.model, self.method)(x)


class StreamingModule(fx.GraphModule):
    """A converted model: call it on consecutive buffers (length a multiple of `ratio`).

    Attributes (plain ints, kept by TorchScript):
      delay      -- output delay, in samples of the output rate
      ratio      -- every buffer length must be a multiple of it
      in_ratio, out_ratio -- nn~ convention: input buffer B/in_ratio -> output B/out_ratio
    """

    @torch.jit.export
    def reset(self):
        """Forget the stream: the next buffer starts from silence, with any batch size."""
        for layer in self.stateful:
            layer.reset()

    def __deepcopy__(self, memo):
        # GraphModule's copy keeps only what its graph uses: bring the stream's own facts
        # (delay, ratio, receptive field, the folding recipe...) along, copied with the same memo
        res = super().__deepcopy__(memo)
        for key, value in self.__dict__.items():
            if key not in res.__dict__:
                res.__dict__[key] = copy.deepcopy(value, memo)
        return res

    def _apply(self, fn, recurse=True):
        # folded constants (see _Converter._fold_constants) are recomputed from the converted
        # parameters, as the offline model computes them at the new precision
        out = super()._apply(fn, recurse)
        recipe = self.__dict__.get("_fold_recipe")
        if recipe is not None:
            graph, names = recipe
            with torch.no_grad():
                for name, value in zip(names, graph()):
                    setattr(self, name, value)
        return out
