"""`nnplug bench plugin`: the code paths run and report what they measure (a tiny signal, one
round). Speed is never asserted here (this machine is too noisy for timed unit tests):
structure, the bit-identity check of every plugin render, and that failures are reported."""
from __future__ import annotations

import math

import numpy as np

from support.paths import ROOT
from nnplug.bench.plugin import (Report, Row, bench_plugin, check_exact, find_exe, markdown, measure_memory,
                                 targets)
from nnplug.cli import main as cli


def test_every_runner_measures_the_same_audio(vst3, default_model):
    rep = bench_plugin(vst3, default_model, blocks=[333], modes=["Synchronous", "Worker thread"], seconds=0.2,
                       rounds=1, memory=False)
    assert rep.errors() == []
    runners = [(r.runner, r.mode, r.block) for r in rep.rows]
    assert runners == [("libtorch-cpp", "-", None), ("libtorch-cpp mono", "-", None), ("libtorch-python", "-", None),
                       ("engine-cpp", "Synchronous", 333), ("engine-cpp", "Worker thread", 333),
                       ("pedalboard", "Synchronous", 333), ("pedalboard", "Worker thread", 333),
                       ("dawdreamer", "Synchronous", 333), ("dawdreamer", "Worker thread", 333)]
    for r in rep.rows:
        assert len(r.rounds) == len(r.cpu_rounds) == 1 and r.seconds_per_audio_second > 0
        assert r.wall_per_audio_second > 0
        assert math.isclose(r.times_real_time * r.seconds_per_audio_second, 1.0, rel_tol=1e-9)
        assert (r.batch == 2) == (r.runner != "libtorch-cpp mono")      # stereo: a batch of two streams
    assert rep.rows[0].ratio_to_raw == 1.0
    # raw C++ and Python ran the same module on the same audio: the same bits; so did the plugin
    assert [r.exact for r in rep.rows if r.runner in ("libtorch-python", "pedalboard", "dawdreamer")] == [True] * 5
    assert len(rep.raw_first_calls) == 3 and rep.raw_load_seconds > 0
    table = markdown([rep])
    assert table.count("\n| nnplug-default |") == len(rep.rows) + 2          # + the paired and load-time rows
    assert "uptime" in table
    assert [(p.host, p.mode, p.block) for p in rep.paired] == [("pedalboard", "Synchronous", 333)]
    assert rep.paired[0].pairs >= 1 and rep.paired[0].median_ratio > 0
    assert "Paired, in one process" in table
    assert len(targets([rep], block=333)) == 5


def test_failures_are_reported_not_hidden(vst3, default_model, tmp_path, capsys):
    rep = bench_plugin(vst3, default_model, blocks=[512], modes=["Synchronous"], runners=["libtorch-cpp", "engine-cpp"],
                       seconds=0.1, rounds=1, exe=tmp_path / "missing", memory=False)
    assert len(rep.errors()) == 2 and all("not found" in e for e in rep.errors())
    assert "error: " in markdown([rep])
    code = cli(["bench", "plugin", "--plugin", str(vst3), "--runners", "libtorch-cpp", "--exe", str(tmp_path / "x"),
                "--seconds", "0.1", "--rounds", "1", "--no-memory"])
    assert code == 1
    assert "FAIL: libtorch-cpp" in capsys.readouterr().err


def test_a_plugin_passing_the_dry_signal_is_not_bit_identical():
    ref = np.random.default_rng(0).standard_normal((2, 4000)).astype(np.float32)
    dry = np.random.default_rng(1).standard_normal((2, 4000)).astype(np.float32)
    # pedalboard removes the reported latency R: y[t] = raw[t + d]
    assert check_exact("pedalboard", ref[:, 7:], ref, reported=100, delay=7)
    assert not check_exact("pedalboard", dry, ref, reported=100, delay=7)
    # DawDreamer does not: y[t] = raw[t - (R - d)]; a latency below the model's delay is a failure
    y = np.concatenate([np.zeros((2, 93), np.float32), ref], 1)[:, :4000]
    assert check_exact("dawdreamer", y, ref, reported=100, delay=7)
    assert check_exact("dawdreamer", dry, ref, reported=0, delay=7) is False


def test_memory_of_a_host_in_a_subprocess(vst3):
    row = measure_memory("pedalboard", vst3, 1, 44100.0)
    assert row.error == "" and row.peak_rss_mb > row.baseline_rss_mb > 0 and row.plugin_load_seconds > 0
    bad = measure_memory("pedalboard", ROOT / "no-such.vst3", 1, 44100.0)
    assert bad.error


def test_the_benchmark_executable_is_found_beside_the_build(vst3):
    assert find_exe(vst3).name == "nnplug_model_bench" and find_exe(vst3).is_file()


def test_markdown_without_rows():
    rep = Report("m", "m.ts", 1024, 1, 1, 1.0, 1, 1.0, rows=[Row("m", "pedalboard", "Synchronous", 512, 1024, 1,
                                                                      error="boom")])
    assert "error: boom" in markdown([rep]) and rep.errors()


def test_tables_go_between_their_readme_markers():
    from nnplug.bench.readme import splice
    text = "a\n<!-- bench-plugin:begin -->\nold\n<!-- bench-plugin:end -->\nb <!-- bench-streaming:begin -->x<!-- bench-streaming:end -->"
    out = splice(text, "plugin", "| new |\n")
    assert "| new |" in out and "old" not in out and out.endswith("x<!-- bench-streaming:end -->")
    assert splice(out, "plugin", "| newer |").count("bench-plugin:begin") == 1


def test_int8_target_compares_with_the_float32_model_at_the_same_buffer():
    from nnplug.bench.plugin import split_weights_suffix
    from nnplug.bench.plugin_report import int8_targets
    assert split_weights_suffix("rave-v2-int8") == ("rave-v2", "int8")
    assert split_weights_suffix("rave-v2-fp16") == ("rave-v2", "float16")
    assert split_weights_suffix("rave-v2") == ("rave-v2", "float32")

    def report(model, n, cpu):
        return Report(model, f"{model}.ts", n, 1, 1, 1.0, 1, 1.0,
                      rows=[Row(model, "pedalboard", "Synchronous", 512, n, 1, seconds_per_audio_second=cpu)])

    lines = int8_targets([report("m", 2048, 0.30), report("m", 4096, 0.20), report("m-int8", 2048, 0.10),
                          report("m-int8", 4096, 0.08), report("other-int8", 2048, 0.01)])
    assert len(lines) == 2
    assert lines[0].startswith("PASS: m-int8 pedalboard sync block 512 N=2048: 0.333")
    assert lines[1].startswith("MISS: m-int8 pedalboard sync block 512 N=4096: 0.400")
