"""Presets: YAML sources (presets/*.yaml, schema.json) -> checked against the built plugin ->
.vstpreset files and the bundle's factory programs -> distributable packs, installed safely.

    nnplug presets check [DIR]                       # file:line: message for every problem
    nnplug presets build [DIR] --plugin B -o OUT/    # .vstpreset per preset + factory programs in B
    nnplug presets pack [DIR] --plugin B [--with-models] -o PACK.zip
    nnplug presets install PACK.zip [--dest DIR] [--force]
    nnplug presets list [--dest DIR]
"""
from .build import Preset, PresetsInvalid, build, check_dir, plugin_info  # noqa: F401
from .pack import install, installed, make_pack, user_preset_dir  # noqa: F401
from .source import Problem, read_source  # noqa: F401
