"""The one error export raises, and its progress log."""
from __future__ import annotations

from nnplug.errors import NnplugError


class ExportError(NnplugError, ValueError):
    """The model cannot be exported as asked; the message names the method, the shapes and the fix."""


def log(msg: str, verbose: bool) -> None:
    if verbose:
        print(f"[export] {msg}")
