"""Put benchmark tables into docs/performance.md, between markers (run by `make bench`):

    nnplug bench readme docs/performance.md docs/bench-streaming.md docs/bench-plugin.md ...

The first argument is the page that holds the tables (docs/performance.md; the README holds none).
docs/bench-NAME.md replaces whatever stands between `<!-- bench-NAME:begin -->` and
`<!-- bench-NAME:end -->`; a page without a file's markers is left alone for that file.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Sequence


def splice(text: str, name: str, table: str) -> str:
    begin, end = f"<!-- bench-{name}:begin -->", f"<!-- bench-{name}:end -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    return pattern.sub(lambda _: f"{begin}\n{table.strip()}\n{end}", text)


def main(argv: Sequence[str]) -> int:
    readme, tables = Path(argv[0]), [Path(a) for a in argv[1:]]
    text = readme.read_text()
    for t in tables:
        if t.is_file():
            text = splice(text, t.stem.removeprefix("bench-"), t.read_text())
    readme.write_text(text)
    return 0


if __name__ == "__main__":
    print("nnplug: note: python -m nnplug.bench.readme is deprecated; use nnplug bench readme", file=sys.stderr)
    sys.exit(main(sys.argv[1:]))
