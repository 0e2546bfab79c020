"""Check preset sources against the built plugin, and build them: one .vstpreset each, and the
factory presets embedded in the bundle (Contents/Resources/presets/) as the plugin's programs.

A preset's state is the plugin's own (a fresh instance's state XML with the preset's values
put in), so every parameter the preset leaves out takes the plugin's default, and a preset
selected after another does not inherit its values. The state names no model file
(model_path "": the bundle's default model) and carries the model's sha256, so the plugin
warns when it plays the preset on another model.
"""
from __future__ import annotations

import difflib
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from . import vstpreset
from .plugin import PluginInfo, read_plugin, staged_models
from .source import PresetSource, Problem, find_sources, read_source
from .swap import swap_in

_PLUGIN_CACHE: Dict[Tuple[str, float], PluginInfo] = {}


def plugin_info(bundle: Path) -> PluginInfo:
    """read_plugin, once per bundle and binary version in a process (it loads the plugin)."""
    bundle = Path(bundle).resolve()
    binaries = sorted((bundle / "Contents").glob("*/*.so")) + sorted((bundle / "Contents").glob("*/*.dylib"))
    key = (str(bundle), max((b.stat().st_mtime for b in binaries), default=0.0))
    if key not in _PLUGIN_CACHE:
        _PLUGIN_CACHE[key] = read_plugin(bundle)
    return _PLUGIN_CACHE[key]


@dataclass
class Preset:
    source: PresetSource
    values: Dict[str, float]          # every parameter's plain (state) value

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def stem(self) -> str:
        return self.source.stem

    def state_xml(self, info: PluginInfo) -> str:
        root = ET.fromstring(info.base_state)
        root.set("model_path", "")
        root.set("model_sha256", self.source.data["model"]["sha256"])
        for p in root.iter("PARAM"):
            if p.get("id") in self.values:
                p.set("value", repr(float(self.values[p.get("id")])))
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")

    def vstpreset_bytes(self, info: PluginInfo) -> bytes:
        d = self.source.data
        meta = {"MediaType": "VstPreset", "PlugInName": info.name, "PlugInCategory": "Fx",
                "Name": d["name"], "Author": d.get("author", ""), "Description": d.get("description", ""),
                "Tags": ", ".join(d.get("tags", [])), "Model": d["model"]["name"],
                "ModelSha256": d["model"]["sha256"]}
        chunks = {"Comp": vstpreset.xml_to_state(self.state_xml(info)), "Cont": b"",
                  "Info": vstpreset.meta_info(meta)}
        return vstpreset.write(vstpreset.VstPreset(info.class_id, chunks))


def check_sources(paths: List[Path], info: PluginInfo) -> Tuple[List[Preset], List[Problem]]:
    """Schema and plugin checks of every file; cross-file checks (names, file stems)."""
    presets: List[Preset] = []
    problems: List[Problem] = []
    staged = staged_models(info.bundle)
    default_sha = _default_sha(info.bundle, staged)
    for path in paths:
        src, probs = read_source(path)
        problems += probs
        if src is None or not isinstance(src.data, dict):
            continue
        before = len(problems) - len(probs)
        values = {pid: p.default for pid, p in info.params.items()}
        params = src.data.get("parameters")
        for pid, value in (params.items() if isinstance(params, dict) else ()):
            p = info.params.get(pid)
            if p is None:
                near = difflib.get_close_matches(str(pid), list(info.params), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else f" (the plugin has: {', '.join(info.params)})"
                problems.append(Problem(path, src.line("parameters", pid), f"unknown parameter ID {pid!r}{hint}"))
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, str)) or value != value:
                continue            # the schema check has reported it
            try:
                values[pid] = p.to_plain(value)
            except ValueError as e:
                problems.append(Problem(path, src.lines.get(("parameters", pid), 1), str(e)))
        model = src.data.get("model")
        sha = model.get("sha256") if isinstance(model, dict) else None
        if not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
            sha = None              # the schema check has reported it
        if default_sha is not None and isinstance(sha, str) and sha != default_sha:
            other = staged.get(sha)
            what = f"the staged model {other['name']!r}, not the default" if other else "no model staged in the bundle"
            problems.append(Problem(path, src.lines.get(("model", "sha256"), 1),
                                    f"model sha256 {sha[:12]}… is {what}; presets play on the bundle's "
                                    f"default model {staged[default_sha]['name']!r} ({default_sha[:12]}…)"))
        elif default_sha is not None and isinstance(sha, str) and model.get("name") != staged[default_sha]["name"]:
            problems.append(Problem(path, src.lines.get(("model", "name"), 1),
                                    f"model name {model.get('name')!r} differs from the staged model's "
                                    f"{staged[default_sha]['name']!r} (same sha256)"))
        if len(problems) == before:
            presets.append(Preset(src, values))
    names: Dict[str, Path] = {}
    stems: Dict[str, Path] = {}
    for pr in presets:
        key = pr.name.casefold()
        if key in names:
            problems.append(Problem(pr.source.file, pr.source.line("name"),
                                    f"preset name {pr.name!r} is also used by {names[key].name}"))
        names.setdefault(key, pr.source.file)
        if pr.stem.casefold() in stems:
            problems.append(Problem(pr.source.file, 1, f"file name {pr.stem!r} is also used by "
                                                       f"{stems[pr.stem.casefold()].name} (one .vstpreset per stem)"))
        stems.setdefault(pr.stem.casefold(), pr.source.file)
    return presets, problems


def _default_sha(bundle: Path, staged: dict) -> Optional[str]:
    import json

    from nnplug.stage import models_dir as models_dir_of
    manifest = models_dir_of(bundle) / "manifest.json"
    if not staged or not manifest.is_file():
        return None
    data = json.loads(manifest.read_text())
    for sha, m in staged.items():
        if m.get("name") == data.get("default"):
            return sha
    return None


def check_dir(directory: Path, bundle: Path) -> Tuple[List[Preset], List[Problem], PluginInfo]:
    from nnplug.errors import UserError
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"presets directory not found: {directory}")
    paths = find_sources(directory)
    if not paths:
        raise UserError(f"{directory}: no preset files (*.yaml)")
    info = plugin_info(bundle)
    presets, problems = check_sources(paths, info)
    problems.sort(key=lambda p: (str(p.file), p.line))
    return presets, problems, info


class PresetsInvalid(Exception):
    def __init__(self, problems: List[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def build(directory: Path, bundle: Path, out: Optional[Path], embed: bool = True) -> List[Path]:
    """Write OUT/<stem>.vstpreset per preset and (embed) replace the bundle's factory presets.
    Nothing is written unless every preset is valid."""
    presets, problems, info = check_dir(directory, bundle)
    if problems:
        raise PresetsInvalid(problems)
    blobs = {f"{p.stem}.vstpreset": p.vstpreset_bytes(info) for p in presets}
    written: List[Path] = []
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for name, data in blobs.items():
            written.append(atomic_write(out / name, data))
    if embed:
        written += [d / n for d in [replace_dir(factory_dir(bundle), blobs)] for n in blobs]
    return written


def factory_dir(bundle: Path) -> Path:
    from nnplug.stage import models_dir as models_dir_of
    return models_dir_of(bundle).parent / "presets"


def atomic_write(path: Path, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def replace_dir(target: Path, files: Dict[str, bytes]) -> Path:
    """Make `target` hold exactly `files`, swapping a complete new directory in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{target.name}.new.", dir=target.parent))
    try:
        for name, data in files.items():
            (new / name).write_bytes(data)
        os.chmod(new, 0o755)
        old = swap_in(new, target, target.with_name(f".{target.name}.old.{os.getpid()}"))
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if new.exists():
            shutil.rmtree(new, ignore_errors=True)
    return target
