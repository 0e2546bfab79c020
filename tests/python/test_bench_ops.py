"""nnplug bench ops: ops and interpreter frames per model call, and CPU time, as the plugin runs a file."""
import re
import subprocess
import sys
from pathlib import Path

import torch

from nnplug.bench.ops import bench_ops
from nnplug.export import export
from nnplug.models import SeedAutoencoder

ROOT = Path(__file__).resolve().parents[2]


def test_counts_the_ops_of_one_call(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "seed.ts"
    export(SeedAutoencoder().eval(), str(path), sample_rate=44100, name="seed", verbose=False)
    # a file whose forward is nothing but one op: counts are exact
    torch.jit.save(torch.jit.script(_Negate()), str(tmp_path / "negate.ts"))
    rows = bench_ops([path, tmp_path / "negate.ts"], buffers=[512], seconds=0.05, rounds=2)
    seed, negate = rows
    assert (negate.ops, negate.frames, negate.top) == (1, 1, {"aten::neg": 1})
    assert seed.buffer == 512 and seed.load_seconds > 0 and seed.ops > 5 * negate.ops and len(seed.cpu) == 2 and seed.cpu_median > 0
    # calls inside each layer are inlined: one frame per layer the model's graph calls, plus one
    layer_calls = str(torch.jit.load(str(path)).forward_stream.forward.graph).count("prim::CallMethod")
    assert seed.frames == 1 + layer_calls


class _Negate(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1]))   # nn~: in/out channels, ratios

    def forward(self, x):
        return -x


def test_cli_prints_the_table(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "seed.ts"
    export(SeedAutoencoder().eval(), str(path), sample_rate=44100, name="seed", verbose=False)
    md = tmp_path / "ops.md"
    p = subprocess.run([sys.executable, "-m", "nnplug", "bench", "ops", "--model", str(path), "--buffer-sizes", "256",
                        "--seconds", "0.05", "--rounds", "1", "--markdown", str(md)],
                       capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert re.search(r"\| seed \| [0-9.]+ \| 256 \|", p.stdout) and "1.00x" in p.stdout
    assert md.read_text().startswith("`nnplug bench ops --model")
    bad = subprocess.run([sys.executable, "-m", "nnplug", "bench", "ops", "--model", str(tmp_path / "none.ts")],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "model not found" in bad.stderr and "Traceback" not in bad.stderr
