"""Copy models into a built plugin bundle: Contents/Resources/models/ plus manifest.json.

The plugin loads the manifest's default model when its state names none. Every model is
checked first (it must load and follow the model contract), so a bundle never ships a file
the plugin would refuse.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

MANIFEST_VERSION = 1


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def models_dir(bundle: Path) -> Path:
    """Where the plugin looks for staged models, for each bundle layout it can have."""
    bundle = Path(bundle)
    if bundle.suffix in (".vst3", ".component") or (bundle / "Contents").is_dir():
        return bundle / "Contents" / "Resources" / "models"
    return bundle / "Resources" / "models"   # LV2 bundle or a Standalone's directory


def validate_model(path: Path) -> dict:
    """Read a model the way the plugin does (`nnplug inspect`, on the contract reader) and run it
    as the plugin would at load; returns a summary."""
    from nnplug.errors import UserError
    from nnplug.describe import InspectError, check_runs, inspect_file
    try:
        info = inspect_file(str(path), measure=False)
        # what the plugin would refuse at load (or drop while playing): run it first
        check_runs(str(path), info)
    except InspectError as e:
        raise UserError(str(e))
    if info.refusals:       # what inspect only warns about (a non-streaming file), staging refuses
        raise UserError(f"{path}: the plugin refuses it: {info.refusals[0]}")
    meta = info.metadata or {}
    return {"name": meta.get("name") or Path(path).stem, "sample_rate": info.sample_rate,
            "methods": list(info.methods)}


def stage(plugin: Path, models: list[Path], presets: Path | None = None, default: str | None = None) -> Path:
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
    for model in models:
        model = Path(model)
        if not model.is_file():
            raise UserError(f"model not found: {model}")
        summary = validate_model(model)
        name = str(summary.get("name") or model.stem)
        target = dest / f"{name}.ts"
        shutil.copyfile(model, target)
        entries[name] = {"name": name, "file": target.name, "sha256": sha256_file(target),
                         "sample_rate": summary.get("sample_rate")}
        print(f"staged {model} -> {target}")
    manifest["models"] = list(entries.values())
    first = Path(models[0])
    manifest["default"] = default or manifest.get("default") or validate_model(first).get("name") or first.stem
    if manifest["default"] not in entries:
        manifest["default"] = next(iter(entries))
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
