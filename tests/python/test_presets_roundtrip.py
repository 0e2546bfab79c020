"""YAML -> .vstpreset -> a fresh plugin instance, in pedalboard and DawDreamer: every
parameter reads back as the YAML value (within its step), and the render equals
(np.array_equal) a render with the same parameters set directly. Factory programs selected
through the host give the same values as their preset files.

In pedalboard the direct renders come from one instance that goes through the presets in
turn (it has played the previous one): a change made before a stream restarts (reset=True)
applies from its first sample, with no ramp from the earlier values and no crossfade."""
from __future__ import annotations

import numpy as np
import pytest

from support.paths import SR
from support.presets import FACTORY
from nnplug.presets import build, vstpreset
from nnplug.presets.plugin import state_values
from nnplug.presets.source import find_sources, read_source

BLOCK = 512


@pytest.fixture(scope="module")
def built(preset_bundle, tmp_path_factory):
    out = tmp_path_factory.mktemp("vstpresets")
    build(FACTORY, preset_bundle, out)
    sources = [read_source(p)[0] for p in find_sources(FACTORY)]
    return out, sources


@pytest.fixture(scope="module")
def signal():
    rng = np.random.default_rng(3)
    t = np.arange(SR // 4) / SR
    return np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.1 * rng.standard_normal(t.size)]).astype(np.float32)


def expected(info, src) -> dict:
    """Every parameter's plain value: the YAML's, the plugin's default for the rest."""
    vals = {pid: p.default for pid, p in info.params.items()}
    vals.update({pid: info.params[pid].to_plain(v) for pid, v in src.data["parameters"].items()})
    return vals


def assert_values(info, got: dict, src) -> None:
    for pid, want in expected(info, src).items():
        p = info.params[pid]
        tol = (p.step / 2 if p.step else 1e-6) + 1e-5
        assert got[pid] == pytest.approx(want, abs=tol), f"{src.file.name}: {pid} = {got[pid]}, YAML {want}"


def pedalboard_values(host, info) -> dict:
    """The host's view (raw 0..1 values, mapped with the plugin's exact ranges)."""
    out = {}
    raws = host.raw_parameters()
    for pid, key in info.host_keys.items():
        p, raw = info.params[pid], raws[key].raw_value
        out[pid] = round(raw * p.hi) if p.is_choice else p.lo + raw * (p.hi - p.lo)
    return out


def direct(info, src) -> dict:
    """Every parameter, as the host sets it by hand (choices by label)."""
    return {pid: (info.params[pid].choices[int(v)] if info.params[pid].is_choice else v)
            for pid, v in expected(info, src).items()}


def assert_same_render(y_preset, y_direct, what):
    assert y_preset.shape == y_direct.shape
    if not np.array_equal(y_preset, y_direct):
        diff = np.nonzero(np.abs(y_preset - y_direct).max(axis=0))[0]
        pytest.fail(f"{what}: preset render differs from the direct one at {diff.size} samples, "
                    f"first {diff[0]}, max {np.abs(y_preset - y_direct).max():.3g}")


def test_vstpreset_round_trip_pedalboard(built, info, preset_bundle, signal):
    from nnplug.hosts import open_host
    out, sources = built
    by_hand = open_host("pedalboard", preset_bundle, SR)      # one instance, presets in turn
    renders = {}
    for src in sources:
        fresh = open_host("pedalboard", preset_bundle, SR)
        fresh.load_preset(out / f"{src.stem}.vstpreset")
        assert_values(info, pedalboard_values(fresh, info), src)
        # the plugin's own state agrees, and names the preset's model
        state = vstpreset.state_to_xml(vstpreset.read(fresh.preset_data).component)
        assert_values(info, state_values(state), src)
        assert src.data["model"]["sha256"] in state
        # the render equals one with the same parameters set directly
        y_preset = fresh.process(signal, BLOCK, reset=True)
        by_hand.set_params(direct(info, src))
        assert_values(info, pedalboard_values(by_hand, info), src)
        assert_same_render(y_preset, by_hand.render(signal, BLOCK), f"pedalboard {src.stem}")
        renders[src.stem] = y_preset
    assert_all_differ(renders)


def assert_all_differ(renders):
    """The presets differ audibly from one another (the test would not notice a preset ignored)."""
    ys = list(renders.values())
    assert all(not np.array_equal(a, b) for i, a in enumerate(ys) for b in ys[i + 1:])


def test_vstpreset_round_trip_dawdreamer(built, info, preset_bundle, signal):
    from nnplug.hosts import open_host
    out, sources = built
    renders = {}
    for src in sources:
        dd = open_host("dawdreamer", preset_bundle, SR)
        dd.load_preset(out / f"{src.stem}.vstpreset")
        y_preset = dd.render(signal, BLOCK)
        # the same parameters set directly on a fresh instance (after it was prepared)
        by_hand = open_host("dawdreamer", preset_bundle, SR)
        by_hand.set_params(direct(info, src))
        assert_same_render(y_preset, by_hand.render(signal, BLOCK), f"DawDreamer {src.stem}")
        # values through DawDreamer: it shows the plugin's values as text (its normalized cache
        # is not refreshed by a preset load), so compare at the text's precision
        fx = dd_fx(preset_bundle, out / f"{src.stem}.vstpreset")
        assert_text_values(info, fx, src)
        renders[src.stem] = y_preset
    assert_all_differ(renders)


def dd_fx(bundle, preset):
    """A DawDreamer session whose instance has loaded `preset` (never rendered)."""
    from nnplug.hosts.dawdreamer import Session
    session = Session(bundle, SR, BLOCK, np.zeros((2, 1), np.float32))
    session.load_preset(preset)
    return session


@pytest.fixture(scope="module")
def factory_bundle(built, preset_bundle):
    from nnplug.presets.build import factory_dir
    assert sorted(p.name for p in factory_dir(preset_bundle).glob("*.vstpreset")) == \
        sorted(f"{s.stem}.vstpreset" for s in built[1])
    return preset_bundle


def test_factory_programs_in_pedalboard(factory_bundle, built, info):
    from nnplug.hosts.pedalboard import PedalboardHost
    _, sources = built
    plugin = PedalboardHost(factory_bundle, SR)
    program = plugin.raw_parameters()["program"]
    assert list(program.choices) == [s.name for s in sources]            # getNumPrograms + names, in order
    for src in sources:
        program.value = src.name                                          # setCurrentProgram via the host
        state = vstpreset.state_to_xml(vstpreset.read(plugin.preset_data).component)
        assert program.value == src.name
        assert_values(info, state_values(state), src)


def test_factory_programs_in_dawdreamer(factory_bundle, built, info):
    from nnplug.hosts.dawdreamer import Session
    _, sources = built
    session = Session(factory_bundle, SR, BLOCK, np.zeros((2, BLOCK * 4), np.float32))
    session.connect()
    n = len(sources)
    for i, src in enumerate(sources):
        session.set_normalized("Program", i / (n - 1))
        session.render(BLOCK * 2)
        assert session.text("Program") == src.name
        assert_text_values(info, session, src)


def assert_text_values(info, session, src):
    for pid, want in expected(info, src).items():
        p = info.params[pid]
        text = session.text(p.name)
        if p.is_choice:
            assert text == p.choices[int(want)], (src.name, pid, text)
        else:
            shown = text.split()[0]
            decimals = len(shown.split(".")[1]) if "." in shown else 0
            assert float(shown) == pytest.approx(want, abs=0.5 * 10 ** -decimals + 1e-6), (src.name, pid, text)
