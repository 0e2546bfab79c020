"""`nnplug stage`: put models (and presets) into a built plugin bundle."""
from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("stage", help="copy models into a plugin bundle, with a manifest")
    p.add_argument("--plugin", required=True, type=Path, help="the built bundle, e.g. build/.../nnplug.vst3")
    p.add_argument("--model", required=True, type=Path, action="append", help="a model file, .ts or Neutone .nm (repeatable)")
    p.add_argument("--presets", type=Path, help="a directory of presets to copy along")
    p.add_argument("--default", help="name of the model to load when the state names none")
    p.add_argument("--allow-non-streaming", action="store_true",
                   help="stage a model that does not carry its state across buffers (it clicks at every model buffer "
                        "edge; the plugin shows a warning)")
    p.set_defaults(func=run)


def run(args) -> int:
    from nnplug.stage import stage
    stage(args.plugin, args.model, args.presets, args.default, args.allow_non_streaming)
    return 0
