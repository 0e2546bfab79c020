"""`nnplug presets check/build`: every malformed preset is reported as file:line: message,
and nothing is written when anything is wrong. The parameter list comes from the plugin."""
from __future__ import annotations

import json
import textwrap

import pytest

from support.paths import DEFAULT_MODEL
from support.presets import FACTORY, copy_factory, tree
from nnplug.cli import main
from nnplug.stage import sha256_file

SHA = sha256_file(DEFAULT_MODEL)


def good(**params) -> str:
    body = "\n".join(f"  {k}: {v}" for k, v in (params or {"dry_wet": 50}).items())
    return (f"name: Test\nauthor: me\ntags: [a]\nmodel:\n  name: nnplug-default\n  sha256: {SHA}\n"
            f"parameters:\n{body}\n")


def test_plugin_parameter_list_is_read_from_the_plugin(info):
    # the IDs of README's table, with ranges and steps as createParameterLayout() (juce_project/Parameters.cpp) builds them
    assert list(info.params)[:7] == ["input_gain", "output_gain", "dry_wet", "buffer_size", "inference_mode",
                                     "on_failure", "mono_mode"]
    g = info.params["input_gain"]
    assert (g.lo, g.hi, g.step, g.default) == (-24.0, 24.0, 0.01, 0.0)
    assert (info.params["dry_wet"].step, info.params["dry_wet"].hi) == (0.1, 100.0)
    assert info.params["latent_scale_8"].step == 0.001 and info.params["latent_scale_8"].default == 1.0
    assert info.params["buffer_size"].choices[:2] == ("Auto", "64")
    from nnplug.contract import BUFFER_CHOICES     # the contract's copy of the plugin's choices
    assert info.params["buffer_size"].choices == BUFFER_CHOICES
    assert "bypass" not in info.params and len(info.params) == 32
    from nnplug.contract import METHOD_CHOICES
    assert info.params["model_method"].choices == METHOD_CHOICES
    assert (info.params["model_control_8"].lo, info.params["model_control_8"].hi,
            info.params["model_control_8"].default) == (0.0, 1.0, 0.5)


def test_schema_file_is_the_package_copy():
    from nnplug.presets.source import SCHEMA_PATH
    assert json.loads((FACTORY / "schema.json").read_text()) == json.loads(SCHEMA_PATH.read_text())


def test_factory_presets_check(preset_bundle, capsys):
    assert main(["presets", "check", str(FACTORY), "--plugin", str(preset_bundle)]) == 0
    assert "5 preset(s) ok" in capsys.readouterr().out


CASES = [
    # (file text, line, message part)
    ("author: me\nname: a: b\n", 2, "YAML syntax error: mapping values are not allowed"),
    ("", 1, "empty file"),
    ("- a\n- b\n", 1, "the preset must be object, not a list"),
    (good() + "name: Again\n", 9, "duplicate key 'name'"),
    (good() + "colour: red\n", 9, "unknown field 'colour'"),
    (good().replace("author: me\n", "author: 3\n"), 2, "author must be string, not an integer"),
    (good().replace("model:\n  name: nnplug-default\n  sha256: " + SHA + "\n", ""), 1,
     "missing the required field 'model'"),
    (good().replace(SHA, "abc"), 6, "model.sha256 'abc' does not match"),
    (good().replace(SHA, "f" * 64), 6, "is no model staged in the bundle"),
    (good().replace("nnplug-default", "other-name"), 5, "differs from the staged model's"),
    (good().replace("tags: [a]", "tags: [a, a]"), 3, "lists 'a' twice"),
    (good(dry_wett=5), 8, "unknown parameter ID 'dry_wett' (did you mean 'dry_wet'?)"),
    (good(input_gain=99), 8, "input_gain = 99 is outside [-24, 24]"),
    (good(output_gain=0.005), 8, "not on the parameter's grid (steps of 0.01"),
    (good(mono_mode="Stereo"), 8, "mono_mode must be one of 'Per channel', 'Downmix'"),
    (good(latent_bias_1="yes"), 8, "must be number or string, not a boolean"),
    (good(dry_wet=".nan"), 8, "must be a finite number"),
    (good(dry_wet="'loud'"), 8, "dry_wet must be a number in [0, 100]"),
    (good(Dry_Wet=5), 8, "'Dry_Wet' is not a valid name"),
    ("parameters: &p {dry_wet: 1}\nother: *p\n", 2, "anchors and aliases are not allowed"),
    (good() + "---\nname: second\n", 10, "more than one YAML document"),
    (good() + "when: 2024-01-01\n", 9, "unknown field 'when'"),
    ("name: !!python/object:os.system x\n", 1, "cannot read value"),
]


@pytest.mark.parametrize("text,line,message", CASES, ids=[c[2][:30] for c in CASES])
def test_malformed_preset_is_reported_and_nothing_written(text, line, message, preset_bundle, tmp_path,
                                                          capsys):
    src = copy_factory(tmp_path / "presets")
    (src / "zz-bad.yaml").write_text(text)
    out = tmp_path / "out"
    before = tree(preset_bundle / "Contents" / "Resources")
    rc = main(["presets", "build", str(src), "--plugin", str(preset_bundle), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{src / 'zz-bad.yaml'}:{line}: " in err and message in err, err
    assert "nothing written" in err
    assert not out.exists() and tree(preset_bundle / "Contents" / "Resources") == before
    # the good files are not blamed
    assert "01-clean.yaml" not in err


def test_duplicate_names_across_files(preset_bundle, tmp_path, capsys):
    src = copy_factory(tmp_path / "presets")
    (src / "zz-copy.yaml").write_text((FACTORY / "01-clean.yaml").read_text())
    assert main(["presets", "check", str(src), "--plugin", str(preset_bundle)]) == 2
    err = capsys.readouterr().err
    assert f"{src / 'zz-copy.yaml'}:4: preset name 'Clean' is also used by 01-clean.yaml" in err


def test_oversized_and_binary_sources(preset_bundle, tmp_path, capsys):
    src = copy_factory(tmp_path / "presets")
    (src / "big.yaml").write_text("# " + "x" * 70000 + "\n")
    (src / "bin.yaml").write_bytes(b"name: a\n\xff\xfe\n")
    assert main(["presets", "check", str(src), "--plugin", str(preset_bundle)]) == 2
    err = capsys.readouterr().err
    assert f"{src / 'big.yaml'}:1: file is" in err and f"{src / 'bin.yaml'}:2: not UTF-8 text" in err


def test_empty_dir_is_a_user_error(preset_bundle, tmp_path, capsys):
    (tmp_path / "none").mkdir()
    assert main(["presets", "check", str(tmp_path / "none"), "--plugin", str(preset_bundle)]) == 2
    assert "no preset files" in capsys.readouterr().err


def test_good_preset_with_choices_checks(preset_bundle, tmp_path, capsys):
    src = tmp_path / "p"
    src.mkdir()
    (src / "a.yaml").write_text(textwrap.dedent(good(buffer_size='"512"', inference_mode="worker thread",
                                                     output_gain=-9.25)))
    assert main(["presets", "check", str(src), "--plugin", str(preset_bundle)]) == 0, capsys.readouterr().err
