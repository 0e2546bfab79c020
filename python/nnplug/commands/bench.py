"""`nnplug bench`: streaming (cached convolutions vs context window vs overlap-add), plugin (in
hosts vs raw libtorch), flops (an upper bound on speed) and readme (tables into the README)."""
from __future__ import annotations

import argparse
import json
import sys

from nnplug.commands.options import (add_block_sizes, add_buffer_sizes, add_deprecated_alias, add_modes, mode_names,
                                     parse_modes, parse_sizes)
from nnplug.errors import UserError
from nnplug.models import MODEL_CONFIGS

DEFAULT_BUFFERS = "64,128,256,512,1024,2048,4096,8192"
DEFAULT_MODELS = "seed,rave-2048"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="measure streaming and plugin speed; FLOP bound; README tables",
                            description="Benchmarks. Ratios are measured in one run (interleaved rounds, "
                                        "median kept) so they hold on a noisy machine.")
    which = parser.add_subparsers(dest="bench", metavar="WHAT")
    which.required = True
    p = which.add_parser("streaming", help="cached convs vs ContextWindow vs OverlapAdd (25%%, 50%%)",
                         description="Time per second of audio of the cached streaming model, of re-running the "
                                     "whole receptive field (ContextWindow) and of overlap-add at 25%% and 50%% "
                                     "overlap, on one thread, for each buffer size that is a multiple of the "
                                     "model's ratio; with each method's max error against the offline output.")
    p.add_argument("--models", default=DEFAULT_MODELS,
                   help=f"comma-separated, from {', '.join(MODEL_CONFIGS)}, or package.module:factory (a callable "
                        "returning an audio-to-audio nn.Module, as for `nnplug export`; e.g. a third-party "
                        f"architecture) (default: {DEFAULT_MODELS}); models are randomly initialised: speed and "
                        "exactness do not depend on training")
    add_buffer_sizes(p, DEFAULT_BUFFERS, f"buffer sizes in samples (default: {DEFAULT_BUFFERS})")
    add_deprecated_alias(p, "--buffers", "--buffer-sizes")
    p.add_argument("--seconds", type=float, default=5.0, help="seconds of audio per measurement (default: 5)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per method; the median is kept (default: 3)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default: 1, as in the plugin)")
    p.add_argument("--markdown", metavar="FILE", help="also write the table as markdown to FILE")
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    p.set_defaults(func=run_streaming)
    register_plugin(which)
    register_flops(which)
    register_ops(which)
    register_readme(which)


def run_streaming(args: argparse.Namespace) -> int:
    import torch
    from tqdm import tqdm

    from nnplug.bench.streaming import as_dicts, bench_model, markdown, ties, verdict
    from nnplug.models import build_model, set_randomness

    from nnplug.export import ExportError, load_factory

    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in MODEL_CONFIGS and ":" not in m]
    if unknown:
        raise UserError(f"unknown model(s) {unknown}; choose from {list(MODEL_CONFIGS)} or give "
                        "package.module:factory")
    buffers = parse_sizes(args.buffer_sizes, "--buffer-sizes")
    torch.set_num_threads(args.threads)
    rows = []
    with tqdm(desc="bench", unit="run", disable=args.json, file=sys.stderr) as bar:
        for name in names:
            torch.manual_seed(0)
            try:
                model = build_model(MODEL_CONFIGS[name]) if name in MODEL_CONFIGS else load_factory(name)
            except ExportError as e:
                raise UserError(str(e)) from e
            set_randomness(model, enabled=False)   # every method must see the same deterministic model
            params = sum(p.numel() for p in model.parameters())
            bar.write(f"{name}: {params / 1e6:.2f} M parameters")
            rows += bench_model(name, model, buffers, args.seconds, args.rounds,
                                progress=lambda s: (bar.set_postfix_str(s), bar.update()))
    table = markdown(rows)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(f"`nnplug bench streaming --models {args.models} --buffer-sizes {args.buffer_sizes} --seconds {args.seconds:g} "
                    f"--rounds {args.rounds}`, one thread; load at the end of the run: {_load()}\n\n{table}\n")
    print(json.dumps(as_dicts(rows), indent=2) if args.json else table)
    for t in ties(rows):
        print(f"note: {t}", file=sys.stderr)
    problems = verdict(rows)
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    return 1 if problems else 0


# ---- `nnplug bench plugin` (python/nnplug/bench/plugin.py) -----------------------------------
def register_plugin(which: argparse._SubParsersAction) -> None:
    p = which.add_parser("plugin", help="the plugin in pedalboard/DawDreamer vs raw libtorch",
                         description="Time per second of audio of the model run by raw libtorch (a C++ loop, built "
                                     "with the project as nnplug_model_bench, and Python), by the plugin's engine "
                                     "alone, and by the plugin in pedalboard and DawDreamer at each host block size "
                                     "and inference mode; the ratio plugin / raw libtorch, measured in one run "
                                     "(interleaved rounds, medians). Also peak memory of a host with 1 and 4 "
                                     "plugin instances, and load times. Every plugin render is checked bit for bit "
                                     "against the raw output.")
    p.add_argument("--plugin", help="the built nnplug.vst3 (default: the one `nnplug build` makes)")
    p.add_argument("--model", action="append", metavar="MODEL",
                   help=f"{MODEL_HELP}; repeat for several (default: the shipped default model)")
    add_block_sizes(p, "32,128,512,2048", "host block sizes (default: 32,128,512,2048)")
    add_deprecated_alias(p, "--blocks", "--block-sizes")
    add_modes(p)
    p.add_argument("--runners", default="libtorch-cpp,libtorch-python,engine-cpp,pedalboard,dawdreamer",
                   help="what to measure (default: all)")
    p.add_argument("--seconds", type=float, default=10.0, help="seconds of audio per measurement (default: 10)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is kept (default: 3)")
    p.add_argument("--channels", type=int, default=2, help="channels of the signal (default: 2, a stereo track)")
    add_buffer_sizes(p, None, "model buffer sizes N, comma-separated (each model is measured at each; default: "
                              "the plugin's Auto)")
    add_deprecated_alias(p, "--buffer", "--buffer-sizes")
    p.add_argument("--exe", help="path of nnplug_model_bench (default: <build>/bench/ of the plugin's build)")
    p.add_argument("--no-memory", action="store_true", help="skip the memory measurements")
    p.add_argument("--markdown", metavar="FILE", help="also write the tables as markdown to FILE")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    p.set_defaults(func=run_plugin)


MODEL_HELP = ("a .ts file, or a name from --models of `bench streaming` (e.g. rave-v2: exported once to out/bench/), "
              "with -fp16 or -int8 appended for float16 or int8 weights in its wide layers (e.g. rave-v2-fp16, "
              "rave-v2-int8)")


def _model_files(names):
    """.ts paths for --model arguments (default: the shipped default model); names of benchmark
    architectures are exported once to out/bench/."""
    from pathlib import Path

    from nnplug.bench.plugin import exported_model, split_weights_suffix
    models = []
    for m in (names or [str(Path(__file__).resolve().parents[1] / "data" / "default.ts")]):
        if split_weights_suffix(m)[0] in MODEL_CONFIGS and not Path(m).is_file():
            models.append(exported_model(m, Path("out") / "bench",
                                         progress=lambda s: print(f"[bench] {s}", file=sys.stderr, flush=True)))
        elif Path(m).is_file():
            models.append(Path(m))
        else:
            raise UserError(f"model not found: {m} (a .ts file or one of {list(MODEL_CONFIGS)}, "
                            "each also as NAME-fp16 or NAME-int8)")
    return models


def run_plugin(args: argparse.Namespace) -> int:
    from pathlib import Path

    from nnplug.bench.plugin import RUNNERS, as_dicts, bench_plugin, markdown, targets
    from nnplug.hosts import default_bundle

    plugin = Path(args.plugin) if args.plugin else default_bundle()
    if not plugin.exists():
        raise UserError(f"plugin bundle not found: {plugin} (run `nnplug build`)")
    models = _model_files(args.model)
    blocks = parse_sizes(args.block_sizes, "--block-sizes")
    modes = parse_modes(args.modes, args)
    runners = [r.strip() for r in args.runners.split(",") if r.strip()]
    if [r for r in runners if r not in RUNNERS]:
        raise UserError(f"--runners from {list(RUNNERS)}")
    buffers = parse_sizes(args.buffer_sizes, "--buffer-sizes") if args.buffer_sizes else [None]
    if args.rounds < 1 or args.seconds <= 0 or args.channels < 1:
        raise UserError("--rounds, --seconds and --channels must be positive")

    reports = []
    for m in models:
        for n in buffers:
            reports.append(bench_plugin(plugin, m, blocks=blocks, modes=modes, runners=runners, seconds=args.seconds,
                                        rounds=args.rounds, channels=args.channels, buffer=n,
                                        exe=Path(args.exe) if args.exe else None, memory=not args.no_memory,
                                        progress=lambda s: print(f"[bench] {s}", file=sys.stderr, flush=True)))
    table = markdown(reports)
    if args.markdown:
        command = " ".join(["nnplug bench plugin"] + [f"--model {m}" for m in (args.model or [])]
                           + [f"--block-sizes {args.block_sizes}", f"--modes {mode_names(modes)}",
                              f"--runners {args.runners}", f"--seconds {args.seconds:g}", f"--rounds {args.rounds}",
                              f"--channels {args.channels}"]
                           + ([f"--buffer-sizes {args.buffer_sizes}"] if args.buffer_sizes else [])
                           + (["--no-memory"] if args.no_memory else []))
        with open(args.markdown, "w") as f:
            f.write(f"`{command}`\n\n{table}\n")
    print(json.dumps(as_dicts(reports), indent=2) if args.json else table)
    for line in targets(reports):
        print(line, file=sys.stderr)
    errors = [e for r in reports for e in r.errors()]
    for e in errors:
        print(f"FAIL: {e}", file=sys.stderr)
    return 1 if errors else 0


# ---- `nnplug bench flops` (python/nnplug/bench/flops.py) ---------------------------------------
def register_flops(which: argparse._SubParsersAction) -> None:
    p = which.add_parser("flops", help="the convolutions' arithmetic per second of audio: a bound on the speed",
                         description="Count the multiply-adds of every convolution of a model on one second of audio "
                                     "and time a float32 matrix product on one thread: product rate / model FLOPs "
                                     "bounds how much faster than real time the model can run on this machine.")
    p.add_argument("models", nargs="*", metavar="MODEL", default=["rave-v2"],
                   help=f"names from {', '.join(MODEL_CONFIGS)} (default: rave-v2)")
    p.set_defaults(func=run_flops)


def run_flops(args: argparse.Namespace) -> int:
    from nnplug.bench.flops import main
    return main(args.models)


# ---- `nnplug bench ops` (python/nnplug/bench/ops.py) -------------------------------------------
def register_ops(which: argparse._SubParsersAction) -> None:
    p = which.add_parser("ops", help="tensor ops and interpreter frames per model call, and CPU time, as the "
                                     "plugin runs a file",
                         description="For each model file: the seconds torch.jit.load takes; then, run as the "
                                     "plugin runs it (one thread, TorchScript's graph optimizer off) at model buffer "
                                     "N on batch 1: the tensor ops one call "
                                     "dispatches, the method/function frames it opens, and CPU seconds per second "
                                     "of audio (interleaved rounds, median; the last column is the ratio to the "
                                     "first model, measured in this run).")
    p.add_argument("--model", action="append", metavar="MODEL",
                   help=f"{MODEL_HELP}; repeat for several (default: the shipped default model)")
    add_buffer_sizes(p, "Auto", "model buffer sizes N in samples, comma-separated, or Auto as in the plugin "
                                "(default: Auto)")
    p.add_argument("--seconds", type=float, default=5.0, help="seconds of audio per round (default: 5)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (default: 3)")
    p.add_argument("--markdown", metavar="FILE", help="also write the table as markdown to FILE")
    p.set_defaults(func=run_ops)


def run_ops(args: argparse.Namespace) -> int:
    from nnplug.bench.ops import bench_ops, details, table
    if args.rounds < 1 or args.seconds <= 0:
        raise UserError("--rounds and --seconds must be positive")
    buffers = [0 if n == "auto" else n for n in parse_sizes(args.buffer_sizes, "--buffer-sizes", words=("auto",))]
    rows = bench_ops(_model_files(args.model), buffers=buffers, seconds=args.seconds, rounds=args.rounds,
                     progress=lambda s: print(f"[bench] {s}", file=sys.stderr, flush=True))
    text = table(rows)
    if args.markdown:
        command = " ".join(["nnplug bench ops"] + [f"--model {m}" for m in (args.model or [])]
                           + [f"--buffer-sizes {args.buffer_sizes}", f"--seconds {args.seconds:g}",
                              f"--rounds {args.rounds}"])
        with open(args.markdown, "w") as f:
            f.write(f"`{command}` ({_load()} before the run)\n\n{text}\n")
    print(text)
    print(details(rows))
    return 0


# ---- `nnplug bench readme` (python/nnplug/bench/readme.py) --------------------------------------
def register_readme(which: argparse._SubParsersAction) -> None:
    p = which.add_parser("readme", help="splice benchmark tables (docs/bench-NAME.md) into the README",
                         description="Replace what stands between `<!-- bench-NAME:begin -->` and "
                                     "`<!-- bench-NAME:end -->` in README with docs/bench-NAME.md; a README without "
                                     "a table's markers is left alone for that table.")
    p.add_argument("readme", metavar="README", help="the file to update, e.g. README.md")
    p.add_argument("tables", nargs="+", metavar="TABLE", help="docs/bench-NAME.md files (missing ones are skipped)")
    p.set_defaults(func=run_readme)


def run_readme(args: argparse.Namespace) -> int:
    from nnplug.bench.readme import main
    return main([args.readme, *args.tables])


def _load() -> str:
    try:
        with open("/proc/loadavg") as f:
            return "load average " + ", ".join(f.read().split()[:3])
    except OSError:
        return "unknown"
