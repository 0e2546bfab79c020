"""nnplug.hosts is the only code that drives pedalboard or DawDreamer: parameters by ID,
state, presets, timing and the latency tail are handled once, there. Every other module,
test and script goes through it."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ROOT / "python" / "nnplug" / "hosts"
HOST_MODULES = {"pedalboard", "dawdreamer"}
# an import statement, also inside a script's embedded Python or a string run with `python -c`
IMPORT_LINE = re.compile(r"^\s*(?:import|from)\s+(pedalboard|dawdreamer)\b", re.M)


def _imported(tree: ast.AST) -> set:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and IMPORT_LINE.search(node.value):
            names.add(IMPORT_LINE.search(node.value).group(1))
    return names & HOST_MODULES


def test_only_hosts_imports_pedalboard_or_dawdreamer():
    offenders = []
    for base in ("python", "tests", "bench", "scripts"):
        for path in sorted((ROOT / base).rglob("*.py")):
            if HOSTS in path.parents:
                continue
            found = _imported(ast.parse(path.read_text(), str(path)))
            if found:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(found)}")
    for path in sorted((ROOT / "scripts").rglob("*.sh")) + [ROOT / "Makefile"]:
        if path.is_file():
            found = set(IMPORT_LINE.findall(path.read_text()))
            if found:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(found)}")
    assert offenders == [], "drive the hosts through nnplug.hosts:\n" + "\n".join(offenders)
