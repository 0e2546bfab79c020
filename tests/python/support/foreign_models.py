"""Model files written by the tools users actually have, with random weights, for the tests of
what nnplug does with files it did not write.

    python tests/python/support/foreign_models.py DEST [NAME...]   # writes DEST/<name>.ts|.nm

Run as its own process (the tests call it once per session): RAVE's exporter parses absl flags,
configures logging and clears gin's global configuration, none of which may leak into pytest.

- RAVE 2.3.1's own exporter (`scripts/export.py` of acids-rave, its `main`, unchanged) on small
  random-weight runs: v2_small streaming and not (same weights), v1, v2 stereo (`n_channels = 2`),
  causal, discrete. A "run" is what RAVE's trainer leaves: `config.gin` and a checkpoint.
- nn-tilde 1.6.0: a `nn_tilde.Module` with two attributes (a float gain and a bool), exported by
  its own `export_to_ts`.
- neutone-sdk 1.5.2: a stereo `WaveformToWaveformBase` with two knobs, saved by its own
  `save_neutone_model` (`model.nm` with its `metadata.json`).

What cannot be imported here, and why (each replaced only when the real import fails):
- torchaudio: no build on PyPI matches torch 2.13. RAVE builds its training losses with
  `Spectrogram`, neutone's `sandwich.py` imports `Resample`; neither runs in an exported model,
  so the stand-ins are modules that raise when called.
- scikit-learn (RAVE's `PCA`, training only): a class that raises.
- `rave.dataset` (imported by RAVE's gin configs; needs udls, protobuf and flask for training
  data): a module whose two configurable functions raise.
- scipy >= 1.13 removed `scipy.signal.kaiser` and `firwin(nyq=)`, and `kaiserord` no longer takes
  the 1-element arrays `scipy.optimize.fmin` hands RAVE's PQMF design: the same functions with
  the current spelling are put where `rave.pqmf` looks them up. The filters are the same.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import os
import shutil
import sys
import types
from pathlib import Path
from typing import Dict

# RAVE runs are small: the architecture and strides of the config, a fraction of the width
RAVE_SMALL = ["CAPACITY=4", "LATENT_SIZE=8", "N_BAND=4"]
RAVE_RUNS = {
    # name: (configs, bindings, parameters bound after parsing, streaming)
    "rave_v2": (["v2_small.gin"], RAVE_SMALL, {}, True),
    "rave_v2_nonstreaming": (["v2_small.gin"], RAVE_SMALL, {}, False),
    "rave_v1": (["v1.gin"], RAVE_SMALL, {}, True),
    "rave_v2_stereo": (["v2_small.gin"], RAVE_SMALL, {"RAVE.n_channels": 2}, True),
    "rave_v2_causal": (["v2_small.gin", "causal.gin"], RAVE_SMALL, {}, True),
    "rave_v2_discrete": (["discrete.gin"], RAVE_SMALL + ["NUM_QUANTIZERS=4", "CODEBOOK_SIZE=16",
                                                        "NOISE_AUGMENTATION=4"], {}, True),
}
NN_TILDE = "nntilde_gain"
NEUTONE = "neutone_gain"
NAMES = tuple(RAVE_RUNS) + (NN_TILDE, NEUTONE)


def path_of(dest: Path, name: str) -> Path:
    return Path(dest) / (f"{name}.nm" if name == NEUTONE else f"{name}.ts")


def _stand_in(name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)   # torch._dynamo looks for it
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent and parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module


def _raises(what: str):
    def fail(*args, **kwargs):
        raise RuntimeError(f"{what} is a stand-in from tests/python/support/foreign_models.py: exported models never use it")
    return fail


def _install_stand_ins() -> None:
    import torch.nn as nn
    try:
        import torchaudio  # noqa: F401
    except Exception:  # noqa: BLE001 - ImportError, or an extension that cannot load
        class Transform(nn.Module):
            """Constructible (RAVE builds its training losses), fails when used."""
            def __init__(self, *args, **kwargs):
                super().__init__()

            forward = _raises("torchaudio transform")
        _stand_in("torchaudio")
        _stand_in("torchaudio.transforms", Spectrogram=Transform, MelSpectrogram=Transform, Resample=Transform)
    try:
        import sklearn.decomposition  # noqa: F401
    except ImportError:
        _stand_in("sklearn")
        _stand_in("sklearn.decomposition", PCA=type("PCA", (), {"__init__": _raises("sklearn PCA")}))
    import scipy.signal
    if not hasattr(scipy.signal, "kaiser"):
        scipy.signal.kaiser = scipy.signal.windows.kaiser


def _import_rave():
    _install_stand_ins()
    import numpy as np
    import scipy.signal

    import rave.pqmf as pqmf

    def kaiserord(ripple, width):
        return scipy.signal.kaiserord(float(np.squeeze(ripple)), float(np.squeeze(width)))

    def firwin(numtaps, cutoff, *args, nyq=None, **kwargs):
        if nyq is not None:
            kwargs["fs"] = 2 * nyq
        return scipy.signal.firwin(numtaps, np.squeeze(cutoff), *args, **kwargs)

    pqmf.kaiserord, pqmf.firwin = kaiserord, firwin
    import rave
    try:
        import rave.dataset  # noqa: F401
    except ImportError:
        _stand_in("rave.dataset", split_dataset=_raises("rave.dataset.split_dataset"),
                  get_dataset=_raises("rave.dataset.get_dataset"))
    return rave


def make_rave(dest: Path, name: str) -> Path:
    """RAVE's trainer's output (config.gin + checkpoint of a random-weight model), exported by
    RAVE's own exporter."""
    import logging

    import gin
    import torch
    from absl import flags
    rave = _import_rave()
    configs, bindings, params, streaming = RAVE_RUNS[name]
    config_dir = Path(rave.__file__).parent / "configs"
    gin.clear_config()
    gin.add_config_file_search_path(str(Path(rave.__file__).parent))
    gin.parse_config_files_and_bindings([str(config_dir / c) for c in configs], bindings)
    with gin.unlock_config():
        for key, value in params.items():
            gin.bind_parameter(key, value)
    torch.manual_seed(0)
    model = rave.RAVE()
    run = Path(dest) / f"{name}-run"
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.gin").write_text(gin.config_str())
    checkpoint = run / "last.ckpt"
    torch.save({"state_dict": model.state_dict(), "callbacks": {}}, checkpoint)
    gin.clear_config()

    import scripts.export as exporter
    argv = ["export", f"--run={checkpoint}", f"--output={dest}", f"--name={name}", f"--streaming={streaming}"]
    flags.FLAGS.unparse_flags()
    flags.FLAGS(argv)
    logging.disable(logging.WARNING)
    try:
        exporter.main(argv)
    finally:
        logging.disable(logging.NOTSET)
    written = Path(dest) / (f"{name}_streaming.ts" if streaming else f"{name}.ts")
    written.replace(path_of(dest, name))
    shutil.rmtree(run)
    return path_of(dest, name)


def make_nn_tilde(dest: Path) -> Path:
    """A pointwise model with a float attribute (gain) and a bool one (invert)."""
    import torch
    import torch.nn as nn
    _install_stand_ins()
    import nn_tilde

    class Gain(nn_tilde.Module):
        def __init__(self):
            super().__init__(sr=44100)
            self.conv = nn.Conv1d(1, 1, 1)
            self.register_attribute("gain", 1.0)
            self.register_attribute("invert", False)
            self.register_method("forward", 1, 1, 1, 1)

        @torch.jit.export
        def forward(self, x):
            y = self.conv(x) * self.gain[0]
            if self.invert[0]:
                y = -y
            return y

    torch.manual_seed(0)
    Gain().export_to_ts(str(path_of(dest, NN_TILDE)))
    return path_of(dest, NN_TILDE)


def make_neutone(dest: Path) -> Path:
    """A stereo conv at 48 kHz with a native buffer of 512 and two knobs (gain, mix)."""
    import logging
    from typing import List

    import torch
    import torch.nn as nn
    _install_stand_ins()
    logging.disable(logging.WARNING)
    from neutone_sdk import ContinuousNeutoneParameter, NeutoneParameter, WaveformToWaveformBase
    from neutone_sdk.utils import save_neutone_model

    class Core(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(2, 2, 3, padding=1)

        def forward(self, x):
            return self.conv(x)

    class GainModel(WaveformToWaveformBase):
        def get_model_name(self) -> str:
            return "nnplug.gain"

        def get_model_authors(self) -> List[str]:
            return ["nnplug tests"]

        def get_model_short_description(self) -> str:
            return "A conv with a gain and a mix knob."

        def get_model_long_description(self) -> str:
            return "A conv with a gain and a mix knob, for nnplug's tests."

        def get_technical_description(self) -> str:
            return "Random weights."

        def get_technical_links(self) -> Dict[str, str]:
            return {}

        def get_tags(self) -> List[str]:
            return ["test"]

        def get_model_version(self) -> str:
            return "1.0.0"

        def is_experimental(self) -> bool:
            return True

        def get_neutone_parameters(self) -> List[NeutoneParameter]:
            return [ContinuousNeutoneParameter("gain", "output gain", 0.5),
                    ContinuousNeutoneParameter("mix", "dry/wet mix", 1.0)]

        @torch.jit.export
        def is_input_mono(self) -> bool:
            return False

        @torch.jit.export
        def is_output_mono(self) -> bool:
            return False

        @torch.jit.export
        def get_native_sample_rates(self) -> List[int]:
            return [48000]

        @torch.jit.export
        def get_native_buffer_sizes(self) -> List[int]:
            return [512]

        def do_forward_pass(self, x: torch.Tensor, params: Dict[str, torch.Tensor]) -> torch.Tensor:
            return self.model(x) * params["gain"] * 2.0 * params["mix"] + x * (1.0 - params["mix"])

    torch.manual_seed(0)
    out = Path(dest) / f"{NEUTONE}-sdk"
    try:
        save_neutone_model(GainModel(Core()), out, dump_samples=False, submission=False,
                           speed_benchmark=False, test_offline_mode=False)
    finally:
        logging.disable(logging.NOTSET)
    (out / "model.nm").replace(path_of(dest, NEUTONE))
    shutil.rmtree(out)
    return path_of(dest, NEUTONE)


def make(dest: Path, name: str) -> Path:
    if name in RAVE_RUNS:
        return make_rave(dest, name)
    if name == NN_TILDE:
        return make_nn_tilde(dest)
    if name == NEUTONE:
        return make_neutone(dest)
    raise KeyError(f"unknown foreign model {name!r}: one of {', '.join(NAMES)}")


def make_all(dest: Path) -> Dict[str, Path]:
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    return {name: make(dest, name) for name in NAMES}


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    target = Path(sys.argv[1])
    names = sys.argv[2:] or NAMES
    target.mkdir(parents=True, exist_ok=True)
    for n in names:
        print(make(target, n))
