"""The factory preset sources, and file-tree snapshots (to prove nothing was written)."""
from __future__ import annotations

import shutil
from pathlib import Path

from support.paths import ROOT

FACTORY = ROOT / "presets"


def copy_factory(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for f in FACTORY.glob("*.yaml"):
        shutil.copy(f, dest / f.name)
    return dest


def tree(path: Path) -> dict:
    """Every file under path with its bytes (to prove nothing was written)."""
    if not path.exists():
        return {}
    return {p.relative_to(path).as_posix(): (p.read_bytes() if p.is_file() else None) for p in path.rglob("*")}
