"""`nnplug presets`: check, build, pack, install and list presets (nnplug.presets)."""
from __future__ import annotations

import sys
from pathlib import Path

from nnplug.commands.options import add_deprecated_alias, add_output

DEFAULT_DIR = Path("presets")


def register(subparsers) -> None:
    p = subparsers.add_parser("presets", help="YAML presets: check, build .vstpreset/factory programs, pack, install")
    sub = p.add_subparsers(dest="presets_command", metavar="ACTION")
    sub.required = True

    def plugin_arg(q, required=False):
        q.add_argument("--plugin", type=Path, required=required,
                       help="the built bundle (default: build/.../Release/VST3/nnplug.vst3)")

    q = sub.add_parser("check", help="check every preset against the schema and the built plugin's parameters")
    q.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    plugin_arg(q)
    q.set_defaults(func=run_check)

    q = sub.add_parser("build", help="write one .vstpreset per preset and embed them in the bundle as programs")
    q.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    plugin_arg(q, required=True)
    add_output(q, "output folder for the .vstpreset files", type=Path, required=True)
    add_deprecated_alias(q, "--out", "--output")
    q.add_argument("--no-embed", action="store_true", help="do not put them in the bundle as factory programs")
    q.set_defaults(func=run_build)

    q = sub.add_parser("pack", help="make a distributable preset pack (zip with manifest.json)")
    q.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    plugin_arg(q, required=True)
    q.add_argument("--with-models", action="store_true", help="include the models the presets are for")
    q.add_argument("--name", help="pack name (default: the folder's name)")
    q.add_argument("--version", default="1.0.0", help="pack version (default 1.0.0)")
    add_output(q, "the .zip to write", type=Path, required=True)
    add_deprecated_alias(q, "--out", "--output")
    q.set_defaults(func=run_pack)

    q = sub.add_parser("install", help="verify a pack and install it into the user preset folder")
    q.add_argument("pack", type=Path)
    q.add_argument("--dest", type=Path, help="install here instead of the VST3 user preset folder")
    q.add_argument("--force", action="store_true", help="overwrite files this pack did not install")
    q.set_defaults(func=run_install)

    q = sub.add_parser("list", help="show the installed packs and presets")
    q.add_argument("--dest", type=Path, help="the folder to list (default: the VST3 user preset folder)")
    q.set_defaults(func=run_list)


def _bundle(args) -> Path:
    if args.plugin is not None:
        return args.plugin
    from nnplug.hosts import default_bundle
    return default_bundle()


def _invalid(e) -> int:
    from nnplug.errors import UserError
    for p in e.problems:
        print(p, file=sys.stderr)
    raise UserError(f"{len(e.problems)} problem(s); nothing written")


def run_check(args) -> int:
    from nnplug.errors import UserError
    from nnplug.presets import check_dir
    presets, problems, info = check_dir(args.dir, _bundle(args))
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        raise UserError(f"{len(problems)} problem(s) in {args.dir}")
    print(f"{len(presets)} preset(s) ok against {info.bundle} ({len(info.params)} parameters)")
    return 0


def run_build(args) -> int:
    from nnplug.presets import PresetsInvalid, build
    try:
        written = build(args.dir, args.plugin, args.output, embed=not args.no_embed)
    except PresetsInvalid as e:
        return _invalid(e)
    for w in written:
        print(f"wrote {w}")
    return 0


def run_pack(args) -> int:
    from nnplug.presets import PresetsInvalid, make_pack
    try:
        out = make_pack(args.dir, args.plugin, args.output, with_models=args.with_models, name=args.name,
                        version=args.version)
    except PresetsInvalid as e:
        return _invalid(e)
    print(f"wrote {out}")
    return 0


def run_install(args) -> int:
    from nnplug.presets import install
    target = install(args.pack, args.dest, force=args.force)
    print(f"installed {args.pack} -> {target}")
    return 0


def run_list(args) -> int:
    from nnplug.presets import installed, user_preset_dir
    dest = args.dest or user_preset_dir()
    found = installed(dest)
    if not found:
        print(f"no presets installed in {dest}")
        return 0
    for entry in found:
        title = f"{entry['pack']} {entry['version']}" if entry["pack"] else "(user presets)"
        models = f", models: {', '.join(entry['models'])}" if entry["models"] else ""
        print(f"{title}  [{entry['folder']}]{models}")
        for p in entry["presets"]:
            print(f"    {p}")
    return 0
