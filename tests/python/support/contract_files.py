"""Real TorchScript files made from the descriptions in tests/contract_cases/*.json, for the
contract tests: the methods with their `_params` buffers, `get_methods`, `reset`, attributes,
submodules and nnplug metadata a case names, and nothing else."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Tuple

import torch
import torch.nn as nn

CASES = Path(__file__).resolve().parents[2] / "contract_cases"


def _forward(self, x: torch.Tensor) -> torch.Tensor:
    return x


def _encode(self, x: torch.Tensor) -> torch.Tensor:
    return x


def _decode(self, z: torch.Tensor) -> torch.Tensor:
    return z


def _reset(self) -> None:
    pass


def _get_methods(self) -> List[str]:
    return self.listed


_METHODS = {"forward": _forward, "encode": _encode, "decode": _decode}


# nn~ attributes as nn-tilde 1.6 makes them (get_attributes, get_<name> returning a tuple,
# set_<name>), plus a plain-int getter and one that is not a number (not a control).
def _get_attributes(self) -> List[str]:
    return ["gain", "invert", "steps", "label"]


def _get_gain(self) -> Tuple[float]:
    return (self.gain,)


def _set_gain(self, gain0: float) -> int:
    self.gain = gain0
    return 0


def _get_invert(self) -> Tuple[bool]:
    return (self.invert,)


def _set_invert(self, invert0: bool) -> int:
    self.invert = invert0
    return 0


def _get_steps(self) -> int:
    return self.steps


def _set_steps(self, steps0: int) -> int:
    self.steps = steps0
    return 0


def _get_label(self) -> str:
    return "a label"


def _set_label(self, label0: str) -> int:
    return 0


_CONTROLS = {name: torch.jit.export(fn) for name, fn in (
    ("get_attributes", _get_attributes), ("get_gain", _get_gain), ("set_gain", _set_gain),
    ("get_invert", _get_invert), ("set_invert", _set_invert), ("get_steps", _get_steps),
    ("set_steps", _set_steps), ("get_label", _get_label), ("set_label", _set_label))}


class CachedPadding1d(nn.Module):
    """Named as cached_conv's padding module: its `pad` buffer holds a stream's past (empty when
    the model was exported without streaming)."""

    def __init__(self, shape: List[int]):
        super().__init__()
        self.register_buffer("pad", torch.zeros(shape))


class _Attributes(nn.Module):
    """A submodule that only carries attributes (RAVE v1's `_rave`)."""

    def __init__(self):
        super().__init__()
        self.marker = 1


def cases() -> List[str]:
    return sorted(p.stem for p in CASES.glob("*.json"))


def load_case(name: str) -> dict:
    return json.loads((CASES / f"{name}.json").read_text())


def make_file(case: dict, path: Path) -> Path:
    spec = case["file"]
    body = {}
    for method in spec["methods"]:
        fn = _METHODS[method]
        body[method] = fn if method == "forward" else torch.jit.export(fn)
    if "forward" not in body:
        body["forward"] = _forward       # TorchScript needs one; without forward_params it is not a method here
    if spec.get("reset"):
        body["reset"] = torch.jit.export(_reset)
    if spec.get("controls"):
        body.update(_CONTROLS)
    if "get_methods" in spec:
        body["get_methods"] = torch.jit.export(_get_methods)
    cls = type("ContractCase", (nn.Module,), body)
    module = cls()
    nn.Module.__init__(module)
    for method, params in spec["methods"].items():
        dtype = torch.float32 if method in spec.get("float_params", []) else torch.int64
        module.register_buffer(f"{method}_params", torch.tensor(params, dtype=dtype))
    if "get_methods" in spec:
        module.listed = list(spec["get_methods"])
    for key, value in spec.get("attributes", {}).items():
        setattr(module, key, value)
    for name in spec.get("submodules", []):
        setattr(module, name, _Attributes())
    for i, shape in enumerate(spec.get("caches", [])):
        setattr(module, f"cache{i}", CachedPadding1d(shape))
    if spec.get("controls"):
        module.gain, module.invert, module.steps = 1.0, False, 3
    if "metadata_attribute" in spec:
        module.nnplug_metadata = json.dumps(spec["metadata_attribute"])
    scripted = torch.jit.script(module)
    extra = {"nnplug.json": json.dumps(spec["metadata"])} if "metadata" in spec else {}
    torch.jit.save(scripted, str(path), _extra_files=extra)
    return path


if __name__ == "__main__":
    # `python contract_files.py OUTDIR`: every case as OUTDIR/<case>.ts, for the C++ reader's test
    # (tests/cpp/test_model_file.cpp) to read the same files the Python reader's test reads.
    import sys
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name in cases():
        make_file(load_case(name), out / f"{name}.ts")
    print(f"{len(cases())} contract case files in {out}")
