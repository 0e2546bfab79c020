"""Export a model as a self-describing TorchScript file following the nn~ convention.

    from nnplug.export import export
    export(model, "model.ts", sample_rate=44100, name="my-model")

The file holds one top-level scripted module with, for every exported method `m`:

* `m(x)`: `(batch, in_channels, B / in_ratio) -> (batch, out_channels, B / out_ratio)`,
  a streaming version of `model.m` (each method owns an independent streaming state),
* a buffer `m_params = [in_channels, in_ratio, out_channels, out_ratio]` (int),

and `get_methods()`, `get_attributes()`, `reset()` (rewinds the state of every method),
the int attribute `sr`, and the str attribute `nnplug_metadata` (JSON, also stored as the
extra file `nnplug.json`). Before the file is declared good it is reloaded and checked:
shape contract at batch 1 and 2 and several buffer sizes, streaming == offline shifted by
the delay, determinism across two fresh loads. The file appears atomically, only when
every check passed.

Modules: `pipeline` (export itself), `methods` (one method converted, the plugin's refusals),
`wrapper` (the scripted module), `checks` (the checks of a saved file), `weights` (digest,
sharing), `randomness` (seeded noise on/off), `config` (SPEC -> model for the CLI).
"""
from nnplug.export.checks import EXACT_TOLERANCE, ValidationReport, validate_file
from nnplug.export.config import load_config, load_factory
from nnplug.export.errors import ExportError
from nnplug.export.methods import SUPPORTED_METHODS, MethodInfo
from nnplug.export.pipeline import FORMAT_VERSION, METADATA_FILE, WEIGHT_FORMATS, export
from nnplug.export.randomness import set_loaded_randomness
from nnplug.export.weights import share_identical_weights, weights_sha256

__all__ = ["EXACT_TOLERANCE", "ExportError", "FORMAT_VERSION", "METADATA_FILE", "MethodInfo", "SUPPORTED_METHODS",
           "ValidationReport", "WEIGHT_FORMATS", "export", "load_config", "load_factory", "set_loaded_randomness",
           "share_identical_weights", "validate_file", "weights_sha256"]
