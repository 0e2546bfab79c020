"""What `nnplug validate` runs: host block sizes, modes, sample rate, tolerances."""
from __future__ import annotations

from typing import Any, List, Sequence

import numpy as np

from nnplug.errors import NnplugError

SR = 44100
DEFAULT_BLOCKS = (1, 32, 64, 100, 256, 333, 512, 1000, 2048, 4096)
# A changing host block size in one stream (pedalboard only); starts at >= 3 samples.
CHANGING = (511, 1, 64, 1000, 3, 2048, 333, 17, 4096, 100, 256, 777)
MODES = ("Synchronous", "Worker thread")
# The 10-second musical signal runs at these host block sizes only (to keep CI in minutes).
LONG_BLOCKS = (333,)
# The settings checks run at these host block sizes.
SETTINGS_BLOCKS = (333, 512)
EPS32 = float(np.finfo(np.float32).eps)
# "to float rounding": |plugin - analytic| <= SETTINGS_ULPS * eps32 * peak of the analytic output
SETTINGS_ULPS = 8


class ValidationError(NnplugError, ValueError):
    """Bad input to validate/render (printed as a user error by the CLI)."""


def parse_blocks(blocks: Sequence[Any]) -> List[Any]:
    out = []
    for b in blocks:
        if isinstance(b, str) and b.strip().lower() == "changing":
            out.append(tuple(CHANGING))
        elif isinstance(b, (list, tuple)):
            out.append(tuple(int(v) for v in b))
        else:
            v = int(b)
            if v < 1:
                raise ValidationError(f"block size must be >= 1, got {v}")
            out.append(v)
    return out


def block_label(b) -> str:
    return str(int(b)) if isinstance(b, (int, np.integer)) else "changing"

