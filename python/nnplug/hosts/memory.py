"""A host's memory with `count` plugin instances, measured in a process of its own:

    python -m nnplug.hosts.memory HOST BUNDLE COUNT SAMPLE_RATE BLOCK   # prints one JSON line

baseline_kb (the process before any plugin), plugin_load (seconds, the first instance),
model_load (seconds, the first render: the model's load, prepare and warm-up; DawDreamer
renders every instance at once), peak_kb (VmHWM at the end)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Dict, Union

import numpy as np


def _rss_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} in /proc/self/status")


def measure(host: str, bundle: Union[str, Path], count: int, sample_rate: float, block: int) -> Dict[str, float]:
    x = (0.1 * np.random.default_rng(0).standard_normal((2, int(sample_rate)))).astype(np.float32)
    out: Dict[str, float] = {}
    if host == "pedalboard":
        import pedalboard  # noqa: F401  (the baseline includes the host's own library)
        from .pedalboard import PedalboardHost
        out["baseline_kb"] = _rss_kb("VmRSS:")
        t = time.perf_counter()
        hosts = [PedalboardHost(bundle, sample_rate)]
        out["plugin_load"] = time.perf_counter() - t
        t = time.perf_counter()
        hosts[0].process(x, block)
        out["model_load"] = time.perf_counter() - t
        hosts += [PedalboardHost(bundle, sample_rate) for _ in range(count - 1)]
        for h in hosts:
            h.process(x, block)
    elif host == "dawdreamer":
        import dawdreamer  # noqa: F401  (the baseline includes the host's own library)
        from .dawdreamer import Session
        out["baseline_kb"] = _rss_kb("VmRSS:")
        session = Session(bundle, sample_rate, block, x, instances=0)
        t = time.perf_counter()
        session.add_instance()
        out["plugin_load"] = time.perf_counter() - t
        for _ in range(count - 1):
            session.add_instance()
        _, timing = session.render(x.shape[1])
        out["model_load"] = timing.wall
    else:
        raise ValueError(f"unknown host {host!r}")
    out["peak_kb"] = _rss_kb("VmHWM:")
    return out


if __name__ == "__main__":
    host, bundle, count, sr, block = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    print(json.dumps(measure(host, bundle, count, sr, block)))
