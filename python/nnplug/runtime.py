"""How the plugin runs a TorchScript model, for the Python code whose output must match the
plugin's bit for bit (validate's reference, the Python raw-libtorch benchmark, the tests).

The plugin (plugin/src/ModelCall.h) calls a model on one intra-op thread, in inference mode,
with TorchScript's graph optimizer off. The optimizer rewrites a method's graph on its first
calls (for example an `mm` followed by a bias `add` becomes one `addmm`), which changes the
float rounding, keeps a second, optimized copy of every graph and makes the first calls
much slower, while the plain interpreter is as fast afterwards. The optimizer setting is per thread and is
read when a method first runs, so the first call of every method must happen inside
`plugin_execution()`.
"""
from __future__ import annotations

import contextlib
from typing import Iterator


@contextlib.contextmanager
def plugin_execution(threads: int = 1) -> Iterator[None]:
    """Run model calls the way the plugin does: one thread, inference mode, no graph optimizer.
    `threads` other than 1 only for benchmarks that study threading."""
    import torch  # here, not at the top: the CLI imports its commands without loading torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode(), torch.jit.optimized_execution(False):
            yield
    finally:
        torch.set_num_threads(before)
