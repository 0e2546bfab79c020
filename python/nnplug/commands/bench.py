"""`nnplug bench streaming`: cached convolutions vs context window vs overlap-add."""
from __future__ import annotations

import argparse
import json
import sys

from nnplug.cli import UserError

DEFAULT_BUFFERS = "64,128,256,512,1024,2048,4096,8192"
DEFAULT_MODELS = "seed,rave-2048"
MODEL_CONFIGS = {
    "seed": {"architecture": "seed"},
    "rave-small": {"architecture": "rave", "size": "small"},
    # RAVE v2 proportions (16 bands, strides 4-4-4-2: total 2048) at a third of its width: 4.7 M parameters
    "rave-2048": {"architecture": "rave", "size": "v2", "capacity": 32},
    "rave-v2": {"architecture": "rave", "size": "v2"},
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="measure streaming speed against the alternatives",
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
                   help=f"comma-separated, from {', '.join(MODEL_CONFIGS)} (default: {DEFAULT_MODELS}); "
                        "models are randomly initialised: speed and exactness do not depend on training")
    p.add_argument("--buffers", default=DEFAULT_BUFFERS, help=f"buffer sizes in samples (default: {DEFAULT_BUFFERS})")
    p.add_argument("--seconds", type=float, default=5.0, help="seconds of audio per measurement (default: 5)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per method; the median is kept (default: 3)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default: 1, as in the plugin)")
    p.add_argument("--markdown", metavar="FILE", help="also write the table as markdown to FILE")
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    p.set_defaults(func=run_streaming)


def run_streaming(args: argparse.Namespace) -> int:
    import torch
    from tqdm import tqdm

    from nnplug.bench.streaming import as_dicts, bench_model, markdown, verdict
    from nnplug.models import build_model, set_randomness

    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in MODEL_CONFIGS]
    if unknown:
        raise UserError(f"unknown model(s) {unknown}; choose from {list(MODEL_CONFIGS)}")
    try:
        buffers = [int(b) for b in args.buffers.split(",")]
    except ValueError:
        raise UserError(f"--buffers must be comma-separated integers, got {args.buffers!r}") from None
    torch.set_num_threads(args.threads)
    rows = []
    with tqdm(desc="bench", unit="run", disable=args.json, file=sys.stderr) as bar:
        for name in names:
            torch.manual_seed(0)
            model = build_model(MODEL_CONFIGS[name])
            set_randomness(model, enabled=False)   # every method must see the same deterministic model
            params = sum(p.numel() for p in model.parameters())
            bar.write(f"{name}: {params / 1e6:.2f} M parameters")
            rows += bench_model(name, model, buffers, args.seconds, args.rounds,
                                progress=lambda s: (bar.set_postfix_str(s), bar.update()))
    table = markdown(rows)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")
    print(json.dumps(as_dicts(rows), indent=2) if args.json else table)
    problems = verdict(rows)
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    return 1 if problems else 0
