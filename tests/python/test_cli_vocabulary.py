"""One option vocabulary across subcommands (`--block-sizes`, `--buffer-sizes`, `--modes
sync,worker`, `-o/--output`); the old spellings still parse to the same values and print one
deprecation note each; stress, soak, the FLOP bound and the README splicer are subcommands."""
from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from nnplug.cli import build_parser, main
from nnplug.commands.options import parse_modes, parse_sizes
from nnplug.errors import UserError

OLD_SPELLINGS = {"--blocks", "--block-size", "--buffers", "--buffer", "--out"}


def _parsers(parser: argparse.ArgumentParser, path=()):
    """(command path, parser) for every parser and subparser."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, path + (name,))


def _notes(capsys) -> list:
    return [line for line in capsys.readouterr().err.splitlines() if "deprecated" in line]


def test_help_shows_only_the_shared_vocabulary():
    for path, parser in _parsers(build_parser()):
        shown = {s for a in parser._actions if a.help != argparse.SUPPRESS for s in a.option_strings}
        assert not shown & OLD_SPELLINGS, (path, shown & OLD_SPELLINGS)
        if "-o" in shown:
            assert parser._option_string_actions["-o"] is parser._option_string_actions["--output"], path


@pytest.mark.parametrize("command", [["validate"], ["bench", "plugin"], ["render"]])
def test_block_sizes_everywhere_hosts_run(command):
    parsers = dict(_parsers(build_parser()))
    assert "--block-sizes" in parsers[tuple(command)]._option_string_actions


@pytest.mark.parametrize("command", [["bench", "streaming"], ["bench", "plugin"]])
def test_buffer_sizes_everywhere_buffers_are_chosen(command):
    parsers = dict(_parsers(build_parser()))
    assert "--buffer-sizes" in parsers[tuple(command)]._option_string_actions


@pytest.mark.parametrize("old, new, dest", [
    (["bench", "plugin", "--blocks", "64,512"], ["bench", "plugin", "--block-sizes", "64,512"], "block_sizes"),
    (["bench", "plugin", "--buffer", "2048"], ["bench", "plugin", "--buffer-sizes", "2048"], "buffer_sizes"),
    (["bench", "streaming", "--buffers", "512"], ["bench", "streaming", "--buffer-sizes", "512"], "buffer_sizes"),
    (["render", "--plugin", "b", "--input", "i", "-o", "o", "--block-size", "256"],
     ["render", "--plugin", "b", "--input", "i", "-o", "o", "--block-sizes", "256"], "block_sizes"),
    (["presets", "build", "--plugin", "b", "--out", "dir"], ["presets", "build", "--plugin", "b", "-o", "dir"],
     "output"),
    (["presets", "pack", "--plugin", "b", "--out", "p.zip"], ["presets", "pack", "--plugin", "b", "--output", "p.zip"],
     "output"),
])
def test_old_spellings_parse_the_same_with_one_note(old, new, dest, capsys):
    parser = build_parser()
    assert getattr(parser.parse_args(new), dest) == getattr(parser.parse_args(old + old[-2:]), dest)
    notes = _notes(capsys)
    spelled = "--output" if new[-2] == "-o" else new[-2]
    assert len(notes) == 1 and f"{old[-2]} is deprecated; use {spelled}" in notes[0], notes


def test_new_spellings_print_no_note(capsys):
    parser = build_parser()
    parser.parse_args(["bench", "plugin", "--block-sizes", "512", "--buffer-sizes", "2048", "--modes", "sync"])
    assert _notes(capsys) == []


def test_modes_take_sync_and_worker_and_the_old_names_with_a_note(capsys):
    ns = argparse.Namespace()
    assert parse_modes("sync,worker", ns) == ["Synchronous", "Worker thread"]
    assert _notes(capsys) == []
    assert parse_modes("Synchronous,Worker thread", ns) == ["Synchronous", "Worker thread"]
    assert parse_modes("Synchronous", ns) == ["Synchronous"]    # noted once per command line
    notes = _notes(capsys)
    assert len(notes) == 2 and "sync" in notes[0] and "worker" in notes[1]
    with pytest.raises(UserError, match="--modes: 'fast' is not sync or worker"):
        parse_modes("sync,fast", ns)


def test_sizes_are_positive_integers_or_named_words():
    assert parse_sizes("32, 512", "--block-sizes") == [32, 512]
    assert parse_sizes("64,changing", "--block-sizes", words=("changing",)) == [64, "changing"]
    for bad in ("0", "64,x", "-1", ""):
        with pytest.raises(UserError, match="--block-sizes"):
            parse_sizes(bad, "--block-sizes")


def test_validate_stress_is_the_old_spelling_of_the_stress_command(capsys):
    args = build_parser().parse_args(["validate", "--plugin", "b", "--stress"])
    assert args.stress is True
    notes = _notes(capsys)
    assert len(notes) == 1 and "nnplug stress" in notes[0]


@pytest.mark.parametrize("argv, error", [
    (["stress", "--plugin", "missing.vst3"], "plugin bundle not found"),
    (["soak", "--minutes", "0"], "--minutes must be positive"),
    (["soak", "--plugin", "missing.vst3", "--minutes", "1"], "plugin bundle not found"),
    (["render", "--plugin", ".", "--input", "i.wav", "-o", "o.wav", "--block-sizes", "256,512"], "one block size"),
])
def test_new_subcommands_refuse_bad_input_in_one_line(argv, error, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert error in err and err.count("\n") == 1, err


def test_bench_readme_splices_tables(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("a\n<!-- bench-x:begin -->\nold\n<!-- bench-x:end -->\nb\n")
    table = tmp_path / "bench-x.md"
    table.write_text("| new |\n")
    assert main(["bench", "readme", str(readme), str(table), str(tmp_path / "bench-missing.md")]) == 0
    assert readme.read_text() == "a\n<!-- bench-x:begin -->\n| new |\n<!-- bench-x:end -->\nb\n"


def test_bench_flops_names_the_model(capsys):
    assert main(["bench", "flops", "seed"]) == 0
    assert "seed:" in capsys.readouterr().out
    assert main(["bench", "flops", "no-such-model"]) == 2


def test_old_module_entry_points_still_work_with_a_note(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("x\n")
    p = subprocess.run([sys.executable, "-m", "nnplug.bench.readme", str(readme)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and p.stderr.count("deprecated") == 1 and "nnplug bench readme" in p.stderr
