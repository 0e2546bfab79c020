"""nnplug: streamable neural audio models as real audio plugins."""

__version__ = "0.1.0"
