"""`nnplug stress`: hostile model files, host torture and state fuzzing, each host in a child
process (nnplug.stress), so that a crash fails its case instead of the run."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("stress", help="robustness: hostile model files, host torture, state fuzzing",
                              description="Run the robustness cases against the built plugin, each host in a child "
                                          "process; prints cases tried, survived and failed.")
    p.add_argument("--plugin", required=True, type=Path, help="the built bundle (.../VST3/nnplug.vst3)")
    p.add_argument("--host", choices=("pedalboard", "dawdreamer", "all"), default="all")
    p.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from nnplug.errors import UserError
    from nnplug.stress import format_summary, run_stress

    if not args.plugin.exists():
        raise UserError(f"plugin bundle not found: {args.plugin} (run `nnplug build`)")
    hosts = ("pedalboard", "dawdreamer") if args.host == "all" else (args.host,)
    summary = run_stress(args.plugin, hosts=hosts, log=(lambda s: print(s, file=sys.stderr)) if args.json else print)
    print(json.dumps(summary, indent=1) if args.json else format_summary(summary))
    return 0 if summary["failed"] == 0 else 1
