"""Robustness (issue 7): hostile model files, hostile state and hostile hosts, each host in a
child process (nnplug.stress) so that a crash fails the case it happened in instead of pytest.

The bad-model corpus is python/nnplug/badmodels.py; the same files go through `nnplug inspect`
and `nnplug stage` here, and through the engine and the JUCE processor in tests/cpp (where
thousands of state blobs are fuzzed in-process; a few hundred go through pedalboard here)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from support.paths import SR
from nnplug import stress
from nnplug.badmodels import write_corpus
from nnplug.cli import main as cli
from nnplug.hosts.status import (juce_b64decode, juce_b64encode, plugin_state_blob, plugin_status, rewrap,
                                 with_state_fields, without_status)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("bad"))


@pytest.fixture(scope="module")
def bundle(vst3, tmp_path_factory):
    return stress.prepare_bundle(vst3, tmp_path_factory.mktemp("stress-bundle"))


def _report(results):
    bad = [f"{r.host} {r.name}: {r.detail}" for r in results if not r.ok]
    return f"{len(bad)} of {len(results)} failed:\n" + "\n".join(bad)


# ---- the tools ---------------------------------------------------------------------------------

def test_corpus_covers_the_issue(corpus):
    names = {c.name for c in corpus}
    assert names >= {"empty", "random_bytes", "truncated", "zip_not_torchscript", "no_forward_params",
                     "params_wrong_shape", "params_wrong_dtype", "wrong_length", "wrong_channels", "non_tensor",
                     "nan", "inf", "huge", "raises", "slow", "not_streaming", "sr_zero", "sr_absurd",
                     "raises_midstream", "nan_midstream"}


def test_inspect_and_stage_give_clear_errors(corpus, tmp_path, capsys):
    fake = tmp_path / "nnplug.vst3"
    (fake / "Contents").mkdir(parents=True)
    for c in corpus:
        rc = cli(["inspect", str(c.file)])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err, c.name
        if c.inspect_warns:
            assert rc == 0 and re.search(c.inspect_error, out, re.I), (c.name, out)
        else:
            assert rc == 2, (c.name, out, err)
            assert err.startswith("nnplug inspect: error:") and re.search(c.inspect_error, err, re.I), (c.name, err)
        rc = cli(["stage", "--plugin", str(fake), "--model", str(c.file)])
        out, err = capsys.readouterr()
        assert rc == 2 and "Traceback" not in err, (c.name, out, err)
        assert re.search(c.stage_error, err, re.I), (c.name, err)
    assert not any((fake / "Contents" / "Resources" / "models").glob("*.ts")), "stage copied a refused model"


def test_status_helper_reads_and_rewrites_a_real_state(bundle):
    from nnplug.badmodels import write_good
    from nnplug.hosts.pedalboard import PedalboardHost
    good = write_good(bundle.parent / "good.ts")
    stress._point_default_at(bundle, good)
    p = PedalboardHost(bundle, SR)
    p.process(np.zeros((2, 1024), np.float32), 512)
    raw = p.raw_state
    st = plugin_status(raw)
    assert st.ok and st.model_file == str(good.resolve()) and st.latency == p.reported_latency()
    data = bytes(range(256)) * 3
    assert juce_b64decode(juce_b64encode(data)) == data
    assert plugin_state_blob(rewrap(raw, plugin_state_blob(raw))) == plugin_state_blob(raw)
    p.raw_state = with_state_fields(raw, params={"dry_wet": "25"}, model_path="/no/such/model.ts")
    p.process(np.zeros((2, 1024), np.float32), 512)
    st = plugin_status(p.raw_state)
    assert p.get_param("dry_wet") == pytest.approx(25.0)
    assert st.failed and not st.loaded and "not found" in st.message
    assert "/no/such/model.ts" in without_status(p.raw_state).decode()   # the reference is kept


# ---- the hosts, each in a child process --------------------------------------------------------

def test_a_host_crash_fails_the_case_and_not_pytest(bundle):
    """The harness itself: a child killed by SIGSEGV mid-case fails exactly that case, and the
    cases after it still run in a new child."""
    cases = [{"kind": "_crash", "host": "pedalboard", "name": "crashes"},
             {"kind": "_noop", "host": "pedalboard", "name": "after the crash"}]
    r = stress.run_in_child(cases)
    assert (r[0].survived, r[0].ok) == (False, False) and "SIGSEGV" in r[0].detail
    assert (r[1].survived, r[1].ok) == (True, True)


def test_bad_models_in_both_hosts(bundle, tmp_path):
    cases = stress.bad_model_cases(bundle, tmp_path / "bad")
    results = stress.run_in_child(cases)
    s = stress.summarize(results, 0)
    print(f"\n[robustness] bad-model cases: {s['tried']} tried, {s['survived']} survived, {s['failed']} failed")
    assert s["crashes"] == 0 and s["failed"] == 0, _report(results)
    assert s["tried"] >= 2 * 21


def test_host_torture_in_both_hosts(bundle, tmp_path):
    results = stress.run_in_child(stress.torture_cases(bundle, tmp_path))
    assert all(r.ok for r in results), _report(results)


def test_state_fuzzing_through_pedalboard(bundle, tmp_path):
    write_corpus(tmp_path / "bad", slow=False)
    results = stress.run_in_child(stress.state_fuzz_cases(bundle, tmp_path, blobs=300))
    assert all(r.ok for r in results), _report(results)
    print(f"\n[robustness] state blobs through pedalboard: {results[0].counts}")
    assert results[0].counts["rejected"] > 30   # the mutations do reach the rejection paths


def test_soak_short(bundle, tmp_path):
    """CI's soak: 2 minutes of audio through one pedalboard instance with the seed autoencoder
    (`make soak` runs 60): no drift after warm-up, resident memory growth <= 1 %."""
    model = stress.soak_model(tmp_path / "seed.ts")
    r = stress.run_in_child([stress.soak_case(bundle, model, 2.0)])[0]
    print(f"\n[robustness] soak: {r.detail} {r.counts}")
    assert r.ok, r.detail
