#pragma once
// How every call into a model runs, in the plugin and in the benchmarks that measure against it.
#include <torch/script.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

namespace nnplug {

// Inference mode: no autograd bookkeeping. Graph optimizer off: TorchScript's profiling
// executor would rewrite each method's graph on its first calls (e.g. mm + bias add into one
// addmm, a different rounding), keep that second copy of every graph (~25 MB per instance of
// the default model), and make those first calls ~50x slower; the plain interpreter runs as
// fast afterwards. The setting is per thread and is read when a method first runs, so every
// thread that calls the model (loader, audio, worker) opens this scope around each call.
// python/nnplug/runtime.py does the same for the Python reference.
struct ModelCallScope
{
    c10::InferenceMode inference;
    torch::jit::GraphOptimizerEnabledGuard plainInterpreter { false };
};

} // namespace nnplug
