"""Replace a folder by a fully written new one in one rename, rolling back on failure:
the one all-or-nothing step shared by `presets build` and `presets install`."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional


def swap_in(new: Path, target: Path, previous: Path) -> Optional[Path]:
    """Rename `new` to `target`; an existing `target` is first moved to `previous` and put
    back if the final rename fails. Returns where the old folder went (None if there was
    none); the caller removes it."""
    old = None
    if target.exists():
        old = previous
        os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        if old is not None:
            os.rename(old, target)
        raise
    return old
