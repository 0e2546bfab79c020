"""The built plugin's real parameter list, read from the plugin itself (never a hard-coded copy).

pedalboard lists the parameters a host sees (names, labels, choice texts) but not their
stable IDs, and its ranges and steps are approximations from sampling the display text.
The plugin's own state is exact: its XML holds every parameter by ID in plain units. So each
host parameter is moved and the state read back: the PARAM whose value changed is its ID;
normalized 0 and 1 give the exact range; the smallest move that changes the state, taken
where the values are small (exact in float32), gives the step.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Tuple, Union

from . import vstpreset

Value = Union[float, str]


@dataclass(frozen=True)
class PluginParam:
    id: str
    name: str                       # as hosts show it
    lo: float                       # plain (state) units; choices: 0
    hi: float                       # choices: len(choices) - 1
    step: float                     # choices: 1
    default: float                  # plain value in a fresh instance
    choices: Tuple[str, ...] = ()

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    def describe(self) -> str:
        if self.is_choice:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        return f"a number in [{_fmt(self.lo)}, {_fmt(self.hi)}] in steps of {_fmt(self.step)}"

    def to_plain(self, value) -> float:
        """A preset value (a number, or a choice's label) -> the state's plain value.
        Raises ValueError with a message for the user."""
        if self.is_choice:
            if isinstance(value, bool):
                raise ValueError(f"{self.id} must be {self.describe()}, not {value!r}")
            text = str(value).strip()
            for i, c in enumerate(self.choices):
                if c.lower() == text.lower():
                    return float(i)
            raise ValueError(f"{self.id} must be {self.describe()}, not {value!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{self.id} must be {self.describe()}, not {value!r}")
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"{self.id} must be finite, not {value!r}")
        tol = 1e-6 * max(1.0, abs(self.hi - self.lo))
        if v < self.lo - tol or v > self.hi + tol:
            raise ValueError(f"{self.id} = {value!r} is outside [{_fmt(self.lo)}, {_fmt(self.hi)}]")
        if self.step > 0:
            k = (v - self.lo) / self.step
            if abs(k - round(k)) > 1e-4:
                raise ValueError(f"{self.id} = {value!r} is not on the parameter's grid "
                                 f"(steps of {_fmt(self.step)} from {_fmt(self.lo)})")
        return min(max(v, self.lo), self.hi)

    def from_plain(self, plain: float) -> Value:
        if self.is_choice:
            return self.choices[int(round(plain))]
        return float(plain)


@dataclass
class PluginInfo:
    bundle: Path
    class_id: str                   # the VST3 component class ID (from the plugin's own preset)
    name: str
    manufacturer: str
    version: str
    base_state: str                 # a fresh instance's state XML
    params: Dict[str, PluginParam] = field(default_factory=dict)
    host_keys: Dict[str, str] = field(default_factory=dict)   # ID -> pedalboard attribute


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _nice(step: float) -> float:
    """The step the plugin was built with, from one measured in float32 (0.0100002 -> 0.01)."""
    for digits in range(1, 7):
        nice = float(f"{step:.{digits}g}")
        if abs(nice - step) <= 1e-3 * abs(step):
            return nice
    return step


def state_values(xml: str) -> Dict[str, float]:
    root = ET.fromstring(xml)
    return {p.get("id"): float(p.get("value")) for p in root.iter("PARAM")}


def _state_of(host) -> Tuple[str, str]:
    preset = vstpreset.read(host.preset_data)
    return preset.class_id, vstpreset.state_to_xml(preset.component)


def read_plugin(bundle: Union[str, Path]) -> PluginInfo:
    """Load `bundle` in pedalboard and read its parameter list (see the module docstring)."""
    from nnplug.errors import UserError
    bundle = Path(bundle)
    if not bundle.exists():
        raise UserError(f"plugin bundle not found: {bundle} (run `nnplug build` first)")
    from nnplug.hosts.pedalboard import PedalboardHost
    try:
        host = PedalboardHost(bundle)
    except Exception as e:  # noqa: BLE001 - a host's refusal is the user's bundle
        raise UserError(f"{bundle}: pedalboard cannot load the plugin ({str(e).splitlines()[0]})")
    class_id, base = _state_of(host)
    defaults = state_values(base)

    def current() -> Dict[str, float]:
        return state_values(_state_of(host)[1])

    ident = host.identity()
    info = PluginInfo(bundle, class_id, ident["name"] or bundle.stem, ident["manufacturer"], ident["version"], base)
    hps = host.raw_parameters()
    # 1. each host parameter moved alone: the state entry that changes is its ID
    found = []
    for key, hp in hps.items():
        original = hp.raw_value
        hp.raw_value = 1.0 if original < 0.5 else 0.0
        changed = [pid for pid, v in current().items() if v != defaults.get(pid)]
        hp.raw_value = original
        if len(changed) == 1:       # else not in the state (the wrapper's bypass and program)
            found.append((changed[0], key, hp, original))

    def all_at(raws: Dict[str, float]) -> Dict[str, float]:
        for pid, key, hp, _ in found:
            if pid in raws:
                hp.raw_value = raws[pid]
        return current()

    # 2. ranges: everything at normalized 0, then 1
    lo = all_at({pid: 0.0 for pid, *_ in found})
    hi = all_at({pid: 1.0 for pid, *_ in found})
    # 3. steps of the number parameters, measured where the plain values are smallest (exact
    # in float32): from a start point, double a normalized offset until the state moves; the
    # first move is one step (the plugin rounds to the nearest grid point)
    numbers = [f for f in found if not f[2].choices]
    starts = {pid: (0.0 if lo[pid] >= 0 or hi[pid] <= 0 else -lo[pid] / (hi[pid] - lo[pid]))
              for pid, *_ in numbers}
    v0 = all_at(starts)
    steps: Dict[str, float] = {}
    d = 1e-8
    while len(steps) < len(numbers) and d < 1.0:
        values = all_at({pid: min(1.0, starts[pid] + d) for pid, *_ in numbers if pid not in steps})
        for pid, *_ in numbers:
            if pid not in steps and values[pid] != v0[pid]:
                steps[pid] = _nice(values[pid] - v0[pid]) if d > 1e-8 else 0.0   # moved at once: continuous
        d *= 2
    for pid, key, hp, original in found:
        hp.raw_value = original
        if hp.choices:
            choices = hp.choices
            info.params[pid] = PluginParam(pid, hp.name, 0.0, float(len(choices) - 1), 1.0, defaults[pid], choices)
        else:
            info.params[pid] = PluginParam(pid, hp.name, lo[pid], hi[pid], steps.get(pid, 0.0), defaults[pid])
        info.host_keys[pid] = key
    if not info.params:
        raise UserError(f"{bundle}: no parameter of the plugin shows in its state: not an nnplug plugin?")
    return info


def staged_models(bundle: Union[str, Path]) -> Dict[str, dict]:
    """sha256 -> manifest entry for each model staged in the bundle (empty when none)."""
    import json

    from nnplug.stage import models_dir
    manifest = models_dir(Path(bundle)) / "manifest.json"
    if not manifest.is_file():
        return {}
    try:
        data = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return {m["sha256"]: m for m in data.get("models", []) if isinstance(m, dict) and m.get("sha256")}
