"""`nnplug presets pack/install/list`: hostile archives are refused with a clear message and
nothing is written; a good pack installs all or nothing, re-installs idempotently, never
overwrites the user's files without --force (and keeps them even with it); --with-models packs
carry the models with their sha256."""
from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest

from support.paths import DEFAULT_MODEL
from support.presets import FACTORY, tree
from nnplug.cli import main
from nnplug.presets import make_pack
from nnplug.presets import pack as packmod
from nnplug.stage import sha256_file

NAME = "Factory"


@pytest.fixture(scope="module")
def good_pack(preset_bundle, info, tmp_path_factory):
    return make_pack(FACTORY, preset_bundle, tmp_path_factory.mktemp("pack") / "factory.zip", name=NAME)


def members(pack: Path) -> dict:
    with zipfile.ZipFile(pack) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def rewrite(pack: Path, out: Path, extra=(), replace=None) -> Path:
    """A copy of `pack` with members replaced (name -> bytes) and extra ZipInfo/bytes added."""
    replace = replace or {}
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i in src.infolist():
            z.writestr(i, replace.get(i.filename, src.read(i)))
        for zi, data in extra:
            z.writestr(zi, data)
    return out


def install(pack: Path, dest: Path, *more: str, capsys) -> tuple:
    rc = main(["presets", "install", str(pack), "--dest", str(dest), *more])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def symlink_member(name: str, target: str) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name)
    zi.create_system = 3                                 # unix: external_attr holds st_mode
    zi.external_attr = (stat.S_IFLNK | 0o777) << 16
    return zi


def hostile(kind: str, good: Path, tmp: Path) -> Path:
    out = tmp / f"{kind}.zip"
    m = members(good)
    if kind == "zip-slip":
        return rewrite(good, out, [(zipfile.ZipInfo("../x"), b"pwned")])
    if kind == "zip-slip-nested":
        return rewrite(good, out, [(zipfile.ZipInfo("presets/../../x.vstpreset"), b"pwned")])
    if kind == "absolute":
        return rewrite(good, out, [(zipfile.ZipInfo("/tmp/nnplug-pwned.vstpreset"), b"pwned")])
    if kind == "symlink":
        return rewrite(good, out, [(symlink_member("presets/link.vstpreset", "/etc/passwd"), b"/etc/passwd")])
    if kind == "checksum":
        name = "presets/01-clean.vstpreset"
        data = bytearray(m[name])
        data[-1] ^= 1                                    # one bit, the manifest unchanged
        return rewrite(good, out, replace={name: bytes(data)})
    if kind == "truncated":
        raw = good.read_bytes()
        out.write_bytes(raw[: len(raw) * 2 // 3])
        return out
    if kind == "duplicate":
        with pytest.warns(UserWarning, match="Duplicate name"):
            return rewrite(good, out, [(zipfile.ZipInfo("presets/01-clean.vstpreset"), b"second copy")])
    if kind == "duplicate-case":
        return rewrite(good, out, [(zipfile.ZipInfo("presets/01-CLEAN.vstpreset"), b"second copy")])
    if kind == "oversized":
        big = b"\0" * (packmod.MAX_PRESET_BYTES + 1)      # compresses to ~1 kB: the size is what counts
        return rewrite(good, out, [(zipfile.ZipInfo("presets/big.vstpreset"), big)])
    raise AssertionError(kind)


HOSTILE = {
    "zip-slip": "member '../x' has a '..' or '.' component (path traversal)",
    "zip-slip-nested": "member 'presets/../../x.vstpreset' has a '..' or '.' component (path traversal)",
    "absolute": "member '/tmp/nnplug-pwned.vstpreset' is an absolute path",
    "symlink": "member 'presets/link.vstpreset' is a symbolic link",
    "checksum": "checksum mismatch for 'presets/01-clean.vstpreset'",
    "truncated": "is not a readable zip (truncated or corrupt",
    "duplicate": "duplicate member name 'presets/01-clean.vstpreset'",
    "duplicate-case": "duplicate member name 'presets/01-CLEAN.vstpreset'",
    "oversized": f"member 'presets/big.vstpreset' is {packmod.MAX_PRESET_BYTES + 1} bytes "
                 f"(limit {packmod.MAX_PRESET_BYTES})",
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_pack_is_refused_and_nothing_written(kind, good_pack, tmp_path, capsys):
    bad = hostile(kind, good_pack, tmp_path)
    # into a folder that does not exist yet: it still does not
    fresh = tmp_path / "fresh" / "presets"
    rc, _, err = install(bad, fresh, capsys=capsys)
    assert rc == 2 and "nnplug presets: error: refused: " in err and HOSTILE[kind] in err, err
    assert not fresh.exists() and not (tmp_path / "fresh").exists()
    # over an earlier install with a user file beside it: not a byte changes
    dest = tmp_path / "dest"
    assert install(good_pack, dest, capsys=capsys)[0] == 0
    (dest / NAME / "mine.vstpreset").write_bytes(b"user's own")
    before = tree(dest)
    rc, _, err = install(bad, dest, "--force", capsys=capsys)
    assert rc == 2 and HOSTILE[kind] in err, err
    assert tree(dest) == before
    # and nothing outside it either
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.vstpreset").exists()
    assert not Path("/tmp/nnplug-pwned.vstpreset").exists()


def test_good_pack_installs_and_lists(good_pack, tmp_path, capsys):
    dest = tmp_path / "user"
    rc, out, err = install(good_pack, dest, capsys=capsys)
    assert rc == 0, err
    target = dest / NAME
    assert f"-> {target}" in out
    stems = sorted(p.stem for p in FACTORY.glob("*.yaml"))
    assert sorted(p.stem for p in target.glob("*.vstpreset")) == stems       # presets at the top
    assert sorted(p.stem for p in (target / "sources").glob("*.yaml")) == stems
    for s in stems:                                                          # byte for byte the pack's
        assert (target / f"{s}.vstpreset").read_bytes() == members(good_pack)[f"presets/{s}.vstpreset"]
        assert (target / "sources" / f"{s}.yaml").read_bytes() == (FACTORY / f"{s}.yaml").read_bytes()
    assert [p.name for p in dest.iterdir()] == [NAME]                        # no staging left behind
    assert main(["presets", "list", "--dest", str(dest)]) == 0
    listed = capsys.readouterr().out
    assert f"{NAME} 1.0.0  [{target}], models: nnplug-default" in listed
    assert all(f"    {s}.vstpreset" in listed for s in stems)


def test_install_is_all_or_nothing(good_pack, tmp_path, capsys, monkeypatch):
    """A failure while unpacking (after verification) leaves the earlier install as it was."""
    dest = tmp_path / "user"
    assert install(good_pack, dest, capsys=capsys)[0] == 0
    (dest / NAME / "mine.vstpreset").write_bytes(b"user's own")
    before = tree(dest)
    real, calls = packmod._read_member, []

    def failing(z, info, limit, sink=None):
        if sink is not None and not isinstance(sink, packmod._Null):        # writing the install
            calls.append(info.filename)
            if len(calls) == 3:
                raise OSError("disk full")
        return real(z, info, limit, sink)

    monkeypatch.setattr(packmod, "_read_member", failing)
    with pytest.raises(OSError, match="disk full"):
        packmod.install(good_pack, dest)
    assert len(calls) == 3
    assert tree(dest) == before
    assert sorted(p.name for p in dest.iterdir()) == [NAME]                 # staging removed


def test_reinstall_is_idempotent(good_pack, tmp_path, capsys):
    dest = tmp_path / "user"
    assert install(good_pack, dest, capsys=capsys)[0] == 0
    first = tree(dest)
    rc, _, err = install(good_pack, dest, capsys=capsys)
    assert rc == 0, err
    assert tree(dest) == first


def test_edited_or_user_files_are_kept_unless_forced(good_pack, tmp_path, capsys):
    dest = tmp_path / "user"
    assert install(good_pack, dest, capsys=capsys)[0] == 0
    target = dest / NAME
    edited = target / "01-clean.vstpreset"
    edited.write_bytes(edited.read_bytes() + b"edited")
    mine = target / "mine.vstpreset"
    mine.write_bytes(b"user's own preset")
    before = tree(dest)
    rc, _, err = install(good_pack, dest, capsys=capsys)
    assert rc == 2
    assert "refused: would overwrite 1 file(s)" in err and "01-clean.vstpreset" in err and "--force" in err
    assert tree(dest) == before
    # --force: the pack's version replaces the edited one; the user's own file stays
    rc, _, err = install(good_pack, dest, "--force", capsys=capsys)
    assert rc == 0, err
    assert edited.read_bytes() == members(good_pack)["presets/01-clean.vstpreset"]
    assert mine.read_bytes() == b"user's own preset"


def test_users_own_file_at_a_pack_path_is_not_overwritten(good_pack, tmp_path, capsys):
    """No earlier install: a same-named file in the folder is the user's."""
    target = tmp_path / "user" / NAME
    target.mkdir(parents=True)
    (target / "02-bright-shift.vstpreset").write_bytes(b"the user's bright shift")
    rc, _, err = install(good_pack, tmp_path / "user", capsys=capsys)
    assert rc == 2 and "02-bright-shift.vstpreset" in err
    assert tree(tmp_path / "user") == {NAME: None, f"{NAME}/02-bright-shift.vstpreset": b"the user's bright shift"}


def test_pack_with_models(preset_bundle, info, tmp_path, capsys):
    pack = tmp_path / "with-models.zip"
    assert main(["presets", "pack", str(FACTORY), "--plugin", str(preset_bundle), "--with-models",
                 "--name", NAME, "-o", str(pack)]) == 0, capsys.readouterr().err
    sha = sha256_file(DEFAULT_MODEL)
    m = members(pack)
    manifest = json.loads(m["manifest.json"])
    assert len(manifest["models"]) == 1
    model = manifest["models"][0]
    assert model["sha256"] == sha and model["name"] == "nnplug-default"
    assert model["file"].startswith("models/") and model["file"].endswith(".ts")
    data = m[model["file"]]
    assert data == DEFAULT_MODEL.read_bytes()
    entry = next(f for f in manifest["files"] if f["path"] == model["file"])
    assert entry == {"path": model["file"], "sha256": sha, "size": len(data)}
    # installed with the model, which keeps its sha256
    dest = tmp_path / "user"
    assert install(pack, dest, capsys=capsys)[0] == 0
    assert sha256_file(dest / NAME / model["file"]) == sha
    # a model whose bytes do not match its manifest entry is refused
    bad = rewrite(pack, tmp_path / "bad-model.zip", replace={model["file"]: data[:-1] + bytes([data[-1] ^ 1])})
    rc, _, err = install(bad, tmp_path / "other", capsys=capsys)
    assert rc == 2 and f"checksum mismatch for {model['file']!r}" in err
    assert not (tmp_path / "other").exists()


def test_pack_without_models_holds_none(good_pack):
    manifest = json.loads(members(good_pack)["manifest.json"])
    assert not any(k.startswith("models/") for k in members(good_pack))
    assert all("file" not in m for m in manifest["models"])
    assert manifest["models"] == [{"name": "nnplug-default", "sha256": sha256_file(DEFAULT_MODEL)}]

