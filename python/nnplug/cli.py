"""The `nnplug` command: one sub-command per module in `nnplug.commands`.

Each command module defines `register(subparsers)`, which adds its parser and sets
`func(args) -> int` on it. Importing is lazy per command so `nnplug --help` stays fast
and a broken optional dependency only breaks the command that needs it.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from nnplug.errors import NnplugError

# subcommand -> one-line summary shown by `nnplug --help`
COMMANDS = {
    "bench": "measure streaming and plugin speed; FLOP bound; splice the tables into docs/performance.md",
    "build": "configure and build the plugin (VST3, Standalone, LV2/AU) with CMake",
    "stage": "copy models (and presets) into a built plugin bundle",
    "install": "copy the built bundles into the per-user plugin folders (~/.vst3, ~/.lv2, ...)",
    "export": "export a model as a streaming nn~-convention TorchScript file",
    "inspect": "describe any nn~-convention .ts file (nnplug, RAVE v1/v2)",
    "train": "train the RAVE-style model on generated audio",
    "render": "render a WAV file through the built plugin in pedalboard or DawDreamer",
    "validate": "prove the built plugin bit-identical to its model, in pedalboard and DawDreamer",
    "stress": "robustness: hostile model files, host torture and state fuzzing, each host in a child process",
    "soak": "a long run (default an hour) through one plugin instance: no drift, no memory growth",
    "presets": "YAML presets: check, build (.vstpreset, factory programs), pack, install, list",
}

# subcommand -> its module in nnplug.commands, where the names differ: no module is named
# `inspect`, which would shadow the standard library's for a script run from that folder
MODULES = {"inspect": "describe"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnplug",
        description="Turn streamable neural audio models into audio plugins, and prove them correct.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"nnplug.commands.{MODULES.get(name, name)}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except NnplugError as e:
        print(f"nnplug {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
