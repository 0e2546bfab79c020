"""`nnplug validate`: prove the built plugin plays exactly what the model computes."""
from __future__ import annotations

from pathlib import Path

from nnplug.commands.options import (add_block_sizes, add_deprecated_flag, add_modes, parse_modes, parse_sizes)


def register(subparsers) -> None:
    p = subparsers.add_parser("validate", help="render test signals through the plugin in real hosts and "
                                               "compare bit for bit with the model run in Python")
    p.add_argument("--plugin", required=True, type=Path, help="the built bundle (.../VST3/nnplug.vst3)")
    p.add_argument("--model", type=Path, help="the .ts model (staged into a private copy of the bundle); required")
    add_deprecated_flag(p, "--stress", "stress", "`nnplug stress`")
    p.add_argument("--host", choices=("pedalboard", "dawdreamer", "all", "ardour"), default="all",
                   help="all: pedalboard and DawDreamer (default). ardour: a headless Ardour 7 session per "
                        "render, exported offline (install it with scripts/setup.sh --daw); buffer sizes "
                        "64,256,1024 unless --block-sizes says otherwise")
    add_block_sizes(p, None, "comma-separated host block sizes; 'changing' adds a changing sequence (pedalboard) "
                             "(default: 1,32,64,100,256,333,512,1000,2048,4096,changing; with --host ardour: "
                             "64,256,1024)")
    add_modes(p)
    p.add_argument("--input", type=Path, action="append", default=[], metavar="WAV",
                   help="a WAV file rendered too, at every block size (repeatable)")
    p.add_argument("--sample-rate", type=int, default=44100)
    p.add_argument("--no-long", action="store_true", help="skip the 10-second musical signal")
    p.add_argument("--no-settings", action="store_true", help="skip the gain and dry/wet checks")
    p.add_argument("--seed", type=int, metavar="S",
                   help="seed torch's generator with S before each render and reference stream: a stochastic "
                        "model (RAVE) is then compared bit for bit")
    p.add_argument("--method", default="Auto", metavar="PATH",
                   help="the 'Model method' parameter: Auto, forward or 'encode -> decode' (default: Auto)")
    p.add_argument("--report", type=Path, metavar="DIR", help="write report.json and index.html (plots) to DIR")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    p.set_defaults(func=run)


def run(args) -> int:
    import json
    import sys

    from nnplug.errors import UserError
    from nnplug.validate import DEFAULT_BLOCKS, ValidationError, format_table, run_validate, write_report

    if not args.plugin.exists():
        raise UserError(f"plugin bundle not found: {args.plugin} (run `nnplug build`)")
    if args.stress:   # the old spelling of `nnplug stress`
        from nnplug.commands.stress import run as run_stress
        return run_stress(args)
    if args.model is None:
        raise UserError("--model is required")
    hosts = ["pedalboard", "dawdreamer"] if args.host == "all" else [args.host]
    if args.host == "ardour":
        from nnplug.hosts.ardour import ArdourHost, find_ardour
        find_ardour()   # Ardour missing: one line saying how to install it
    if args.block_sizes is None:
        blocks = list(ArdourHost.BLOCKS) if args.host == "ardour" else [*DEFAULT_BLOCKS, "changing"]
    else:
        blocks = parse_sizes(args.block_sizes, "--block-sizes", words=("changing",))
    modes = parse_modes(args.modes, args)
    log = (lambda s: print(s, file=sys.stderr)) if args.json else print
    try:
        result = run_validate(args.plugin, args.model, hosts=hosts, blocks=blocks, modes=modes, inputs=args.input,
                              sample_rate=args.sample_rate, long_signal=not args.no_long,
                              settings=not args.no_settings, keep_plots=args.report is not None, seed=args.seed,
                              method=args.method, log=log)
    except ValidationError as e:
        raise UserError(str(e))
    if args.json:
        print(json.dumps(result.to_json(), indent=1, default=float))
    else:
        print(format_table(result))
    if args.report is not None:
        page = write_report(result, args.report)
        log(f"report: {page} (and {args.report / 'report.json'})")
    return 0 if result.ok else 1
