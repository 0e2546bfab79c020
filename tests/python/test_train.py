"""nnplug.train: reproducible synthetic data, the multi-resolution STFT loss, reproducible
training, weights-only checkpoints, and the shipped default model."""
import os

import numpy as np
import pytest
import torch

from nnplug.export import set_loaded_randomness
from nnplug.models import set_randomness
from nnplug.streaming.check import run_in_buffers
from nnplug.train import (HELD_OUT_SEED_OFFSET, held_out_set, make_batch, multiscale_stft_loss, save_checkpoint,
                          train)

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "python", "nnplug", "data")


def test_data_is_a_function_of_seed_and_step():
    a = make_batch(0, 5, 2, 4096, 44100)
    assert a.shape == (2, 1, 4096) and a.dtype == torch.float32
    assert torch.equal(a, make_batch(0, 5, 2, 4096, 44100))
    assert not torch.equal(a, make_batch(0, 6, 2, 4096, 44100))
    assert not torch.equal(a, make_batch(1, 5, 2, 4096, 44100))
    assert 0.1 < float(a.abs().max()) <= 1.0
    held = held_out_set(0, clips=2, length=4096)
    assert torch.equal(held, make_batch(HELD_OUT_SEED_OFFSET, 0, 2, 4096, 44100))
    # the tones are pitched: most energy sits in a few spectral peaks
    spec = np.abs(np.fft.rfft(a[0, 0].numpy()))
    top = np.sort(spec)[::-1]
    assert top[: len(top) // 20].sum() > 0.5 * top.sum()


def test_stft_loss():
    x = make_batch(0, 0, 2, 8192, 44100)
    assert float(multiscale_stft_loss(x, x)) == 0.0
    y = (x + 0.05 * torch.randn_like(x)).requires_grad_(True)
    loss = multiscale_stft_loss(y, x)
    assert float(loss) > 0.1
    loss.backward()
    assert torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0
    # louder error, larger loss
    assert float(multiscale_stft_loss(x + 0.2 * torch.randn_like(x), x)) > float(loss)


@pytest.mark.slow
def test_training_is_reproducible_and_learns(tmp_path):
    kw = dict(size="tiny", steps=20, batch=2, length=2048, lr=1e-2, seed=3, threads=1, progress=False, log_every=10)
    a = train(**kw)
    b = train(**kw)
    sa, sb = a["model"].state_dict(), b["model"].state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)          # same seed: bit-identical weights
    assert a["trained_loss"] == b["trained_loss"] and a["trained_loss_noise"] == b["trained_loss_noise"]
    c = train(**{**kw, "seed": 4, "steps": 2})
    assert not torch.equal(sa["encoder.0.weight"], c["model"].state_dict()["encoder.0.weight"])
    assert [h["step"] for h in a["history"]] == [10, 20]
    # 150 steps: the smoothed training loss must fall by at least 5 %, a margin well inside
    # what `nnplug train --steps 150` achieves
    d = train(**{**kw, "steps": 150, "log_every": 30})
    assert d["history"][-1]["rec"] < 0.95 * d["history"][0]["rec"]

    path = str(tmp_path / "m.ckpt")
    save_checkpoint(path, a["model"], {"train": {"seed": 3}})
    state = torch.load(path, weights_only=True)               # plain data: loads without running code
    assert state["architecture"] == "rave" and state["config"]["strides"] == [2, 2]
    assert set(state["state_dict"]) == set(sa)


@pytest.mark.slow
def test_cli_train_writes_checkpoint_and_export(tmp_path):
    from nnplug.cli import main
    ckpt, ts = str(tmp_path / "t.ckpt"), str(tmp_path / "t.ts")
    assert main(["train", "--size", "tiny", "--steps", "2", "--batch", "1", "--length", "4096", "--threads", "1",
                 "-o", ckpt, "--export", ts, "--no-noise"]) == 0
    assert os.path.exists(ckpt) and os.path.exists(ts)
    from nnplug.describe import inspect_file
    info = inspect_file(ts, measure=False)
    assert info.metadata["noise"] is False and info.ratio == 8


def test_shipped_default_model():
    from nnplug.export import load_config
    from nnplug.describe import inspect_file
    path = os.path.join(DATA, "default.ts")
    assert os.path.getsize(path) < 5e6
    info = inspect_file(path)
    assert info.kind == "nnplug" and info.weights_ok and info.warnings == []
    assert (info.sample_rate, info.ratio, info.channels, info.latent_size) == (44100, 64, 1, 16)
    assert info.streaming and info.deterministic and info.metadata["noise"] is True
    assert info.metadata["name"] == "nnplug-default"
    # the shipped .ts is the shipped checkpoint + config: every trained weight is in the file,
    # and the file streams like the Python model built from them (seeded noise switched
    # off on both sides; float32, rounding only: 1e-4 of the peak, as export checks)
    model, keys = load_config(os.path.join(DATA, "default.yaml"))
    ts = torch.jit.load(path)
    params = list(ts.parameters())
    for name, w in model.state_dict().items():
        if name.endswith("weight") and w.numel() > 1:
            assert any(p.shape == w.shape and torch.equal(p, w) for p in params), name
    set_randomness(model, enabled=False)
    assert set_loaded_randomness(ts, False) == 4          # forward: 2, encode: latent, decode: bands
    x = held_out_set(0, clips=1, length=64 * 160)
    with torch.no_grad():
        streamed = run_in_buffers(ts.forward, x, [64 * 8, 64 * 32])
        offline = model.eval()(x)
    d = info.delay
    err = (streamed[..., d + 2000:] - offline[..., 2000:-d]).abs().max()
    assert err <= 1e-4 * offline.abs().max()
    # and it reconstructs held-out tones better than the untrained model (see default.yaml)
    state = torch.load(os.path.join(DATA, "default.ckpt"), weights_only=True)
    assert state["train"]["trained_loss"] < 0.8 * state["train"]["untrained_loss"]


@pytest.mark.slow
def test_train_restores_the_thread_count():
    before = torch.get_num_threads()
    train(size="tiny", steps=1, batch=1, length=4096, threads=1 if before != 1 else 2, progress=False)
    assert torch.get_num_threads() == before
