"""The README and docs/ stay short, true to the code and free of measurement stories: the README
lists every `nnplug` command and the plugin's parameter table as `nnplug.hosts` defines it, the
benchmark tables live (generated) in docs/performance.md only, and every local link resolves."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = ("architecture", "streaming", "latency", "validation", "performance", "robustness")


def _pages():
    return [README] + [DOCS / f"{p}.md" for p in PAGES]


def _without_generated(text: str) -> str:
    return re.sub(r"<!-- bench-([\w-]+):begin -->.*?<!-- bench-\1:end -->", "", text, flags=re.S)


def test_readme_is_short_and_names_the_two_commands():
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    assert "make demo" in text and "make test" in text


def test_docs_pages_exist():
    for page in _pages():
        assert page.is_file(), page


def test_readme_lists_every_command():
    from nnplug.cli import COMMANDS
    text = README.read_text()
    for name in COMMANDS:
        assert f"| `nnplug {name}" in text, f"README's command table lacks nnplug {name}"


def test_readme_parameter_table_matches_the_plugin_table():
    from nnplug.hosts import PARAMETERS
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `(\w+)`[^|]*\| ([^|]+)\|", README.read_text(), re.M)}
    for pid, p in PARAMETERS.items():
        if pid.startswith(("latent_scale_", "latent_bias_", "model_control_")):
            first = pid.rsplit("_", 1)[0] + "_1"
            assert first in rows, f"README lacks {first}"
            continue
        assert pid in rows, f"README's parameter table lacks {pid}"
        assert rows[pid].startswith(p.name), f"{pid}: README names it {rows[pid]!r}, the plugin {p.name!r}"
    row = next(line for line in README.read_text().splitlines() if line.startswith("| `buffer_size`"))
    assert all(c in row for c in PARAMETERS["buffer_size"].choices)


def test_benchmark_tables_are_spliced_into_performance_only():
    perf = (DOCS / "performance.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    # the bench target's splicing step: the page, then the tables (whichever command runs it)
    line = next(ln for ln in makefile.replace("\\\n", " ").splitlines() if "docs/performance.md" in ln)
    words = line.split()
    splice = words[words.index("docs/performance.md"):]
    tables = sorted(DOCS.glob("bench-*.md"))
    assert tables and sorted(splice[1:]) == sorted(f"docs/{t.name}" for t in tables)
    for t in tables:
        name = t.stem.removeprefix("bench-")
        block = re.search(rf"<!-- bench-{name}:begin -->\n(.*?)\n<!-- bench-{name}:end -->", perf, re.S)
        assert block, f"docs/performance.md has no markers for {t.name}"
        assert block[1] == t.read_text().strip(), f"docs/performance.md is out of date for {t.name}"
    assert "<!-- bench-" not in README.read_text()


def test_no_measurement_stories():
    story = re.compile(r"\b\d{1,2}:\d{2}\b|this session|previous session|\bcommit [0-9a-f]{7}", re.I)
    for page in _pages():
        hits = story.findall(_without_generated(page.read_text()))
        assert not hits, f"{page.name}: {hits}"


def _anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_local_links_resolve():
    for page in _pages():
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"\w+://", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            assert dest.exists(), f"{page.name}: broken link {target}"
            if anchor and dest.suffix == ".md":
                anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", dest.read_text(), re.M)}
                assert anchor in anchors, f"{page.name}: no heading for #{anchor} in {dest.name}"
