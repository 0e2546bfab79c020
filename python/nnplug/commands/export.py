"""`nnplug export SPEC -o model.ts`: a model leaves Python as an nn~-convention TorchScript file."""
from __future__ import annotations

import argparse
import os


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="export a model as a streaming nn~-convention TorchScript file",
        description="Convert a model to streaming, script it, validate it and save it atomically. SPEC is "
                    "package.module:factory (a callable returning the trained nn.Module) or a YAML model config "
                    "(architecture: seed | rave, size, ..., checkpoint: weights file).")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("-o", "--output", required=True, help="the .ts file to write")
    p.add_argument("--checkpoint", help="weights (state_dict) for a YAML config; read with weights_only=True")
    p.add_argument("--sample-rate", type=int, help="sample rate in Hz (default: from the config, else 44100)")
    p.add_argument("--name", help="model name (default: from the config, else the output file's stem)")
    p.add_argument("--author", default=None)
    p.add_argument("--description", default=None)
    p.add_argument("--version", dest="model_version", default=None)
    p.add_argument("--methods", default="forward,encode,decode",
                   help="comma-separated methods to export (default: forward,encode,decode when present)")
    p.add_argument("--no-noise", action="store_true", help="switch the model's seeded noise off (deterministic, "
                   "streaming == offline)")
    p.add_argument("--seed", type=int, default=None, help="seed for the model's noise")
    p.add_argument("--weights", choices=("float32", "float16", "int8"), default="float32",
                   help="float16: store the wide layers' weights (convs of 100000 weights or more) as float16 "
                        "and run them with fbgemm's fp16 kernel. A RAVE v2-sized model ran 1.1-2.0x faster in "
                        "pedalboard (model buffers 16384 down to 2048: the shorter, the more it gains), where those "
                        "layers are bound by memory traffic; the file is the model with those weights rounded (export "
                        "reports the change). int8: the convs of 20000 weights or more keep int8 weights (one scale "
                        "per output channel) and run fbgemm's dynamic int8 kernel, which quantizes each call's input "
                        "to 7 bits: 1.7-3.3x faster than float32 for the same model, and the output depends slightly "
                        "on the model buffer (export "
                        "reports the error against float32; `nnplug inspect` shows it). Default: float32")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nnplug.errors import UserError
    from nnplug.export import ExportError, export, load_config, load_factory

    try:
        if args.spec.endswith((".yaml", ".yml")) or os.path.isfile(args.spec):
            model, keys = load_config(args.spec, args.checkpoint)
        else:
            if args.checkpoint:
                raise ExportError("--checkpoint goes with a YAML config; a factory returns the trained model")
            model, keys = load_factory(args.spec), {}
        name = args.name or keys.get("name") or os.path.splitext(os.path.basename(args.output))[0]
        noise = keys.get("noise", True) and not args.no_noise
        export(model, args.output,
               sample_rate=args.sample_rate or int(keys.get("sample_rate", 44100)),
               name=name,
               author=args.author if args.author is not None else str(keys.get("author", "")),
               description=args.description if args.description is not None else str(keys.get("description", "")),
               version=args.model_version if args.model_version is not None else str(keys.get("version", "")),
               methods=tuple(m.strip() for m in args.methods.split(",") if m.strip()),
               noise=bool(noise), seed=args.seed, weights=args.weights, verbose=not args.quiet)
    except ExportError as e:
        raise UserError(str(e)) from e
    return 0
