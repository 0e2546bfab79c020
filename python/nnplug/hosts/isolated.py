"""Render through an installed plugin in pedalboard, from a Python that has no torch.

    PYTHONPATH=python .venv-host/bin/python -m nnplug.hosts.isolated BUNDLE IN.npy OUT.npy BLOCK RATE

`.venv-host` (scripts/setup.sh) holds pedalboard and numpy only. The plugin then has nothing
but its own bundle to find libtorch in, which is what an installed plugin meets in a DAW.
Prints one JSON line: the reported latency, the plugin's status, whether `import torch` works
here, and every libtorch/libc10/libgomp file mapped into this process after the plugin loaded
(read from /proc/self/maps), so the caller can check they all come from inside the bundle.
This module imports no torch and nothing of nnplug that does (nnplug.hosts is torch-free).
"""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np

RUNTIME = re.compile(r"/(libtorch[^/]*|libc10[^/]*|libgomp[^/]*)$")


def mapped_runtime() -> list:
    """The libtorch runtime files this process has mapped (Linux)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return []
    found = set()
    for line in maps.read_text().splitlines():
        path = line.split(maxsplit=5)[-1] if len(line.split(maxsplit=5)) == 6 else ""
        if RUNTIME.search(path):
            found.add(path)
    return sorted(found)


def main(argv) -> int:
    bundle, src, dst, block, rate = argv[1], argv[2], argv[3], int(argv[4]), float(argv[5])
    from nnplug.hosts.pedalboard import PedalboardHost
    host = PedalboardHost(bundle, rate)
    y = host.render(np.load(src), block)
    np.save(dst, y)
    status = host.status()
    print(json.dumps({"latency": host.reported_latency(), "loaded": status.loaded, "failed": status.failed,
                      "message": status.message, "model_name": status.model_name, "model_file": status.model_file,
                      "torch_importable": importlib.util.find_spec("torch") is not None,
                      "runtime": mapped_runtime()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
