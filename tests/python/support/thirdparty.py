"""Small random-weight models from real third-party codecs, for converter tests.

Each builder returns a model in eval mode. Its weights are random, so the
caller seeds them with ``torch.manual_seed``. The models are small (2-7k
parameters): a float64 forward of 8192 samples takes tens of milliseconds.
``INPUT_CHANNELS[name]`` gives the channel count that each builder's model
expects.

- RAVE v2 ``EncoderV2`` / ``GeneratorV2`` (acids-rave 2.3.1 + cached-conv 2.5.0)
- DAC ``Encoder`` / ``Decoder`` (descript-audio-codec 1.0.0)
- EnCodec ``SEANetEncoder`` / ``SEANetDecoder`` (encodec 0.1.1)

Install the packages with
``pip install --no-deps -r requirements-thirdparty.txt``. The ``--no-deps``
matters: these packages declare an unpinned ``torch`` (and acids-rave pins
``scipy==1.10.0`` and ``pytorch-lightning==1.9.0``), so resolving their
dependencies would replace the project's torch and scipy.

Only the modules that define the layers are imported. The top-level
``__init__`` of each of these packages pulls in training, I/O and logging code
that the layers never use, and some of it cannot be imported here:

- ``rave/__init__`` imports ``rave.pqmf``, which needs ``scipy.signal.kaiser``
  (removed in scipy 1.13), as well as scikit-learn and the Lightning model.
- ``dac/__init__`` imports all of audiotools (tensorboard, rich, argbind, ...)
  and ``dac.nn.loss``.
- ``audiotools/__init__`` and ``audiotools/ml/__init__`` pull in
  ``torch.utils.tensorboard``, rich and randomname.
- ``encodec/__init__`` imports the pretrained-model and file-I/O code.

For each of these, an empty package module that points at the installed
directory goes into ``sys.modules`` (see ``_bare_package``). Python then loads
only the submodules that are asked for, from the real files.

Stubs: each is put in place only if the real import fails.

- ``torchaudio`` stands in for torchaudio itself. No torchaudio build on PyPI
  matches torch 2.13: the newest is 2.11.1, a CUDA build whose extension
  cannot load against torch 2.13+cpu. These modules import it at module level:
  ``rave/blocks.py:10`` (``from torchaudio.transforms import Spectrogram``),
  ``rave/core.py:15``, and audiotools' ``core/util.py``, ``effects.py`` and
  ``loudness.py``. Nothing that the builders construct or run calls it.
  ``EncoderV2``'s ``spectrogram`` argument is unused, and the stub's
  ``Spectrogram`` raises if it is ever instantiated.
- ``pytorch_lightning`` stands in for pytorch-lightning. ``rave.blocks``
  imports ``rave.core`` (for ``amp_to_impulse_response``, ``fft_convolve`` and
  ``mod_sigmoid``), and ``rave.core`` subclasses ``pl.Callback`` and
  ``pl.callbacks.ModelCheckpoint`` at import time (``core.py:516,538``). The
  version that RAVE pins, 1.9.0, imports ``pkg_resources``, which setuptools
  >= 81 no longer ships. The stub provides those two base classes, and they
  raise if instantiated.

``rave.core`` also imports GPUtil, librosa and lmdb at module level. These are
real packages, installed from the requirements file; the layers use none of
them.
"""
import contextlib
import importlib
import importlib.util
import sys
import types
import warnings
from functools import partial

import torch


def _bare_package(name):
    """Register package ``name`` without running its ``__init__``.

    Submodules are still loaded from the installed files. If the package has
    already been imported for real, that module is kept.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"package {name!r} is not installed")
    module = types.ModuleType(name)
    module.__path__ = list(spec.submodule_search_locations)
    module.__spec__ = spec
    module.__file__ = spec.origin
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


@contextlib.contextmanager
def _quiet_deprecations():
    """Silence two deprecation warnings that come from the third-party code.

    All three packages use hook-style ``torch.nn.utils.weight_norm``, which
    the tests need, and it warns once per conv. ``dac/nn/layers.py``
    decorates ``snake`` with ``@torch.jit.script``, which warns on import.
    Without this, a ``-W error`` run would fail in code that we do not own.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.nn\.utils\.weight_norm.*is deprecated",
                                category=FutureWarning)
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*is deprecated",
                                category=DeprecationWarning)
        yield


def _stub_error(what, why):
    return RuntimeError(
        f"{what} is a stub from tests/python/support/thirdparty.py ({why}); "
        f"the test models never call it")


def _stub_module(name, why, **attrs):
    """A module that holds ``attrs``. Any other public attribute raises
    AttributeError, with ``why`` in the message."""
    module = types.ModuleType(name)
    module.__dict__.update(attrs)

    def __getattr__(attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise AttributeError(str(_stub_error(f"{name}.{attr}", why)))

    module.__getattr__ = __getattr__
    sys.modules[name] = module
    return module


def _stub_class(qualname, why):
    def __init__(self, *args, **kwargs):
        raise _stub_error(qualname, why)
    return type(qualname.rpartition(".")[2], (), {"__init__": __init__})


def _real_or_stub(name, make_stub):
    """Import ``name``. If that fails, drop any half-imported submodules and
    install the stub."""
    try:
        importlib.import_module(name)
    except Exception:  # noqa: BLE001 - ImportError, OSError from a .so that cannot load, a warning made an error
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
        make_stub()


def _torchaudio_stub():
    why = "no torchaudio build matches torch 2.13"
    transforms = _stub_module(
        "torchaudio.transforms", why,
        Spectrogram=_stub_class("torchaudio.transforms.Spectrogram", why),
        MelSpectrogram=_stub_class("torchaudio.transforms.MelSpectrogram", why))
    _stub_module("torchaudio", why, transforms=transforms)


def _pytorch_lightning_stub():
    why = "pytorch-lightning 1.9.0 needs pkg_resources, which setuptools>=81 removed"
    callbacks = _stub_module(
        "pytorch_lightning.callbacks", why,
        ModelCheckpoint=_stub_class("pytorch_lightning.callbacks.ModelCheckpoint", why))
    _stub_module("pytorch_lightning", why, callbacks=callbacks,
                 Callback=_stub_class("pytorch_lightning.Callback", why))


_real_or_stub("torchaudio", _torchaudio_stub)

# ---------------------------------------------------------------- RAVE v2
_real_or_stub("pytorch_lightning", _pytorch_lightning_stub)

import cached_conv as cc  # noqa: E402
import gin  # noqa: E402

_bare_package("rave")
# The same registration as rave/__init__.py:15-27. Without it, gin cannot bind
# the cc.* parameters that configs/v1.gin sets.
for _name in ("get_padding", "Conv1d", "ConvTranspose1d"):
    try:
        setattr(cc, _name, gin.get_configurable(f"cc.{_name}"))
    except ValueError:
        setattr(cc, _name, gin.external_configurable(getattr(cc, _name), module="cc"))
import rave.blocks as rave_blocks  # noqa: E402

# What configs/v1.gin (included by v2.gin) sets for the conv stack. These
# bindings are global to gin, and nothing else in the tests uses gin.
gin.parse_config("""
cc.Conv1d.bias = False
cc.ConvTranspose1d.bias = False
blocks.normalization.mode = 'weight_norm'
""")

_RAVE = dict(capacity=4, ratios=[2, 2], latent_size=4, kernel_size=3, dilations=[1, 3])


# RAVE v2's proportions (strides 4-4-4-2, dilations 1-3-9) at a third of its capacity, without
# the PQMF: the size `nnplug bench streaming` measures
RAVE_BENCH = dict(capacity=32, ratios=[4, 4, 4, 2], latent_size=16, kernel_size=3, dilations=[1, 3, 9])


def rave_encoder(snake: bool = False, config: dict = _RAVE):
    """EncoderV2: (B, 1, T) -> (B, 2*latent_size = 8, T/4), the raw mean|scale stack."""
    cc.use_cached_conv(False)  # cc.Conv1d etc. are factories that read this flag when called
    act = {"activation": rave_blocks.Snake} if snake else {}
    with _quiet_deprecations():
        return rave_blocks.EncoderV2(data_size=1, n_out=2, **config, **act).eval()


def rave_generator(snake: bool = False, amplitude_modulation: bool = True, noise: bool = False, config: dict = _RAVE):
    """GeneratorV2: (B, latent_size = 4, L) -> (B, 1, 4L).

    v2.gin sets amplitude_modulation=True. noise=True adds the NoiseGeneratorV2
    of configs/noise.gin, shrunk, which draws ``torch.rand_like``.
    """
    cc.use_cached_conv(False)
    act = {"activation": rave_blocks.Snake} if snake else {}
    kw = dict(data_size=1, amplitude_modulation=amplitude_modulation, **config, **act)
    if noise:
        kw["noise_module"] = partial(rave_blocks.NoiseGeneratorV2, hidden_size=8, data_size=1,
                                     ratios=[2, 2], noise_bands=2, **act)
    with _quiet_deprecations():
        return rave_blocks.GeneratorV2(**kw).eval()


# ---------------------------------------------------------------- DAC
# dac/model/dac.py needs exactly two names from audiotools:
# - ``AudioSignal``, used in annotations and in method bodies;
# - ``ml.BaseModel``, the base class of DAC, which only uses torch.
# Both come from the real audiotools.core and audiotools.ml.layers modules.
# The bare packages leave out tensorboard, rich, argbind and randomname.
_bare_package("audiotools")
_bare_package("audiotools.ml")
import audiotools.core  # noqa: E402
import audiotools.ml.layers  # noqa: E402

sys.modules["audiotools"].AudioSignal = audiotools.core.AudioSignal
sys.modules["audiotools.ml"].BaseModel = audiotools.ml.layers.BaseModel
# dac.nn is left bare because its __init__ imports dac.nn.loss, which needs
# audiotools.STFTParams.
_bare_package("dac")
_bare_package("dac.model")
_bare_package("dac.nn")
with _quiet_deprecations():
    import dac.model.dac as dac_model  # noqa: E402


def dac_encoder():
    """DAC Encoder: (B, 1, T) -> (B, 8, T/8). Channels 4 -> 8 -> 16, strides 2 and 4.

    DAC.__init__ also runs ``init_weights``. With hook-style weight_norm, that
    only zeroes the conv biases, so it is skipped here: random biases keep
    padding mistakes visible.
    """
    with _quiet_deprecations():
        return dac_model.Encoder(d_model=4, strides=[2, 4], d_latent=8).eval()


def dac_decoder():
    """DAC Decoder: (B, 8, L) -> (B, 1, 8L). Channels 16 -> 8 -> 4, rates 4 and 2, tanh at the end."""
    with _quiet_deprecations():
        return dac_model.Decoder(8, 16, [4, 2], d_out=1).eval()


# ---------------------------------------------------------------- EnCodec
# encodec.modules needs only torch, numpy and einops.
_bare_package("encodec")
from encodec.modules.seanet import SEANetDecoder, SEANetEncoder  # noqa: E402

# Defaults kept: norm='weight_norm' and pad_mode='reflect', as in the 24 kHz
# EncodecModel (causal). The 48 kHz model uses time_group_norm, which cannot stream.
_SEANET = dict(channels=1, dimension=8, n_filters=4, ratios=[4, 2])


def seanet_encoder(causal: bool, lstm: int):
    """SEANetEncoder: (B, 1, T) -> (B, 8, ceil(T/8)). lstm is the number of SLSTM layers (0 = none)."""
    with _quiet_deprecations():
        return SEANetEncoder(causal=causal, lstm=lstm, **_SEANET).eval()


def seanet_decoder(causal: bool, lstm: int):
    """SEANetDecoder: (B, 8, L) -> (B, 1, 8L)."""
    with _quiet_deprecations():
        return SEANetDecoder(causal=causal, lstm=lstm, **_SEANET).eval()


INPUT_CHANNELS = {
    "rave_encoder": 1,
    "rave_generator": _RAVE["latent_size"],
    "dac_encoder": 1,
    "dac_decoder": 8,
    "seanet_encoder": _SEANET["channels"],
    "seanet_decoder": _SEANET["dimension"],
}


# ---------------------------------------------------------------- a whole model to export
class RaveBlocksAutoencoder(torch.nn.Module):
    """RAVE v2's encoder and generator as one autoencoder (the encoder's mean as the latent):
    what a RAVE user's trained model is made of, as `nnplug export` takes it."""

    channels = 1

    def __init__(self, config: dict = _RAVE):
        super().__init__()
        self.encoder = rave_encoder(snake=True, config=config)
        self.generator = rave_generator(config=config)
        self.latent_size = config["latent_size"]

    def encode(self, x):
        return self.encoder(x)[:, :self.latent_size]

    def decode(self, z):
        return self.generator(z)

    def forward(self, x):
        return self.decode(self.encode(x))


def rave_autoencoder():
    """`nnplug export thirdparty:rave_autoencoder`: seeded, so every export is the same model."""
    torch.manual_seed(0)
    return RaveBlocksAutoencoder().eval()


def rave_autoencoder_bench():
    """`nnplug bench streaming --models thirdparty:rave_autoencoder_bench` (RAVE_BENCH)."""
    torch.manual_seed(0)
    return RaveBlocksAutoencoder(RAVE_BENCH).eval()
