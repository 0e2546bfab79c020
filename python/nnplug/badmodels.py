"""A corpus of hostile model files, for the robustness tests and `nnplug stress`.

    cases = write_corpus(Path("out/bad"))     # [BadModel], files written into the directory

Every file breaks the model contract in one way: not a TorchScript file at all, a broken
nn~ interface, a method that misbehaves from its first call (wrong shape, wrong channel
count, a non-tensor, NaN, Inf, huge values, an exception, 100x slower than real time), one
that misbehaves mid-stream, or metadata the plugin must refuse (not streaming, a sample
rate of 0 or an absurd one). Each entry says when the plugin notices ("load": it refuses the
file; "runtime": it plays the model, then falls back) and what its error message and
`nnplug inspect` / `nnplug stage` must say (regular expressions, case-insensitive).
"""
from __future__ import annotations

import io
import json
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import torch
from torch import nn

from nnplug.contract import AUTO_BUFFER_SIZE

SR = 44100
PLUGIN_BUFFER = AUTO_BUFFER_SIZE   # the plugin's model buffer N at buffer_size "Auto" (ratio 1)
SLOW_FACTOR = 100.0        # the slow model takes this many times the real-time budget per call
OK_CALLS = 8               # the mid-stream failures work for this many calls first (the plugin's trial
                           # and warm-up buffers at load take 4)


@dataclass(frozen=True)
class BadModel:
    name: str
    file: Path
    phase: str              # "load" (refused at load), "runtime" (fails while playing) or
                            # "warning" (played, the status warns; stage refuses it)
    plugin_error: str       # regex the plugin's status message must match
    inspect_error: str      # regex `nnplug inspect` must print (an error; see inspect_warns)
    stage_error: str        # regex `nnplug stage` must print as its error
    inspect_warns: bool = False   # inspect describes the file with a warning instead of failing


def _meta(streaming: bool = True, sample_rate: float = SR, channels: int = 1) -> str:
    io_ = {"in_channels": channels, "in_ratio": 1, "out_channels": channels, "out_ratio": 1, "delay": 1}
    return json.dumps({"format_version": 1, "name": "bad", "author": "nnplug robustness tests",
                       "description": "hostile fixture", "version": "1.0.0", "sample_rate": sample_rate,
                       "ratio": 1, "delay": 1, "methods": {"forward": io_}, "channels": channels,
                       "latent_size": 0, "streaming": streaming, "deterministic": True})


class Good(nn.Module):
    """y[t] = x[t - 1], streamed with a one-sample cache: the well-behaved base of the corpus."""

    def __init__(self):
        super().__init__()
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1]))
        self.register_buffer("cache", torch.zeros(1, 1, 1))
        self.calls = 0

    def step(self, x: torch.Tensor) -> torch.Tensor:
        if self.cache.shape[0] != x.shape[0]:
            self.cache = torch.zeros(x.shape[0], x.shape[1], 1)
        full = torch.cat([self.cache, x], -1)
        self.cache = full[..., -1:].clone()
        return full[..., :-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.step(x)

    @torch.jit.export
    def reset(self):
        self.cache.zero_()

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class WrongLength(Good):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.step(x)[..., 1:]


class WrongChannels(Good):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.step(x)
        return torch.cat([y, y, y], 1)


class NonTensor(Good):
    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [self.step(x)]


class Fill(Good):
    """Replaces its output with `value` from call `after + 1` on."""

    def __init__(self, value: float, after: int):
        super().__init__()
        self.value = value
        self.after = after

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        y = self.step(x)
        if self.calls > self.after:
            y = torch.full_like(y, self.value)
        return y


class Raises(Good):
    def __init__(self, after: int):
        super().__init__()
        self.after = after

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > self.after:
            raise RuntimeError("hostile fixture: forward raised")
        return self.step(x)


class Slow(Good):
    """Burns CPU on matrix products, `iters` of them per call, whatever the buffer length."""

    def __init__(self, iters: int):
        super().__init__()
        self.iters = iters
        self.register_buffer("w", torch.randn(192, 192, generator=torch.Generator().manual_seed(0)) / 14.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.w
        for _ in range(self.iters):
            a = torch.tanh(torch.mm(a, self.w))
        return self.step(x) + 0.0 * a[0, 0]


def _save(module: nn.Module, path: Path, meta: Optional[str] = None, sr: Optional[float] = SR) -> None:
    if sr is not None:
        module.sr = int(sr) if float(sr).is_integer() else float(sr)
    scripted = torch.jit.script(module)
    extra = {"nnplug.json": meta} if meta is not None else {}
    scripted.save(str(path), _extra_files=extra)


def _calibrated_slow(path: Path, budget_seconds: float) -> None:
    """A Slow model whose call takes SLOW_FACTOR x budget_seconds on this machine (one thread,
    as the plugin runs inference)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        probe = torch.jit.script(Slow(50))
        x = torch.zeros(1, 1, PLUGIN_BUFFER)
        with torch.inference_mode():
            probe(x)
            t0 = time.perf_counter()
            probe(x)
            per_iter = (time.perf_counter() - t0) / 50
    finally:
        torch.set_num_threads(threads)
    iters = max(50, int(SLOW_FACTOR * budget_seconds / max(per_iter, 1e-6)))
    _save(Slow(iters), path, _meta())


class _NoParams(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def write_corpus(outdir: Path | str, slow: bool = True) -> List[BadModel]:
    """Writes every hostile file into `outdir` (created) and returns their descriptions."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    cases: List[BadModel] = []
    not_ts = r"not a (loadable )?TorchScript"

    def add(name, phase, plugin_error, inspect_error, stage_error=None, inspect_warns=False):
        cases.append(BadModel(name, out / f"{name}.ts", phase, plugin_error, inspect_error,
                              stage_error or inspect_error, inspect_warns))

    # -- not a model at all
    (out / "empty.ts").write_bytes(b"")
    add("empty", "load", "not a loadable TorchScript", not_ts)
    rng = torch.Generator().manual_seed(7)
    (out / "random_bytes.ts").write_bytes(bytes(torch.randint(0, 256, (4096,), generator=rng, dtype=torch.uint8).tolist()))
    add("random_bytes", "load", "not a loadable TorchScript", not_ts)
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(Good()), buf, _extra_files={"nnplug.json": _meta()})
    whole = buf.getvalue()
    (out / "truncated.ts").write_bytes(whole[: len(whole) // 2])
    add("truncated", "load", "not a loadable TorchScript", not_ts)
    with zipfile.ZipFile(out / "zip_not_torchscript.ts", "w") as z:
        z.writestr("model/readme.txt", "a zip archive, but not a TorchScript one")
        z.writestr("model/weights.bin", os.urandom(64))
    add("zip_not_torchscript", "load", "not a loadable TorchScript", not_ts)

    # -- a broken nn~ interface
    _save(_NoParams(), out / "no_forward_params.ts")
    add("no_forward_params", "load", "forward_params", "forward_params")
    m = Good()
    m.forward_params = torch.tensor([[1, 1], [1, 1]])
    _save(m, out / "params_wrong_shape.ts", _meta())
    add("params_wrong_shape", "load", "forward_params must be", "forward_params must be")
    m = Good()
    m.forward_params = torch.tensor([1.0, 1.0, 1.0, 1.0])
    _save(m, out / "params_wrong_dtype.ts", _meta())
    add("params_wrong_dtype", "load", "forward_params must be", "forward_params must be")

    # -- a method that misbehaves from its first call
    _save(WrongLength(), out / "wrong_length.ts", _meta())
    add("wrong_length", "load", r"returned shape", r"returned shape")
    _save(WrongChannels(), out / "wrong_channels.ts", _meta())
    add("wrong_channels", "load", r"returned shape", r"returned shape")
    _save(NonTensor(), out / "non_tensor.ts", _meta())
    add("non_tensor", "load", r"did not return a tensor", r"did not return a tensor")
    _save(Fill(float("nan"), 0), out / "nan.ts", _meta())
    add("nan", "load", "NaN or Inf", "NaN or Inf")
    _save(Fill(float("inf"), 0), out / "inf.ts", _meta())
    add("inf", "load", "NaN or Inf", "NaN or Inf")
    _save(Fill(1e6, 0), out / "huge.ts", _meta())
    add("huge", "load", "exceeds", "exceeds")
    _save(Raises(0), out / "raises.ts", _meta())
    add("raises", "load", "forward raised", "forward raised")
    if slow:
        _calibrated_slow(out / "slow.ts", PLUGIN_BUFFER / SR)
        add("slow", "load", "too slow", "too slow")

    # -- metadata the plugin plays with a warning (stage refuses it) or must refuse
    _save(Good(), out / "not_streaming.ts", _meta(streaming=False))
    add("not_streaming", "warning", "not a streaming model", "not a streaming model", inspect_warns=True)
    _save(Good(), out / "sr_zero.ts", _meta(sample_rate=0), sr=0)
    add("sr_zero", "load", "sample rate", "sample rate")
    _save(Good(), out / "sr_absurd.ts", _meta(sample_rate=1e9), sr=1e9)
    add("sr_absurd", "load", "sample rate", "sample rate")

    # -- a method that misbehaves mid-stream (the plugin's trial buffer passes)
    _save(Raises(OK_CALLS), out / "raises_midstream.ts", _meta())
    add("raises_midstream", "runtime", "forward raised", "forward raised")
    _save(Fill(float("nan"), OK_CALLS), out / "nan_midstream.ts", _meta())
    add("nan_midstream", "runtime", "NaN or Inf", "NaN or Inf")
    _save(Fill(1e6, OK_CALLS), out / "huge_midstream.ts", _meta())
    add("huge_midstream", "runtime", "exceeds", "exceeds")

    (out / "corpus.json").write_text(json.dumps(
        [{"name": c.name, "file": c.file.name, "phase": c.phase, "plugin_error": c.plugin_error} for c in cases],
        indent=1) + "\n")
    return cases


def write_good(path: Path | str) -> Path:
    """The well-behaved base model of the corpus (mono, delay 1, nnplug metadata)."""
    _save(Good(), Path(path), _meta())
    return Path(path)


if __name__ == "__main__":
    import sys
    for c in write_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "build/bad-models")):
        print(f"{c.name:<22} {c.phase:<8} {c.file}")
