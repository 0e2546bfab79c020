"""`nnplug inspect MODEL.ts [--json]`: describe any nn~-convention TorchScript file."""
from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "inspect", help="describe any nn~-convention .ts file (nnplug, RAVE v1/v2)",
        description="Report methods and their params, sample rate, ratio, delay (from metadata, or measured with an "
                    "impulse), latent size, channels, streaming and determinism of an nn~-convention TorchScript file.")
    p.add_argument("model", metavar="MODEL.ts")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of text")
    p.add_argument("--no-measure", action="store_true",
                   help="do not run the model (no delay measurement, no determinism check)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nnplug.errors import UserError
    from nnplug.describe import InspectError, format_info, inspect_file

    try:
        info = inspect_file(args.model, measure=not args.no_measure)
    except InspectError as e:
        raise UserError(str(e)) from e
    if args.json:
        print(json.dumps(info.to_dict(), indent=2, sort_keys=True))
    else:
        print(format_info(info))
    return 0
