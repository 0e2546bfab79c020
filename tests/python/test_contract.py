"""The one Python reader of a model file (`nnplug.contract`) finds in each described file
(tests/contract_cases/*.json, made into real TorchScript files) the facts the plugin's reader
finds, or refuses it with the plugin's message."""
from __future__ import annotations

import re

import pytest

from support.contract_files import cases, load_case, make_file
from nnplug import contract


@pytest.mark.parametrize("name", cases())
def test_contract_case(name, tmp_path):
    case = load_case(name)
    path = make_file(case, tmp_path / f"{name}.ts")
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(contract.ContractError) as e:
            contract.with_method(contract.read(path), case.get("method", "Auto"))
        assert re.search(expect["error"], str(e.value)), str(e.value)
        if "method" not in case:   # a refusal at load names the file; a method choice is refused later
            assert str(path) in str(e.value)
        return
    facts = contract.read(path)
    if "method" in case:
        facts = contract.with_method(facts, case["method"])
    got = {key: getattr(facts, key) for key in expect}
    if "controls" in got:
        got["controls"] = [[c.name, c.kind, c.type, c.default, c.lo, c.hi] for c in facts.controls]
    assert got == expect, case["description"]


def test_there_are_cases_of_every_format_and_refusal():
    kinds = {load_case(n)["expect"].get("format") for n in cases()}
    assert {"nnplug", "rave-v2", "rave-v1", "nn~"} <= kinds
    assert sum("error" in load_case(n)["expect"] for n in cases()) >= 6


@pytest.mark.parametrize("choice, ratio, n", [("Auto", 1, 1024), ("auto", 2048, 2048), ("Auto", 3, 1026),
                                               (128, 8, 128), ("100", 8, 104), (4096, 2048, 4096)])
def test_buffer_size_is_the_choice_rounded_up_to_the_ratio(choice, ratio, n):
    assert contract.buffer_size(choice, ratio) == n


def test_not_a_torchscript_file(tmp_path):
    ckpt = tmp_path / "weights.pt"
    import torch
    torch.save({"w": torch.zeros(2)}, ckpt)
    with pytest.raises(contract.ContractError, match="not a TorchScript file .* export it first"):
        contract.read(ckpt)
    with pytest.raises(contract.ContractError, match="no such file"):
        contract.read(tmp_path / "missing.ts")
