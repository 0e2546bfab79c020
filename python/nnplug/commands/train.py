"""`nnplug train`: train the RAVE-style model on audio generated in code (see nnplug.train)."""
from __future__ import annotations


def register(subparsers) -> None:
    from nnplug.train import build_parser
    p = subparsers.add_parser("train", help="train the RAVE-style model on generated audio",
                              description="Train the RAVE-style model on synthetic harmonic tones, reproducibly "
                                          "from a seed, with a multi-resolution STFT loss.")
    build_parser(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from nnplug.train import run as train_run
    return train_run(args)
