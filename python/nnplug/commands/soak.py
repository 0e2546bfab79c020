"""`nnplug soak`: a long run of periodic audio through one pedalboard instance (in a child
process): every period after warm-up must be bit-identical and resident memory must not grow."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("soak", help="a long run (default an hour) through one plugin instance: no drift, no growth",
                              description="Play a periodic signal through one pedalboard instance of the plugin for "
                                          "MINUTES of audio; fails on any difference between periods after the "
                                          "warm-up, on non-finite output, or on resident memory growing over 1 %%.")
    p.add_argument("--minutes", type=float, default=60.0, help="minutes of audio (default: 60)")
    p.add_argument("--plugin", type=Path, help="the built bundle (default: the one `nnplug build` makes)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import tempfile
    import time

    from nnplug.errors import UserError
    from nnplug.hosts import default_bundle
    from nnplug.stress import prepare_bundle, run_in_child, soak_case, soak_model

    if args.minutes <= 0:
        raise UserError("--minutes must be positive")
    plugin = args.plugin or default_bundle()
    if not plugin.exists():
        raise UserError(f"plugin bundle not found: {plugin} (run `nnplug build`)")
    with tempfile.TemporaryDirectory(prefix="nnplug-soak-") as tmp:
        model = soak_model(Path(tmp) / "seed.ts")
        bundle = prepare_bundle(plugin, Path(tmp))
        t0 = time.time()
        result = run_in_child([soak_case(bundle, model, args.minutes)], timeout=6 * 3600)[0]
    print(f"soak: {'ok' if result.ok else 'FAILED'} in {time.time() - t0:.0f} s: {result.detail} "
          f"{json.dumps(result.counts)}")
    return 0 if result.ok else 1
