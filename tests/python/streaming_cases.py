"""Random convolutional architectures for the streaming property tests.

Every block keeps the signal length (so that parallel branches can be merged offline) but
not its delay: strided convs, transposed convs with paddings where kernel - stride != 2 *
padding, dilations, groups, causal/anticausal/centered padding, residuals and branches
merged by add, mul or channel cat. `plain=True` builds the same shapes from torch.nn
layers with the merges written as Python code in `forward`, which `convert` must trace.
"""
from __future__ import annotations

import torch
import torch.nn as nn
from hypothesis import strategies as st

import nnplug.streaming as ns

CHANNELS = 4


class PlainResidual(nn.Module):
    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return x + self.inner(x)


class PlainMerge(nn.Module):
    """Branches merged in code: sum, gated product, or channel concatenation + 1x1 conv."""

    def __init__(self, branches, how: str):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.how = how
        self.mix = nn.Conv1d(CHANNELS * len(branches), CHANNELS, 1)

    def forward(self, x):
        outs = [b(x) for b in self.branches]
        if self.how == "add":
            y = outs[0]
            for o in outs[1:]:
                y = y + o
            return y
        if self.how == "mul":
            y = outs[0]
            for o in outs[1:]:
                y = y * torch.tanh(o)
            return y
        return self.mix(torch.cat(outs, dim=1))


class NsMerge(nn.Module):
    """The same merges built on ns.Branches."""

    def __init__(self, branches, how: str):
        super().__init__()
        self.branches = ns.Branches(*branches)
        self.how = how
        self.mix = ns.Conv1d(CHANNELS * len(branches), CHANNELS, 1)

    def forward(self, x):
        outs = self.branches(x)
        if self.how == "add":
            return sum(outs[1:], outs[0])
        if self.how == "mul":
            y = outs[0]
            for o in outs[1:]:
                y = y * torch.sigmoid(o)
            return y
        return self.mix(torch.cat(outs, 1))


@st.composite
def same_length_conv(draw, plain: bool):
    dilation = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 2, CHANNELS]))
    if plain:                               # torch.nn pads symmetrically: odd kernels keep the length
        k = 2 * draw(st.integers(0, 3)) + 1
        return nn.Conv1d(CHANNELS, CHANNELS, k, padding=(k - 1) * dilation // 2, dilation=dilation, groups=groups)
    k = draw(st.integers(1, 6))
    total = (k - 1) * dilation
    left = draw(st.sampled_from(["centered", "causal", "anticausal", "split"]))
    padding = (draw(st.integers(0, total)), 0) if left == "split" else left
    if left == "split":
        padding = (padding[0], total - padding[0])
    return ns.Conv1d(CHANNELS, CHANNELS, k, padding=padding, dilation=dilation, groups=groups)


@st.composite
def down_up(draw, inner, plain: bool):
    """Strided conv down, inner block, transposed conv back up to the same length."""
    s = draw(st.integers(2, 4))
    k_down = draw(st.integers(1, 2 * s + 1))
    total = k_down - 1
    Conv = nn.Conv1d if plain else ns.Conv1d
    if plain:
        # symmetric padding of (k-1)//2 gives T/s outputs for any k when T is a multiple of s >= 2
        down = Conv(CHANNELS, CHANNELS, k_down, stride=s, padding=total // 2)
    else:
        down = Conv(CHANNELS, CHANNELS, k_down, stride=s, padding=draw(st.sampled_from(["centered", "causal", "anticausal"])))
    # transposed conv: length T/s -> T needs output_padding = s - 1 - d(k-1) + 2p in [0, max(s, d) - 1]
    k_up = draw(st.integers(1, 3 * s))
    d_up = draw(st.integers(1, 2))

    def paddings(dilation):
        span = dilation * (k_up - 1) + 1
        return [p for p in range(0, span) if 0 <= s - span + 2 * p < max(s, dilation)]

    if not paddings(d_up):
        d_up = 1                            # with dilation 1 a valid padding always exists
    options = paddings(d_up)
    span = d_up * (k_up - 1) + 1
    p = draw(st.sampled_from(options))
    op = s - span + 2 * p
    Up = nn.ConvTranspose1d if plain else ns.ConvTranspose1d
    up = Up(CHANNELS, CHANNELS, k_up, stride=s, padding=p, output_padding=op, dilation=d_up)
    Seq = nn.Sequential if plain else ns.Sequential
    return Seq(down, nn.Tanh(), draw(inner), up)


def blocks(plain: bool, max_leaves: int = 6):
    leaf = st.one_of(same_length_conv(plain), st.just(nn.Tanh()))

    def extend(children):
        Seq = nn.Sequential if plain else ns.Sequential
        Residual = PlainResidual if plain else ns.Residual
        Merge = PlainMerge if plain else NsMerge
        return st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda bs: Seq(*bs)),
            children.map(Residual),
            down_up(children, plain),
            st.tuples(st.lists(children, min_size=2, max_size=3), st.sampled_from(["add", "mul", "cat"]))
              .map(lambda t: Merge(t[0], t[1])),
        )

    return st.recursive(leaf, extend, max_leaves=max_leaves)


@st.composite
def models(draw, plain=None):
    plain = draw(st.booleans()) if plain is None else plain
    Conv = nn.Conv1d if plain else ns.Conv1d
    body = draw(blocks(plain))
    model = nn.Sequential(Conv(1, CHANNELS, 1), body, Conv(CHANNELS, 1, 1))
    seed = draw(st.integers(0, 2 ** 16))
    torch.manual_seed(seed)
    for p in model.parameters():
        nn.init.uniform_(p, -0.6, 0.6)
    return model.eval()
