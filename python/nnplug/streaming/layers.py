"""Offline building blocks. They behave exactly like their torch.nn counterparts offline
(same parameters, same state_dict keys); `nnplug.streaming.convert` turns a trained model
built from them (or from plain torch.nn layers) into a streaming model.
"""
from __future__ import annotations

from typing import List, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

PaddingSpec = Union[int, str, Tuple[int, int]]
PADDING_MODES = ("centered", "causal", "anticausal")


def resolve_padding(padding: PaddingSpec, kernel_size: int, dilation: int) -> Tuple[int, int]:
    """(left, right) zero padding for a padding spec.

    An int pads both sides like torch. The named modes pad a total of (kernel-1)*dilation
    samples, so that a stride-s conv maps T samples to T/s: "centered" splits it (the extra
    sample of an odd total goes right, as torch's padding="same" does), "causal" puts it all
    left (no look-ahead), "anticausal" all right.
    """
    total = (kernel_size - 1) * dilation
    if isinstance(padding, str):
        if padding in ("centered", "same"):
            return total // 2, total - total // 2
        if padding == "causal":
            return total, 0
        if padding == "anticausal":
            return 0, total
        if padding == "valid":
            return 0, 0
        raise ValueError(f"unknown padding {padding!r}: use an int, (left, right), or one of {PADDING_MODES}")
    if isinstance(padding, (tuple, list)):
        left, right = padding
        return int(left), int(right)
    return int(padding), int(padding)


class Conv1d(nn.Conv1d):
    """torch.nn.Conv1d with asymmetric padding: `padding` is an int, (left, right), or
    "centered" / "causal" / "anticausal"."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: PaddingSpec = 0, dilation: int = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0,
                         dilation=dilation, groups=groups, bias=bias, padding_mode=padding_mode)
        self.pad_left, self.pad_right = resolve_padding(padding, self.kernel_size[0], self.dilation[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad_left or self.pad_right:
            mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
            x = F.pad(x, (self.pad_left, self.pad_right), mode=mode)
        return F.conv1d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", pad=({self.pad_left}, {self.pad_right})"


class ConvTranspose1d(nn.ConvTranspose1d):
    """torch.nn.ConvTranspose1d; any kernel, stride, padding and dilation streams exactly."""


class Sequential(nn.Sequential):
    """torch.nn.Sequential."""


class Branches(nn.ModuleList):
    """Parallel branches fed the same input; returns the list of their outputs.

    After `convert`, the outputs are aligned to each other wherever they meet (or at the
    model output), whatever each branch's stride and delay."""

    def __init__(self, *branches: nn.Module):
        if len(branches) == 1 and isinstance(branches[0], (list, tuple)):
            branches = tuple(branches[0])
        super().__init__(branches)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [branch(x) for branch in self]


class Residual(nn.Module):
    """x + module(x); after `convert` the skip path is delayed to match the module."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.module(x)

