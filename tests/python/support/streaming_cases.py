"""Random convolutional architectures for the streaming property tests.

Besides nnplug's own layers and plain torch.nn ones they draw what public model code does:
conv subclasses that pad in their own forward (cached_conv's style, any pad mode), weight norm
(hooks and parametrizations) and spectral norm, residuals that crop the skip path by a length
computed from two shapes (DAC's style), channels-last blocks (transpose, LayerNorm, Linear, GELU)
and recurrent layers (LSTM/GRU, time-major or batch-first).

Every block keeps the signal length (so that parallel branches can be merged offline) but
not its delay: strided convs, transposed convs with paddings where kernel - stride != 2 *
padding, dilations, groups, causal/anticausal/centered padding, residuals and branches
merged by add, mul or channel cat. `plain=True` builds the same shapes from torch.nn
layers with the merges written as Python code in `forward`, which `convert` must trace.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
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


class PadInForward(nn.Conv1d):
    """A conv subclass that keeps padding=0 and pads in its own forward, as cached_conv does."""

    def __init__(self, k: int, dilation: int, groups: int, mode: str):
        super().__init__(CHANNELS, CHANNELS, k, dilation=dilation, groups=groups)
        total = (k - 1) * dilation
        self._pad = (total - total // 2, total // 2)
        self.mode = mode

    def forward(self, x):
        x = F.pad(x, self._pad, mode=self.mode)
        return F.conv1d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class CroppedResidual(nn.Module):
    """An unpadded conv; the skip path cropped to its length by a number computed from both
    shapes; the sum padded back to the input length."""

    def __init__(self, k: int):
        super().__init__()
        self.conv = nn.Conv1d(CHANNELS, CHANNELS, k)

    def forward(self, x):
        y = self.conv(x)
        pad = (x.shape[-1] - y.shape[-1]) // 2
        if pad > 0:
            x = x[..., pad:-pad]
        return F.pad(x + y, (pad, pad))


class ChannelsLast(nn.Module):
    """A ConvNeXt-style pointwise block computed in (B, T, C)."""

    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(CHANNELS)
        self.linear = nn.Linear(CHANNELS, CHANNELS)

    def forward(self, x):
        y = x.transpose(1, 2)
        y = F.gelu(self.linear(self.norm(y)))
        return x + y.transpose(1, 2)


class Recurrent(nn.Module):
    def __init__(self, kind: str, batch_first: bool):
        super().__init__()
        cls = nn.LSTM if kind == "lstm" else nn.GRU
        self.rnn = cls(CHANNELS, CHANNELS, batch_first=batch_first)
        self.batch_first = batch_first

    def forward(self, x):
        B, C, T = x.shape
        y = x.transpose(1, 2) if self.batch_first else x.permute(2, 0, 1)
        y, _ = self.rnn(y)
        return y.transpose(1, 2) if self.batch_first else y.permute(1, 2, 0)


def _normed(draw, conv: nn.Module) -> nn.Module:
    norm = draw(st.sampled_from(["none", "weight_norm", "parametrized", "spectral"]))
    if norm == "weight_norm":
        return nn.utils.weight_norm(conv)
    if norm == "parametrized":
        return nn.utils.parametrizations.weight_norm(conv)
    if norm == "spectral":
        return nn.utils.spectral_norm(conv)
    return conv


@st.composite
def public_style_block(draw):
    kind = draw(st.sampled_from(["pad", "pad", "crop", "channels_last", "recurrent"]))
    if kind == "pad":
        k = 2 * draw(st.integers(1, 3)) + 1
        return _normed(draw, PadInForward(k, draw(st.integers(1, 2)), draw(st.sampled_from([1, CHANNELS])),
                                          draw(st.sampled_from(["constant", "reflect", "replicate"]))))
    if kind == "crop":
        return CroppedResidual(2 * draw(st.integers(0, 2)) + 1)
    if kind == "channels_last":
        return ChannelsLast()
    return Recurrent(draw(st.sampled_from(["lstm", "gru"])), draw(st.booleans()))


@st.composite
def same_length_conv(draw, plain: bool):
    dilation = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 2, CHANNELS]))
    if plain:                               # torch.nn pads symmetrically: odd kernels keep the length
        k = 2 * draw(st.integers(0, 3)) + 1
        return _normed(draw, nn.Conv1d(CHANNELS, CHANNELS, k, padding=(k - 1) * dilation // 2, dilation=dilation,
                                       groups=groups))
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
    leaf = st.one_of(same_length_conv(plain), st.just(nn.Tanh()), public_style_block())

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
