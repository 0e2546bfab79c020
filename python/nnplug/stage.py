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
    """Load a model the way the plugin does and check its interface; returns a summary.

    Uses `nnplug.inspect` when it is available (it reads RAVE exports too); otherwise a
    minimal check of the nn~ convention with torch directly.
    """
    from nnplug.errors import UserError
    try:
        from nnplug.inspect import InspectError, check_runs, inspect_file  # the `nnplug inspect` reader
    except ImportError:
        inspect_file = None
    if inspect_file is not None:
        try:
            info = inspect_file(str(path), measure=False)
            # what the plugin would refuse at load (or drop while playing): run it first
            check_runs(str(path), info)
        except InspectError as e:
            raise UserError(str(e))
        if info.metadata is not None and info.metadata.get("streaming") is False:
            raise UserError(f"{path}: not a streaming model (its nnplug metadata says streaming: false); the plugin "
                            "refuses it. Convert it with nnplug.streaming.convert and export it again")
        meta = info.metadata or {}
        return {"name": meta.get("name") or Path(path).stem, "sample_rate": info.sample_rate,
                "methods": list(info.methods)}
    import torch
    extra = {"nnplug.json": ""}
    try:
        m = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except Exception as e:  # noqa: BLE001 - any load failure is the user's file
        raise UserError(f"{path}: not a loadable TorchScript model ({str(e).splitlines()[0]})")
    meta = json.loads(extra["nnplug.json"]) if extra["nnplug.json"] else {}
    methods = [n for n in ("forward", "encode", "decode") if hasattr(m, f"{n}_params")]
    if not methods:
        raise UserError(f"{path}: no <method>_params buffer: not an nn~-convention model")
    return {"name": meta.get("name") or path.stem, "sample_rate": meta.get("sample_rate") or getattr(m, "sr", None),
            "methods": methods}


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
