"""The errors nnplug raises for bad input: one base class, so that the CLI (and any caller)
catches every one of them in one place and prints it as one clear line, no traceback.

Library modules raise these (or their own subclasses); none imports the CLI."""
from __future__ import annotations


class NnplugError(Exception):
    """Bad input or a refused request; the message says what is wrong and what to do."""


class UserError(NnplugError):
    """A command-line request that cannot be carried out (a missing file, a wrong option)."""
