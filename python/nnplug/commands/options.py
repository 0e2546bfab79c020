"""The option vocabulary the subcommands share, and the old spellings they still accept.

    --block-sizes 32,512     host block sizes           (was --blocks, --block-size)
    --buffer-sizes 2048      model buffer sizes N        (was --buffers, --buffer)
    --modes sync,worker      inference modes             (was 'Synchronous,Worker thread')
    -o/--output PATH         what the command writes     (was -o/--out)

An old spelling still works and prints one note to stderr naming the new one. Torch-free:
every parser is built for `nnplug --help`.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Sequence, Union

from nnplug.errors import UserError

# `--modes` names -> the plugin's inference_mode choices
MODES = {"sync": "Synchronous", "worker": "Worker thread"}
# the plugin's choice names, once accepted by `--modes`, -> the name to use now
OLD_MODE_NAMES = {"synchronous": "sync", "worker thread": "worker"}
_NOTED = "_deprecation_notes"   # a namespace attribute: the notes already printed for this command line


def note_deprecated(namespace: argparse.Namespace, old: str, new: str) -> None:
    """Print `old is deprecated, use new` to stderr, once per command line."""
    noted = getattr(namespace, _NOTED, None)
    if noted is None:
        noted = set()
        setattr(namespace, _NOTED, noted)
    if old not in noted:
        noted.add(old)
        print(f"nnplug: note: {old} is deprecated; use {new}", file=sys.stderr)


class _Store(argparse._StoreAction):
    """Stores like argparse's default action; when given under an old spelling (`old_spellings`),
    notes it. The old spellings map to this same action, so `required` is met by either."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, **kwargs)
        self.old_spellings: dict = {}

    def __call__(self, parser, namespace, values, option_string=None):
        if option_string in self.old_spellings:
            note_deprecated(namespace, option_string, self.old_spellings[option_string])
        super().__call__(parser, namespace, values, option_string)


class _DeprecatedFlag(argparse.Action):
    """An old flag that now has its own subcommand: sets dest True, with a note."""

    def __init__(self, option_strings, dest, new: str, **kwargs):
        self.new = new
        super().__init__(option_strings, dest, nargs=0, default=False, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        note_deprecated(namespace, option_string, self.new)
        setattr(namespace, self.dest, True)


def add_deprecated_alias(parser: argparse.ArgumentParser, old: str, new: str) -> None:
    """Accept `old` for the option `new` (added with one of the add_* functions below): the same
    action, hidden in --help, with a note when used."""
    target = parser._option_string_actions[new]
    assert isinstance(target, _Store), f"{new} must be added by nnplug.commands.options to have old spellings"
    target.old_spellings[old] = new
    parser._option_string_actions[old] = target


def add_deprecated_flag(parser: argparse.ArgumentParser, old: str, dest: str, new: str) -> None:
    parser.add_argument(old, dest=dest, action=_DeprecatedFlag, new=new, help=argparse.SUPPRESS)


def add_block_sizes(parser: argparse.ArgumentParser, default, help: str) -> None:
    parser.add_argument("--block-sizes", default=default, metavar="SIZES", help=help, action=_Store)


def add_buffer_sizes(parser: argparse.ArgumentParser, default, help: str) -> None:
    parser.add_argument("--buffer-sizes", default=default, metavar="SIZES", help=help, action=_Store)


def add_modes(parser: argparse.ArgumentParser, default: str = "sync,worker") -> None:
    parser.add_argument("--modes", default=default, action=_Store,
                        help=f"inference modes, comma-separated: sync, worker or both (default: {default})")


def add_output(parser: argparse.ArgumentParser, help: str, **kwargs) -> None:
    parser.add_argument("-o", "--output", help=help, action=_Store, **kwargs)


def parse_sizes(text: str, option: str, words: Sequence[str] = ()) -> List[Union[int, str]]:
    """'32,512' -> [32, 512]: positive integers, or one of `words` (e.g. 'changing'). Raises UserError."""
    sizes: List[Union[int, str]] = []
    for item in str(text).split(","):
        item = item.strip()
        if item.lower() in words:
            sizes.append(item.lower())
        elif item.isdigit() and int(item) > 0:
            sizes.append(int(item))
        elif item:
            allowed = " or ".join(["a positive integer", *(repr(w) for w in words)])
            raise UserError(f"{option}: {item!r} is not {allowed}")
    if not sizes:
        raise UserError(f"{option}: give at least one size")
    return sizes


def parse_modes(text: str, namespace: argparse.Namespace, option: str = "--modes") -> List[str]:
    """'sync,worker' -> the plugin's mode names ['Synchronous', 'Worker thread']; the plugin's own
    names (the old spelling) are accepted with a note. Raises UserError."""
    modes = []
    for item in str(text).split(","):
        key = item.strip().lower()
        if key in OLD_MODE_NAMES:
            note_deprecated(namespace, f"{option} {item.strip()!r}", f"{option} {OLD_MODE_NAMES[key]}")
            key = OLD_MODE_NAMES[key]
        if key in MODES:
            modes.append(MODES[key])
        elif key:
            raise UserError(f"{option}: {item.strip()!r} is not sync or worker")
    if not modes:
        raise UserError(f"{option}: give sync, worker or both")
    return modes


def mode_names(modes: Sequence[str]) -> str:
    """The plugin's mode names back to `--modes` spelling: ['Synchronous'] -> 'sync'."""
    short = {v: k for k, v in MODES.items()}
    return ",".join(short[m] for m in modes)
