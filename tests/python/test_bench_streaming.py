"""The streaming benchmark measures what it claims: exactness of cached and context-window,
the approximation error of overlap-add. (Speed ratios are printed by `nnplug bench
streaming`, not asserted here: this machine is too noisy for timed unit tests.)"""
import torch

from nnplug.bench.streaming import bench_model, markdown
from nnplug.models import build_model


def test_bench_rows_report_errors_of_each_method():
    torch.manual_seed(0)
    rows = bench_model("seed", build_model({"architecture": "seed"}), [64, 100, 256], seconds=0.1, rounds=1)
    assert [r.buffer for r in rows] == [64] * 4 + [256] * 4      # 100 is not a multiple of the ratio 8
    by_method = {(r.buffer, r.method): r for r in rows}
    for buffer in (64, 256):
        assert by_method[buffer, "cached"].relative_error <= 1e-5
        assert by_method[buffer, "context-window"].relative_error <= 1e-5
        assert by_method[buffer, "overlap-add 25%"].relative_error > 1e-4
        assert by_method[buffer, "cached"].delay == 7
        assert by_method[buffer, "overlap-add 50%"].delay == buffer // 2
    assert all(r.seconds_per_audio_second > 0 for r in rows)
    assert markdown(rows).count("\n") == len(rows) + 1


def test_verdict_fails_only_beyond_the_rounds_spread():
    """A run fails when an alternative beat cached in every round; rounds on both sides of
    cached are a tie (reported, not failed); slower in every round passes."""
    from nnplug.bench.streaming import Row, ties, verdict

    def row(method, low, median, high):
        return Row("seed", 2048, method, 0.01, median, low, high, 0.0, 0.0, 7)

    rows = [row("cached", 1.0, 1.0, 1.0), row("context-window", 0.88, 0.93, 1.06),
            row("overlap-add 25%", 1.2, 1.4, 1.5), row("overlap-add 50%", 0.85, 0.9, 0.97)]
    problems = verdict(rows)
    assert len(problems) == 1 and "overlap-add 50%" in problems[0] and "every round" in problems[0]
    assert [t.split(": ")[1].split(" ties")[0] for t in ties(rows)] == ["context-window"]
