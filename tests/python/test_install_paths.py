"""The per-user folders `nnplug install` uses (nnplug.install.user_folders) are the ones
docs/platforms.md lists, for Linux, macOS and Windows (only Linux has been used: the others are
checked against the table, not against a machine)."""
from __future__ import annotations

import re
from pathlib import PurePosixPath

from support.paths import ROOT
from nnplug.install import LAUNCHER, STANDALONE_DIR, user_folders

SYSTEMS = {"Linux": "Linux", "macOS": "Darwin", "Windows": "Windows"}


def documented() -> dict:
    """{system: {format: first path in its cell}} from the install table of docs/platforms.md."""
    text = (ROOT / "docs" / "platforms.md").read_text()
    table = text[text.index("| format | Linux | macOS | Windows |"):].split("\n\n")[0].splitlines()[2:]
    out = {s: {} for s in SYSTEMS}
    for row in table:
        cells = [c.strip() for c in row.strip("|").split("|")]
        for system, cell in zip(SYSTEMS, cells[1:]):
            first = re.search(r"`([^`]+)`", cell)
            if first:
                out[system][cells[0]] = first[1].replace("\\", "/").rstrip("/")
    return out


def test_install_folders_are_the_documented_ones():
    docs = documented()
    env = {"LOCALAPPDATA": "%LOCALAPPDATA%", "APPDATA": "%APPDATA%"}
    for system, name in SYSTEMS.items():
        code = {fmt: str(PurePosixPath(p)) for fmt, p in user_folders(name, home=PurePosixPath("~"), environ=env).items()}
        # the Standalone's cell names the installed folder (or app) itself, the code its parent
        standalone = docs[system].pop("Standalone")
        assert standalone.rsplit("/", 1)[0] == code.pop("Standalone"), (system, standalone)
        assert standalone.rsplit("/", 1)[1] in (STANDALONE_DIR, "nnplug.app"), standalone
        assert docs[system] == code, system
    assert f"~/.local/bin/{LAUNCHER}" in (ROOT / "docs" / "platforms.md").read_text()
