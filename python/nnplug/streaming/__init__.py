"""Streaming without retraining: cached convolutions for non-causal convolutional models.

Build (or train) offline with these layers or plain torch.nn ones, then `convert()`:

    stream = convert(model)
    y = torch.cat([stream(x[..., i:i + B]) for i in range(0, x.shape[-1], B)], -1)
    # y[..., stream.delay:] == model(x)[..., :-stream.delay] away from the edges
"""
from .baselines import ContextWindow, OverlapAdd
from .cached import CachedConv1d, CachedConvTranspose1d, Delay, InputGuard
from .convert import ConversionError, StreamingLeaf, StreamingModule, convert
from .layers import Branches, Conv1d, ConvTranspose1d, Residual, Sequential
from .recurrent import CachedGRU, CachedLSTM

__all__ = [
    "Branches", "CachedConv1d", "CachedConvTranspose1d", "CachedGRU", "CachedLSTM", "ContextWindow", "ConversionError", "Conv1d",
    "ConvTranspose1d", "Delay", "InputGuard", "OverlapAdd", "Residual", "Sequential", "StreamingLeaf",
    "StreamingModule", "convert",
]
