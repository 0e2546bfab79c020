"""`nnplug build`: configure and build the plugin."""
from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser("build", help="configure and build the plugin with CMake; stage the default model "
                              "and the factory presets into every bundle")
    p.add_argument("--config", default="Release", choices=["Release", "Debug"])
    p.add_argument("--build-dir", default="build", help="CMake build directory (default: build)")
    p.add_argument("--juce-dir", help="a JUCE checkout to use instead of the system package")
    p.add_argument("--target", action="append", help="build only this CMake target (repeatable)")
    p.add_argument("-j", "--jobs", type=int, help="parallel jobs")
    p.add_argument("--verbose", action="store_true", help="show the full build output")
    p.add_argument("--no-package", action="store_true",
                   help="do not stage the default model and the factory presets into the bundles")
    p.set_defaults(func=run)


def run(args) -> int:
    from nnplug.build import build
    build(args.config, args.build_dir, args.juce_dir, args.target, args.jobs, args.verbose,
          package=not args.no_package)
    return 0
