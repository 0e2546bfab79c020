"""The command line: `--help` answers without importing torch (it used to take 3 s), every error
nnplug raises for bad input derives from one base class that the CLI prints as one line, and no
library module imports the CLI."""
from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from nnplug.cli import COMMANDS

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "python" / "nnplug"


@pytest.mark.parametrize("argv", [[]] + [[c] for c in COMMANDS])
def test_help_does_not_import_torch(argv):
    code = ("import sys; from nnplug.cli import build_parser; p = build_parser(); "
            f"p.parse_args({argv + ['--help']!r})")
    probe = subprocess.run([sys.executable, "-c", code + "\n"], capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0 and "usage:" in probe.stdout, probe.stderr
    check = subprocess.run([sys.executable, "-c", "import sys; from nnplug.cli import build_parser; build_parser(); "
                            "print('torch' in sys.modules)"], capture_output=True, text=True, timeout=60)
    assert check.stdout.strip() == "False", check.stderr


def test_library_errors_share_one_base_and_print_as_one_line(tmp_path, capsys):
    from nnplug.cli import main
    from nnplug.errors import NnplugError
    from nnplug.export import ExportError
    from nnplug.describe import InspectError
    from nnplug.streaming import ConversionError
    from nnplug.validate import ValidationError
    assert all(issubclass(e, NnplugError) for e in (ExportError, InspectError, ConversionError, ValidationError))
    missing = tmp_path / "missing.ts"
    assert main(["inspect", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err and "Traceback" not in err


def test_no_library_module_imports_the_cli():
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if p.name not in ("cli.py", "__main__.py") and "nnplug.cli" in p.read_text()]
    assert offenders == []


def test_no_module_shadows_the_standard_library():
    """A module named like a standard one (nnplug/inspect.py was) is what `import inspect` finds
    when a script in its folder runs. streaming/trace.py predates this test: the one exception."""
    shadows = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                     if p.stem in sys.stdlib_module_names and p.stem != "__init__")
    assert shadows == ["streaming/trace.py"]
