"""Train the RAVE-style model on audio generated in code, reproducibly from a seed.

    python -m nnplug.train --size small --steps 3000 --seed 0 -o model.ckpt --export model.ts

The data are harmonic tones (random pitch, glides, vibrato, spectral tilt, odd/even
balance, ADSR envelopes, breath noise) synthesised with numpy from a seeded generator:
the training stream is a pure function of (seed, step), the held-out set uses a disjoint
seed. The loss is a multi-resolution STFT loss (spectral convergence + log magnitude)
plus a small KL term on the latent.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from nnplug.models import RaveModel, SeededNoise, config_for, kl_divergence, set_randomness

HELD_OUT_SEED_OFFSET = 1_000_003


# -- data ----------------------------------------------------------------------------
def synth_tone(rng: np.random.Generator, length: int, sample_rate: int) -> np.ndarray:
    """One clip: one to three notes of a random harmonic instrument, plus breath noise."""
    out = np.zeros(length)
    t = np.arange(length) / sample_rate
    notes = int(rng.integers(1, 4))
    bounds = np.sort(rng.integers(0, length, size=notes - 1)) if notes > 1 else np.array([], dtype=int)
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [length]])
    tilt = rng.uniform(0.5, 2.0)        # spectral slope
    odd = rng.uniform(0.2, 1.0)         # even harmonics gain (clarinet-like when low)
    for s, e in zip(starts, ends):
        n = e - s
        if n < 64:
            continue
        f0 = 55.0 * 2 ** rng.uniform(0, 4.5)                      # 55 Hz .. 1.2 kHz
        glide = 2 ** (rng.uniform(-1, 1) * rng.uniform(0, 0.3) * np.linspace(0, 1, n))
        vib = 1 + rng.uniform(0, 0.012) * np.sin(2 * np.pi * rng.uniform(3, 7) * t[:n] + rng.uniform(0, 6.3))
        f = f0 * glide * vib
        phase = 2 * np.pi * np.cumsum(f) / sample_rate
        k_max = int(min(48, 0.45 * sample_rate / (f0 * 1.4)))
        sig = np.zeros(n)
        for k in range(1, k_max + 1):
            amp = k ** (-tilt) * (odd if k % 2 == 0 else 1.0) * rng.uniform(0.6, 1.0)
            sig += amp * np.sin(k * phase + rng.uniform(0, 6.3))
        attack = max(int(rng.uniform(0.002, 0.15) * sample_rate), 1)
        release = max(int(rng.uniform(0.01, 0.3) * sample_rate), 1)
        env = np.ones(n) * rng.uniform(0.4, 1.0)
        a = min(attack, n)
        env[:a] *= np.linspace(0, 1, a)
        r = min(release, n)
        env[n - r:] *= np.linspace(1, 0, r)
        decay = np.exp(-t[:n] * rng.uniform(0, 6))
        out[s:e] += sig * env * decay
    peak = np.max(np.abs(out)) + 1e-9
    out = out / peak * rng.uniform(0.2, 0.9)
    if rng.random() < 0.5:  # breath: white noise shaped by the note's envelope, low-passed
        noise = rng.standard_normal(length)
        spec = np.fft.rfft(noise)
        cutoff = rng.uniform(1000, 8000)
        freqs = np.fft.rfftfreq(length, 1 / sample_rate)
        noise = np.fft.irfft(spec / (1 + (freqs / cutoff) ** 2), length)
        noise *= np.abs(out).max() * rng.uniform(0.01, 0.1) / (np.std(noise) + 1e-9)
        out = out + noise * np.abs(out) / (np.abs(out).max() + 1e-9)
    return out.astype(np.float32)


def make_batch(seed: int, index: int, batch: int, length: int, sample_rate: int) -> torch.Tensor:
    rng = np.random.default_rng([seed, index])
    return torch.from_numpy(np.stack([synth_tone(rng, length, sample_rate) for _ in range(batch)]))[:, None, :]


def held_out_set(seed: int, clips: int = 16, length: int = 32768, sample_rate: int = 44100) -> torch.Tensor:
    return make_batch(seed + HELD_OUT_SEED_OFFSET, 0, clips, length, sample_rate)


# -- loss ----------------------------------------------------------------------------
def multiscale_stft_loss(y: torch.Tensor, x: torch.Tensor,
                         scales: Sequence[int] = (2048, 1024, 512, 256, 128)) -> torch.Tensor:
    """Sum over FFT sizes of spectral convergence + mean |log magnitude difference|."""
    y = y.reshape(-1, y.size(-1))
    x = x.reshape(-1, x.size(-1))
    total = y.new_zeros(())
    for n in scales:
        window = torch.hann_window(n, dtype=x.dtype, device=x.device)
        sy = torch.stft(y, n, n // 4, window=window, return_complex=True).abs().clamp_min(1e-5)
        sx = torch.stft(x, n, n // 4, window=window, return_complex=True).abs().clamp_min(1e-5)
        total = total + torch.linalg.norm(sy - sx) / torch.linalg.norm(sx).clamp_min(1e-7)
        total = total + (sy.log() - sx.log()).abs().mean()
    return total


@torch.no_grad()
def evaluate(model: RaveModel, audio: torch.Tensor, randomness: bool = False) -> float:
    """Multi-resolution STFT loss of model(audio) against audio. Randomness off (latent
    mean, no noise) by default; on, the seeded noise restarts from position 0. Either way
    the result is deterministic. The noise layers' switches and positions are restored, so
    evaluating does not change the training run."""
    was_training = model.training
    model.eval()
    layers = [m for m in model.modules() if isinstance(m, SeededNoise)]
    saved = [(m.enabled, m.position) for m in layers]
    set_randomness(model, enabled=randomness)
    loss = float(multiscale_stft_loss(model(audio), audio))
    for m, (enabled, position) in zip(layers, saved):
        m.enabled, m.position = enabled, position
    model.train(was_training)
    return loss


# -- training ------------------------------------------------------------------------
def train(size: str = "small", steps: int = 3000, batch: int = 8, length: int = 16384, lr: float = 1e-3,
          beta: float = 1e-3, seed: int = 0, sample_rate: int = 44100, threads: int = 2,
          progress: bool = True, log_every: int = 100, config_overrides: Optional[Dict] = None) -> Dict:
    """Train from scratch on `threads` threads (the process's thread count is restored
    afterwards); returns {"model", "config", "history", "seconds", "untrained_loss",
    "trained_loss" (held-out, randomness off), "untrained_loss_noise", "trained_loss_noise"
    (held-out, seeded randomness on, as exported by default)}."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train(size, steps, batch, length, lr, beta, seed, sample_rate, progress, log_every, config_overrides)
    finally:
        torch.set_num_threads(previous)


def _train(size: str, steps: int, batch: int, length: int, lr: float, beta: float, seed: int, sample_rate: int,
           progress: bool, log_every: int,
           config_overrides: Optional[Dict]) -> Dict:
    from tqdm import tqdm

    torch.manual_seed(seed)
    config = config_for(size, sample_rate=sample_rate, seed=seed, **(config_overrides or {}))
    model = RaveModel(config)
    if length % model.ratio:
        raise ValueError(f"training length {length} must be a multiple of the model ratio {model.ratio}")
    held_out = held_out_set(seed, length=max(length, 32768) // model.ratio * model.ratio, sample_rate=sample_rate)
    untrained = evaluate(model, held_out)
    untrained_noise = evaluate(model, held_out, randomness=True)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.99))
    warmup = min(100, max(1, steps // 10))   # linear warm-up, then cosine decay to 10 %
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * i / steps))))
    history: List[Dict] = []
    start = time.time()
    bar = tqdm(range(steps), disable=not progress, desc=f"train {size}", dynamic_ncols=True, file=sys.stderr)
    running = None
    model.train()
    for step in bar:
        x = make_batch(seed, step, batch, length, sample_rate)
        mean, std = model.posterior(x)
        z = model.sample(mean, std)
        y = model.decode(z)
        rec = multiscale_stft_loss(y, x)
        kl = kl_divergence(mean, std)
        loss = rec + beta * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        sched.step()
        r = float(rec.detach())
        running = r if running is None else 0.98 * running + 0.02 * r
        bar.set_postfix(rec=f"{running:.3f}", kl=f"{float(kl.detach()):.2f}")
        if (step + 1) % log_every == 0 or step + 1 == steps:
            history.append({"step": step + 1, "rec": running, "kl": float(kl.detach()), "seconds": time.time() - start})
    trained = evaluate(model, held_out)
    trained_noise = evaluate(model, held_out, randomness=True)
    model.eval()
    return {"model": model, "config": config, "history": history, "untrained_loss": untrained,
            "trained_loss": trained, "untrained_loss_noise": untrained_noise, "trained_loss_noise": trained_noise,
            "seconds": time.time() - start}


def save_checkpoint(path: str, model: RaveModel, extra: Optional[Dict] = None) -> None:
    """A weights-only checkpoint: {"architecture", "config", "state_dict", ...} (no pickled code)."""
    state = {"architecture": "rave", "config": model.config.to_dict(), "state_dict": model.state_dict()}
    if extra:
        state.update(extra)
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def run(args: argparse.Namespace) -> int:
    result = train(size=args.size, steps=args.steps, batch=args.batch, length=args.length, lr=args.lr,
                   beta=args.beta, seed=args.seed, sample_rate=args.sample_rate, threads=args.threads)
    model = result["model"]
    save_checkpoint(args.output, model, {"train": {"steps": args.steps, "seed": args.seed,
                                                    "untrained_loss": result["untrained_loss"],
                                                    "trained_loss": result["trained_loss"]}})
    print(f"held-out multi-resolution STFT loss, randomness off: untrained {result['untrained_loss']:.4f}, "
          f"trained {result['trained_loss']:.4f}; seeded randomness on: untrained "
          f"{result['untrained_loss_noise']:.4f}, trained {result['trained_loss_noise']:.4f} "
          f"({result['seconds']:.0f} s); checkpoint {args.output}")
    report = {k: result[k] for k in ("untrained_loss", "trained_loss", "untrained_loss_noise", "trained_loss_noise",
                                     "seconds", "history")}
    report["config"] = result["config"].to_dict()
    report["argv"] = sys.argv
    if args.export:
        from nnplug.export import export
        export(model, args.export, sample_rate=args.sample_rate, name=args.name,
               description=f"RAVE-style {args.size} model trained by `nnplug train` on synthetic harmonic tones",
               version="1", noise=not args.no_noise, seed=args.seed)
        print(f"exported {args.export}")
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=2)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    from nnplug.commands.train import add_arguments
    parser = argparse.ArgumentParser(prog="nnplug train", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
