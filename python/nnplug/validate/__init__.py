"""Offline validation: the built plugin, rendered in real hosts, against the same TorchScript
model run in Python in streaming mode.

    plan        what runs: host block sizes, modes, sample rate, tolerances
    signals     the test signals (made in code, or WAV files)
    reference   the model run in Python exactly as the plugin runs it
    compare     one render against the reference (alignment, bit identity, latency), and
                what the plugin's status says it played against the contract
    run         every signal through every host, mode and block size; the settings checks
    result      rows and verdict;  report: the terminal table, report.json, index.html
                (templates/report.html)

At unity settings a deterministic model must come out bit-identical (np.array_equal).
Output gain, dry/wet and input gain are checked against their analytic result from the same
reference, to float rounding. N, the latency and the audio path are what the plugin's status
says it played, checked against the model's contract, not recomputed.
"""
from __future__ import annotations

from .compare import Row, SettingRow, compare, first_difference, measure_shift, played_problems, shifted
from .plan import (CHANGING, DEFAULT_BLOCKS, EPS32, LONG_BLOCKS, MODES, SETTINGS_BLOCKS, SETTINGS_ULPS, SR,
                   ValidationError, block_label, parse_blocks)
from .reference import gain, reference
from .report import format_table, write_report
from .result import Result, table_rows
from .run import check_settings, run_validate, settle
from .signals import Signal, musical, suite, wav_signal

__all__ = ["CHANGING", "DEFAULT_BLOCKS", "EPS32", "LONG_BLOCKS", "MODES", "SETTINGS_BLOCKS", "SETTINGS_ULPS", "SR",
           "Result", "Row", "SettingRow", "Signal", "ValidationError", "block_label", "check_settings", "compare",
           "first_difference", "format_table", "gain", "measure_shift", "musical", "parse_blocks", "played_problems",
           "reference", "run_validate", "settle", "shifted", "suite", "table_rows", "wav_signal", "write_report"]
