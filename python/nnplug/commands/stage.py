"""`nnplug stage`: put models (and presets) into a built plugin bundle."""
from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("stage", help="copy models into a plugin bundle, with a manifest")
    p.add_argument("--plugin", required=True, type=Path, help="the built bundle, e.g. build/.../nnplug.vst3")
    p.add_argument("--model", required=True, type=Path, action="append", help="a .ts model (repeatable)")
    p.add_argument("--presets", type=Path, help="a directory of presets to copy along")
    p.add_argument("--default", help="name of the model to load when the state names none")
    p.set_defaults(func=run)


def run(args) -> int:
    from nnplug.stage import stage
    stage(args.plugin, args.model, args.presets, args.default)
    return 0
