"""Preset packs: a zip with manifest.json, the built presets, their YAML sources and optionally
the models; installed into the user preset folder (the one the plugin reads) safely.

Pack layout:
    manifest.json                 {"format": "nnplug-preset-pack", "format_version": 1, "name", "version",
                                   "plugin": {name, manufacturer, class_id, version},
                                   "models": [{name, sha256, file?}], "files": [{path, sha256, size}]}
    presets/<stem>.vstpreset
    sources/<stem>.yaml
    models/<name>.ts              (--with-models)

install checks everything before writing anything: a readable zip, member names (no absolute
paths, no `..`, no backslashes, no duplicates, only the layout above), no symlinks or special
files, member sizes, the manifest, every file's size and sha256, the models' sha256, that
every preset is a .vstpreset of this plugin. It then writes the pack into a staging directory
beside its target and swaps it in with renames: all or nothing. A file already there that no
earlier install of this pack wrote unchanged (the user's own preset, or one they edited) is
never overwritten without force.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional

from . import vstpreset
from .swap import swap_in

PACK_FORMAT = "nnplug-preset-pack"
PACK_VERSION = 1
RECORD = ".nnplug-pack.json"          # what an install wrote, kept in the pack's folder
MAX_MEMBERS = 1000
MAX_PRESET_BYTES = 1 << 20            # a .vstpreset, a YAML source, the manifest
MAX_MODEL_BYTES = 1 << 30
MAX_TOTAL_BYTES = 2 << 30
PACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
LEAF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,127}$")
TOP = {"presets": (".vstpreset",), "sources": (".yaml", ".yml"), "models": (".ts",)}


def _err(msg: str):
    from nnplug.errors import UserError
    return UserError(msg)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def user_preset_dir(company: str = "nnplug", plugin: str = "nnplug") -> Path:
    """The VST3 user preset folder the plugin reads (NNPLUG_USER_PRESET_DIR overrides it, as
    in the plugin)."""
    env = os.environ.get("NNPLUG_USER_PRESET_DIR")
    if env:
        return Path(env)
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Audio" / "Presets" / company / plugin
    if sys.platform.startswith("win"):
        return home / "Documents" / "VST3 Presets" / company / plugin
    return home / ".vst3" / "presets" / company / plugin


# --- pack -------------------------------------------------------------------------------------

def make_pack(directory: Path, bundle: Path, out: Path, with_models: bool = False,
              name: Optional[str] = None, version: str = "1.0.0") -> Path:
    from nnplug.stage import models_dir, sha256_file

    from .build import PresetsInvalid, check_dir
    presets, problems, info = check_dir(directory, bundle)
    if problems:
        raise PresetsInvalid(problems)
    name = name or Path(directory).resolve().name
    if not PACK_NAME.match(name):
        raise _err(f"pack name {name!r}: use letters, digits, space, . _ - (at most 64, starting with a letter/digit)")
    members: Dict[str, bytes | Path] = {}
    for p in presets:
        if not LEAF.match(p.stem):
            raise _err(f"{p.source.file}: file name {p.stem!r} cannot go in a pack (letters, digits, . _ + -)")
        members[f"presets/{p.stem}.vstpreset"] = p.vstpreset_bytes(info)
        members[f"sources/{p.source.file.name}"] = p.source.file.read_bytes()
    models = {}
    for p in presets:
        m = p.source.data["model"]
        models[m["sha256"]] = {"name": m["name"], "sha256": m["sha256"]}
    if with_models:
        mdir = models_dir(Path(bundle))
        by_sha = {sha256_file(f): f for f in sorted(mdir.glob("*.ts"))} if mdir.is_dir() else {}
        for sha, entry in models.items():
            f = by_sha.get(sha)
            if f is None:
                raise _err(f"--with-models: no model with sha256 {sha[:12]}… ({entry['name']}) is staged in {bundle}")
            entry["file"] = f"models/{f.name}"
            members[entry["file"]] = f
    files = []
    for path, data in members.items():
        if isinstance(data, Path):
            files.append({"path": path, "sha256": sha256_file(data), "size": data.stat().st_size})
        else:
            files.append({"path": path, "sha256": sha256_bytes(data), "size": len(data)})
    manifest = {"format": PACK_FORMAT, "format_version": PACK_VERSION, "name": name, "version": version,
                "plugin": {"name": info.name, "manufacturer": info.manufacturer, "class_id": info.class_id,
                           "version": info.version},
                "models": list(models.values()), "files": files}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
            for path, data in members.items():
                if isinstance(data, Path):
                    z.write(data, path)
                else:
                    z.writestr(path, data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


# --- install ----------------------------------------------------------------------------------

def _check_member_name(info: zipfile.ZipInfo, seen: Dict[str, str]) -> Optional[str]:
    """The member's path, or None for a directory entry; raises on anything unsafe."""
    raw = info.filename
    if "\\" in raw or "\0" in raw:
        raise _err(f"refused: member {raw!r} has a backslash or NUL in its name")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        raise _err(f"refused: member {raw!r} is an absolute path")
    parts = PurePosixPath(raw).parts
    if any(p in ("..", ".") for p in raw.split("/")):
        raise _err(f"refused: member {raw!r} has a '..' or '.' component (path traversal)")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _err(f"refused: member {raw!r} is a symbolic link")
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):   # no type bits: a plain file
        raise _err(f"refused: member {raw!r} is not a regular file")
    if info.is_dir():
        return None
    key = raw.casefold()
    if key in seen:
        raise _err(f"refused: duplicate member name {raw!r}")
    seen[key] = raw
    if raw == "manifest.json":
        return raw
    if len(parts) != 2 or parts[0] not in TOP or not parts[1].endswith(TOP[parts[0]]) or not LEAF.match(parts[1]):
        raise _err(f"refused: unexpected member {raw!r} (a pack holds manifest.json, presets/*.vstpreset, "
                   f"sources/*.yaml, models/*.ts)")
    limit = MAX_MODEL_BYTES if parts[0] == "models" else MAX_PRESET_BYTES
    if info.file_size > limit:
        raise _err(f"refused: member {raw!r} is {info.file_size} bytes (limit {limit})")
    return raw


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, sink=None) -> tuple[str, int, bytes]:
    """sha256 and size of a member, read with a hard limit (a lying header cannot make it
    read more); its bytes when small, else streamed into `sink`."""
    h = hashlib.sha256()
    size = 0
    keep = io.BytesIO() if sink is None else None
    try:
        with z.open(info) as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise _err(f"refused: member {info.filename!r} is larger than {limit} bytes")
                h.update(chunk)
                (keep or sink).write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise _err(f"refused: member {info.filename!r} is corrupt ({e})")
    return h.hexdigest(), size, keep.getvalue() if keep is not None else b""


def _open_zip(pack: Path) -> zipfile.ZipFile:
    if not Path(pack).is_file():
        raise _err(f"pack not found: {pack}")
    try:
        return zipfile.ZipFile(pack)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise _err(f"refused: {pack} is not a readable zip (truncated or corrupt: {e})")


def verify(pack: Path) -> dict:
    """Every check of the module docstring, without writing anything; returns the manifest."""
    with _open_zip(pack) as z:
        infos = z.infolist()
        if len(infos) > MAX_MEMBERS:
            raise _err(f"refused: {len(infos)} members (limit {MAX_MEMBERS})")
        seen: Dict[str, str] = {}
        members = {}
        for info in infos:
            path = _check_member_name(info, seen)
            if path is not None:
                members[path] = info
        if sum(i.file_size for i in members.values()) > MAX_TOTAL_BYTES:
            raise _err(f"refused: the pack unpacks to more than {MAX_TOTAL_BYTES} bytes")
        if "manifest.json" not in members:
            raise _err("refused: no manifest.json in the pack")
        _, _, raw = _read_member(z, members["manifest.json"], MAX_PRESET_BYTES)
        try:
            manifest = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise _err(f"refused: manifest.json is not valid JSON ({e})")
        _check_manifest(manifest)
        listed = {f["path"]: f for f in manifest["files"]}
        for path in members:
            if path != "manifest.json" and path not in listed:
                raise _err(f"refused: member {path!r} is not listed in manifest.json")
        for path, entry in listed.items():
            if path not in members:
                raise _err(f"refused: manifest.json lists {path!r}, which the pack does not hold")
            info = members[path]
            limit = MAX_MODEL_BYTES if path.startswith("models/") else MAX_PRESET_BYTES
            digest, size, data = _read_member(z, info, limit, sink=_Null() if path.startswith("models/") else None)
            if size != entry["size"] or digest != entry["sha256"]:
                raise _err(f"refused: checksum mismatch for {path!r} (manifest sha256 {entry['sha256'][:12]}…, "
                           f"size {entry['size']}; the pack's file has {digest[:12]}…, size {size})")
            if path.startswith("presets/"):
                _check_preset(path, data, manifest)
        for m in manifest["models"]:
            if m.get("file") is not None:
                entry = listed.get(m["file"])
                if entry is None or entry["sha256"] != m["sha256"]:
                    raise _err(f"refused: model {m['name']!r}: file {m['file']!r} does not have its sha256")
    return manifest


class _Null:
    def write(self, _):
        pass


def _check_manifest(m) -> None:
    def need(cond, what):
        if not cond:
            raise _err(f"refused: manifest.json: {what}")
    need(isinstance(m, dict), "not an object")
    need(m.get("format") == PACK_FORMAT, f"format is not {PACK_FORMAT!r}")
    need(m.get("format_version") == PACK_VERSION, f"format_version {m.get('format_version')!r} is not supported")
    need(isinstance(m.get("name"), str) and PACK_NAME.match(m["name"]), f"bad pack name {m.get('name')!r}")
    need(isinstance(m.get("version"), str) and m["version"], "no version")
    need(isinstance(m.get("plugin"), dict) and isinstance(m["plugin"].get("class_id"), str), "no plugin class_id")
    need(isinstance(m.get("models"), list) and all(isinstance(x, dict) and isinstance(x.get("sha256"), str)
                                                   and re.fullmatch(r"[0-9a-f]{64}", x["sha256"]) and
                                                   isinstance(x.get("name"), str) for x in m["models"]),
         "models must list {name, sha256}")
    need(isinstance(m.get("files"), list), "no files list")
    paths = set()
    for f in m["files"]:
        need(isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("size"), int)
             and isinstance(f.get("sha256"), str) and re.fullmatch(r"[0-9a-f]{64}", f["sha256"]),
             f"bad files entry {f!r}")
        need(f["path"] not in paths, f"{f['path']!r} listed twice")
        paths.add(f["path"])


def _check_preset(path: str, data: bytes, manifest: dict) -> None:
    try:
        preset = vstpreset.read(data)
        xml = vstpreset.state_to_xml(preset.component)
    except (vstpreset.PresetFormatError, UnicodeDecodeError) as e:
        raise _err(f"refused: {path!r} is not a valid .vstpreset ({e})")
    if preset.class_id != manifest["plugin"]["class_id"]:
        raise _err(f"refused: {path!r} is for another plugin (class ID {preset.class_id})")
    if "<NNPLUG" not in xml[:200]:
        raise _err(f"refused: {path!r} does not hold an nnplug state")


def _record(folder: Path) -> dict:
    try:
        return json.loads((folder / RECORD).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def _sha_file(path: Path) -> str:
    from nnplug.stage import sha256_file
    return sha256_file(path)


def install(pack: Path, dest: Optional[Path] = None, force: bool = False) -> Path:
    """Install PACK into DEST/<pack name>/ (the user preset folder by default). Returns it."""
    manifest = verify(pack)
    dest = Path(dest) if dest is not None else user_preset_dir()
    target = dest / manifest["name"]
    # where each member goes inside the pack's folder: presets at the top (hosts browse them),
    # sources/ and models/ below
    layout = {f["path"]: (f["path"].split("/", 1)[1] if f["path"].startswith("presets/") else f["path"])
              for f in manifest["files"]}
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise _err(f"refused: {target} exists and is not a folder")
    previous = _record(target) if target.is_dir() else {}
    ours = {p: s for p, s in previous.get("installed", {}).items()}
    conflicts = []
    for rel in layout.values():
        existing = target / rel
        if existing.is_symlink() or existing.exists():
            if existing.is_symlink() or not existing.is_file() or ours.get(rel) != _sha_file(existing):
                conflicts.append(rel)
    if conflicts and not force:
        raise _err(f"refused: would overwrite {len(conflicts)} file(s) in {target} that this pack did not install "
                   f"(or that were edited since): {', '.join(sorted(conflicts)[:5])} — use --force to overwrite")

    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".nnplug-install-", dir=dest))
    try:
        new = staging / manifest["name"]
        new.mkdir()
        installed = {}
        with _open_zip(pack) as z:
            listed = {f["path"]: f for f in manifest["files"]}
            for path, rel in layout.items():
                out = new / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                with open(out, "wb") as f:
                    digest, size, _ = _read_member(z, z.getinfo(path), MAX_MODEL_BYTES, sink=f)
                if digest != listed[path]["sha256"] or size != listed[path]["size"]:
                    raise _err(f"refused: checksum mismatch for {path!r} while unpacking")
                os.chmod(out, 0o644)
                installed[rel] = digest
        # the user's own files in the folder stay (those not replaced by the pack)
        if target.is_dir():
            for f in sorted(target.rglob("*")):
                rel = f.relative_to(target).as_posix()
                if rel == RECORD or rel in installed or f.is_dir():
                    continue
                if rel in ours and not f.is_symlink() and ours[rel] == _sha_file(f):
                    continue            # an unchanged file of the previous version, gone from this one
                (new / rel).parent.mkdir(parents=True, exist_ok=True)
                if f.is_symlink():
                    os.symlink(os.readlink(f), new / rel)
                else:
                    shutil.copy2(f, new / rel)
        (new / RECORD).write_text(json.dumps({"manifest": manifest, "installed": installed}, indent=2) + "\n")
        swap_in(new, target, staging / ".previous")   # the old folder goes with the staging dir
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def installed(dest: Optional[Path] = None) -> List[dict]:
    """What is in the user preset folder: each installed pack, and the user's loose presets."""
    dest = Path(dest) if dest is not None else user_preset_dir()
    out = []
    if not dest.is_dir():
        return out
    for folder in sorted(p for p in dest.iterdir() if p.is_dir() and not p.name.startswith(".")):
        rec = _record(folder)
        presets = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.vstpreset"))
        if rec:
            m = rec["manifest"]
            out.append({"pack": m["name"], "version": m["version"], "folder": str(folder),
                        "plugin": m["plugin"].get("name", ""), "presets": presets,
                        "models": [x["name"] for x in m["models"]]})
        elif presets:
            out.append({"pack": None, "version": "", "folder": str(folder), "plugin": "", "presets": presets,
                        "models": []})
    loose = sorted(p.name for p in dest.glob("*.vstpreset"))
    if loose:
        out.append({"pack": None, "version": "", "folder": str(dest), "plugin": "", "presets": loose, "models": []})
    return out
