"""nnplug: streamable neural audio models as real audio plugins."""

__version__ = "0.1.0"


def __getattr__(name):
    # `nnplug.export.export(...)`, `nnplug.describe...` after a bare `import nnplug`, without
    # importing torch at package import
    if name in ("export", "describe", "models"):
        import importlib
        return importlib.import_module(f"nnplug.{name}")
    raise AttributeError(f"module 'nnplug' has no attribute {name!r}")
