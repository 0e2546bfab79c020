"""`nnplug train`: train the RAVE-style model on audio generated in code (see nnplug.train)."""
from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train the RAVE-style model on generated audio",
                              description="Train the RAVE-style model on synthetic harmonic tones, reproducibly "
                                          "from a seed, with a multi-resolution STFT loss.")
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options (here, not in nnplug.train: `--help` must not import torch)."""
    parser.add_argument("--size", default="small", help="model size: tiny, small or v2 (default small)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=16384, help="training excerpt length in samples")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--beta", type=float, default=1e-3, help="KL weight")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("-o", "--output", default="model.ckpt", help="checkpoint path (weights only)")
    parser.add_argument("--export", default=None, help="also export the trained model to this .ts path")
    parser.add_argument("--name", default="nnplug-default")
    parser.add_argument("--no-noise", action="store_true", help="export with randomness switched off")
    parser.add_argument("--report", default=None, help="write losses and timings as JSON here")


def run(args) -> int:
    from nnplug.train import run as train_run
    return train_run(args)
