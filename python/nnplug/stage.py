"""Copy models into a built plugin bundle: Contents/Resources/models/ plus manifest.json.

The plugin loads the manifest's default model when its state names none. Every model is
checked first (it must load and follow the model contract), so a bundle never ships a file
the plugin would refuse, nor a non-streaming one unless asked to (`allow_non_streaming`).
A file that does not state its delay has it measured here (`nnplug.player`, as the plugin
measures it) and recorded in the manifest with the file's sha256: the plugin takes it from
there instead of measuring a large model at every load.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from nnplug.player import sha256_file

MANIFEST_VERSION = 1


def models_dir(bundle: Path) -> Path:
    """Where the plugin looks for staged models, for each bundle layout it can have."""
    bundle = Path(bundle)
    if bundle.suffix in (".vst3", ".component") or (bundle / "Contents").is_dir():
        return bundle / "Contents" / "Resources" / "models"
    return bundle / "Resources" / "models"   # LV2 bundle or a Standalone's directory


def validate_model(path: Path, allow_non_streaming: bool = False) -> dict:
    """Read a model the way the plugin does (`nnplug inspect`, on the contract reader) and run it
    as the plugin would at load; returns a summary with the played path's delay."""
    from nnplug.describe import InspectError, check_runs, inspect_file
    from nnplug.errors import UserError
    try:
        info = inspect_file(str(path), measure=False)
        # what the plugin would refuse at load (or drop while playing): run it first
        check_runs(str(path), info)
    except InspectError as e:
        raise UserError(str(e))
    refused = info.refusals
    if refused:
        raise UserError(f"{path}: the plugin refuses it: {refused[0]}")
    streaming = info.streaming
    if streaming is None:
        from nnplug.player import ModelPlayer
        streaming = ModelPlayer(path).carries_state()
    if streaming is False and not allow_non_streaming:
        raise UserError(f"{path}: not a streaming model ({info.streaming_evidence or 'measured'}): it would click at "
                        "every model buffer edge. Convert or re-export it with streaming, or stage it anyway with "
                        "--allow-non-streaming")
    meta = info.metadata or {}
    summary = {"name": (meta.get("name") if info.kind == "nnplug" else None) or Path(path).stem,
               "sample_rate": info.sample_rate, "methods": list(info.methods)}
    if info.kind == "neutone":       # its delay depends on the host's rate and buffer: asked at prepare
        summary["sha256"] = sha256_file(path)
        return summary
    from nnplug.player import file_delay
    delay = file_delay(path)
    summary["sha256"] = delay["sha256"]
    if delay["source"] == "measured" and delay["delay"] is not None:
        summary["delay"] = {"played": info.played, "samples": delay["delay"], "rule": "measured"}
    return summary


def stage(plugin: Path, models: list[Path], presets: Path | None = None, default: str | None = None,
          allow_non_streaming: bool = False, by_build: bool = False) -> Path:
    """Copy `models` into the bundle. The default model is `default`, else the one already
    default, else the first of `models`; except that a default `nnplug build` chose (by_build:
    the shipped model, marked in the manifest) gives way to the first model a user stages."""
    from nnplug.errors import UserError
    plugin = Path(plugin)
    if not plugin.exists():
        raise UserError(f"plugin bundle not found: {plugin} (run `nnplug build` first)")
    if not models:
        raise UserError("no model given (--model MODEL.ts)")
    dest = models_dir(plugin)
    dest.mkdir(parents=True, exist_ok=True)
    manifest_path = dest / "manifest.json"
    manifest = {"format_version": MANIFEST_VERSION, "default": None, "models": []}
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text())
        except json.JSONDecodeError:
            pass
    entries = {m["name"]: m for m in manifest.get("models", [])}
    names: list[str] = []
    for model in models:
        model = Path(model)
        if not model.is_file():
            raise UserError(f"model not found: {model}")
        summary = validate_model(model, allow_non_streaming)
        name = str(summary.get("name") or model.stem)
        names.append(name)
        target = dest / f"{name}{model.suffix or '.ts'}"
        shutil.copyfile(model, target)
        entries[name] = {"name": name, "file": target.name, "sha256": summary["sha256"],
                         "sample_rate": summary.get("sample_rate")}
        if "delay" in summary:
            entries[name]["delay"] = summary["delay"]
        print(f"staged {model} -> {target}")
    manifest["models"] = list(entries.values())
    previous = manifest.get("default")
    if manifest.pop("default_set_by", None) == "nnplug build" and not by_build:
        previous = None
    manifest["default"] = default or previous or names[0]
    if manifest["default"] not in entries:
        manifest["default"] = next(iter(entries))
    if by_build and manifest["default"] in names:
        manifest["default_set_by"] = "nnplug build"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    if presets is not None:
        presets = Path(presets)
        if not presets.is_dir():
            raise UserError(f"presets directory not found: {presets}")
        pdest = dest.parent / "presets"
        shutil.copytree(presets, pdest, dirs_exist_ok=True)
        print(f"staged presets {presets} -> {pdest}")
    print(f"manifest: {manifest_path} (default model: {manifest['default']})")
    return manifest_path
