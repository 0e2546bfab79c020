"""Install the built bundles into the per-user plugin folders, where hosts look for them.

| format     | Linux                      | macOS                                   | Windows                                  |
|------------|----------------------------|-----------------------------------------|------------------------------------------|
| VST3       | ~/.vst3                    | ~/Library/Audio/Plug-Ins/VST3           | %LOCALAPPDATA%\\Programs\\Common\\VST3      |
| LV2        | ~/.lv2                     | ~/Library/Audio/Plug-Ins/LV2            | %APPDATA%\\LV2                            |
| AU         | -                          | ~/Library/Audio/Plug-Ins/Components     | -                                        |
| Standalone | ~/.local/lib (+ launcher   | ~/Applications                          | %LOCALAPPDATA%\\Programs                  |
|            | ~/.local/bin/nnplug-standalone) |                                    |                                          |

The VST3 and LV2 folders are the formats' own per-user locations (Steinberg's VST3 module
locations; LV2's default LV2_PATH), the ones JUCE's COPY_PLUGIN_AFTER_BUILD uses too.

Every bundle is self-contained: it carries libtorch (lib/, found through RUNPATH $ORIGIN/lib),
the default model and the factory presets (`nnplug build` puts them in). A bundle already
installed is replaced as a whole, never merged with the new one. The libtorch libraries are
hard-linked when the destination is on the build's file system (nothing ever writes into them;
a rebuild replaces the build's copies with new files), copied otherwise.

The Linux Standalone is a folder (the executable, lib/, Resources/), installed as
~/.local/lib/nnplug-standalone; the launcher script in ~/.local/bin runs it by its absolute path,
which is how it finds its Resources (and why it is not named `nnplug`: that is this command).
"""
from __future__ import annotations

import os
import platform
import shutil
import stat
from pathlib import Path
from typing import Dict, List, Optional, Sequence

FORMATS = ("VST3", "LV2", "AU", "Standalone")
STANDALONE_DIR = "nnplug-standalone"      # the installed Standalone folder (Linux, and --dest)
LAUNCHER = "nnplug-standalone"            # Linux: ~/.local/bin/<LAUNCHER>


def user_folders(system: Optional[str] = None, home: Optional[Path] = None,
                 environ: Optional[Dict[str, str]] = None) -> Dict[str, Path]:
    """The per-user plugin folder of each format on `system` (platform.system() by default)."""
    system = system or platform.system()
    home = Path(home) if home is not None else Path.home()
    env = os.environ if environ is None else environ
    if system == "Darwin":
        plugins = home / "Library" / "Audio" / "Plug-Ins"
        return {"VST3": plugins / "VST3", "LV2": plugins / "LV2", "AU": plugins / "Components",
                "Standalone": home / "Applications"}
    if system == "Windows":
        local = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
        roaming = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        return {"VST3": local / "Programs" / "Common" / "VST3", "LV2": roaming / "LV2",
                "Standalone": local / "Programs"}
    return {"VST3": home / ".vst3", "LV2": home / ".lv2", "Standalone": home / ".local" / "lib"}


def launcher_dir(home: Optional[Path] = None) -> Path:
    """Linux: where the Standalone's launcher goes (on PATH in most desktop set-ups)."""
    return (Path(home) if home is not None else Path.home()) / ".local" / "bin"


def _source(fmt: str, built: Path) -> Path:
    """What gets copied for a format: the bundle, or the Standalone's whole folder on Linux and
    Windows (its binary, lib/ and Resources/ side by side; on macOS it is the .app bundle)."""
    if fmt == "Standalone" and built.suffix != ".app":
        return built.parent
    return built


def _target_name(fmt: str, source: Path) -> str:
    if fmt == "Standalone" and source.suffix != ".app":
        return STANDALONE_DIR
    return source.name


def _copy_tree(src: Path, dst: Path) -> None:
    """Copy a bundle; files under a lib/ folder are hard-linked when possible (see the module
    docstring), everything else, the plugin binary above all, is a real copy."""
    def copy(s: str, d: str) -> None:
        if "lib" in Path(s).relative_to(src).parts[:-1]:
            try:
                os.link(s, d)
                return
            except OSError:
                pass
        shutil.copy2(s, d)
    shutil.copytree(src, dst, copy_function=copy, symlinks=False)


def _replace(src: Path, target: Path) -> None:
    """Put a copy of src at target; an existing target is swapped out only once the copy is
    complete, so an interrupted install leaves the old bundle in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.installing.{os.getpid()}")
    old = target.with_name(f".{target.name}.old.{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _copy_tree(src, tmp)
        if target.exists() or target.is_symlink():
            if target.is_dir() and not target.is_symlink():
                os.rename(target, old)
            else:
                target.unlink()
        os.rename(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _write_launcher(path: Path, executable: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n# nnplug Standalone, installed by `nnplug install`\n"
                    f"exec '{executable}' \"$@\"\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def has_default_model(bundle: Path) -> bool:
    from nnplug.stage import models_dir
    return (models_dir(bundle) / "manifest.json").is_file()


def install(formats: Optional[Sequence[str]] = None, dest: Optional[Path] = None, build_dir: Path | str = "build",
            config: str = "Release", home: Optional[Path] = None) -> List[Path]:
    """Copy the built bundles of `formats` (default: every one built) into the per-user folders,
    or all into `dest`. Returns the installed paths (and the launcher); prints each step."""
    from nnplug.build import ROOT, artefacts, build_lock
    from nnplug.errors import UserError
    build_dir = Path(build_dir)
    if not build_dir.is_absolute():
        build_dir = ROOT / build_dir
    built = artefacts(build_dir, config)
    if not built:
        raise UserError(f"no plugin built in {build_dir} ({config}): run `nnplug build` first")
    wanted = list(formats) if formats else [f for f in FORMATS if f in built]
    missing = [f for f in wanted if f not in built]
    if missing:
        raise UserError(f"{', '.join(missing)} not built in {build_dir} ({config}; built: {', '.join(built)}): "
                        "run `nnplug build`")
    folders = user_folders(home=home)
    unknown = [f for f in wanted if dest is None and f not in folders]
    if unknown:
        raise UserError(f"no per-user folder for {', '.join(unknown)} on {platform.system()}: use --dest DIR")
    installed: List[Path] = []
    with build_lock(build_dir):          # never copy a bundle a build is rewriting
        for fmt in wanted:
            src = _source(fmt, built[fmt])
            if not has_default_model(src):
                print(f"warning: {src} carries no model (run `nnplug build`, which stages the default one)")
            target = (Path(dest) if dest is not None else folders[fmt]) / _target_name(fmt, src)
            _replace(src, target)
            print(f"installed {fmt:<10} {target}")
            installed.append(target)
            if fmt == "Standalone" and dest is None and target.name == STANDALONE_DIR:
                launcher = launcher_dir(home) / LAUNCHER
                _write_launcher(launcher, target / built[fmt].name)
                print(f"installed launcher   {launcher} -> {target / built[fmt].name}")
                installed.append(launcher)
    return installed
