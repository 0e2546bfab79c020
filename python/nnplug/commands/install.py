"""`nnplug install`: copy the built bundles into the per-user plugin folders (nnplug.install)."""
from __future__ import annotations

from pathlib import Path

EPILOG = """per-user folders:
  Linux    VST3 ~/.vst3   LV2 ~/.lv2   Standalone ~/.local/lib/nnplug-standalone
           (+ launcher ~/.local/bin/nnplug-standalone)
  macOS    VST3 ~/Library/Audio/Plug-Ins/VST3   LV2 ~/Library/Audio/Plug-Ins/LV2
           AU ~/Library/Audio/Plug-Ins/Components   Standalone ~/Applications
  Windows  VST3 %LOCALAPPDATA%\\Programs\\Common\\VST3   LV2 %APPDATA%\\LV2
           Standalone %LOCALAPPDATA%\\Programs\\nnplug-standalone
An installed bundle is replaced as a whole. Without a format flag, every built format is installed."""


def register(subparsers) -> None:
    import argparse
    p = subparsers.add_parser("install", help="copy the built bundles into the per-user plugin folders",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vst3", action="store_true", help="install the VST3")
    p.add_argument("--lv2", action="store_true", help="install the LV2")
    p.add_argument("--au", action="store_true", help="install the AU (macOS)")
    p.add_argument("--standalone", action="store_true", help="install the Standalone application")
    p.add_argument("--dest", type=Path, help="install every chosen format into DIR instead of the per-user folders")
    p.add_argument("--build-dir", default="build", help="the CMake build directory (default: build)")
    p.add_argument("--config", default="Release", choices=["Release", "Debug"])
    p.set_defaults(func=run)


def run(args) -> int:
    from nnplug.install import install
    formats = [f for f, on in (("VST3", args.vst3), ("LV2", args.lv2), ("AU", args.au),
                               ("Standalone", args.standalone)) if on]
    install(formats or None, args.dest, args.build_dir, args.config)
    return 0
