"""The run: every signal through the plugin in every host, mode and block size, compared."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from nnplug import contract
from nnplug.contract import Contract
from nnplug.hosts import UNITY, Host, open_host, staged_bundle

from .compare import Row, SettingRow, analytic, compare, compare_settings, played_problems, shifted
from .plan import DEFAULT_BLOCKS, MODES, SETTINGS_BLOCKS, SR, ValidationError, block_label, parse_blocks
from .reference import gain as db_to_gain, reference
from .result import Result
from .signals import Signal, musical, suite, wav_signal


@dataclass
class Played:
    """What the plugin says it played (its status), checked against the contract."""
    n: int                      # the model buffer size N
    latency: int                # what the host reads as the plugin's latency
    problems: List[str] = field(default_factory=list)


def played(host: Host, facts: Contract) -> Played:
    """N, latency and the audio path from the plugin's status after a render, each checked
    against the contract (and the latency against what the host read). When the status cannot
    give N, the contract's N for the buffer-size choice stands in, and the row fails."""
    reported = host.reported_latency()
    choice = host.get_param("buffer_size")
    try:
        status = host.status()
    except Exception as e:  # noqa: BLE001  (a plugin without a readable status fails the row)
        return Played(contract.buffer_size(choice, facts.ratio), reported, [f"no plugin status: {e}"])
    problems = played_problems(status, facts, choice, reported)
    n = status.buffer_size if status.buffer_size > 0 else contract.buffer_size(choice, facts.ratio)
    return Played(n, reported, problems)


def render(host: Host, x: np.ndarray, block, seed: Optional[int] = None) -> Tuple[np.ndarray, float]:
    """The output, and the seconds the processing took (where the host can tell, without the
    plugin's load: DawDreamer builds an instance per render)."""
    host.last_seconds = None
    t0 = time.time()
    y = host.render(x, block, seed=seed)
    return y, host.last_seconds if host.last_seconds is not None else time.time() - t0


def determinism(facts: Contract, signal: Signal, seed: Optional[int] = None) -> Tuple[bool, str]:
    """Is bit identity claimable? The file's word (or, for a stochastic file, a seed: the plugin
    draws from the generator validate seeds before each render), confirmed by two fresh runs;
    and the sentence that says what was checked."""
    probe = signal.audio[:, : 8 * contract.buffer_size("Auto", facts.ratio)]
    n0 = contract.buffer_size("Auto", facts.ratio)
    seeded = not facts.deterministic and seed is not None
    claimed = facts.deterministic or seeded
    s = seed if seeded else None
    repeats = claimed and np.array_equal(reference(facts, probe, n0, seed=s), reference(facts, probe, n0, seed=s))
    if repeats and seeded:
        statement = (f"stochastic model ({facts.format}) at seed {seed}: bit-identity required (np.array_equal) at "
                     "unity settings, torch's generator seeded before each render")
    elif repeats:
        statement = "deterministic model: bit-identity required (np.array_equal) at unity settings"
    elif claimed:
        statement = (f"model {'at seed ' + str(seed) if seeded else 'claims to be deterministic'} but two fresh runs "
                     "differ: bit-identity not claimable; checked finite, not silent, length and latency")
    else:
        statement = (f"stochastic model ({facts.format}): bit-identity not claimed without --seed; checked that the "
                     "output is finite, not silent, of the right length and latency")
    return repeats, statement


def run_validate(plugin: Union[str, Path], model: Union[str, Path], *, hosts: Sequence[str] = ("pedalboard", "dawdreamer"),
                 blocks: Sequence[Any] = (*DEFAULT_BLOCKS, "changing"), modes: Sequence[str] = MODES,
                 inputs: Sequence[Union[str, Path]] = (), sample_rate: int = SR, long_signal: bool = True,
                 settings: bool = True, reference_hook: Optional[Callable[[str, np.ndarray], np.ndarray]] = None,
                 keep_plots: bool = False, seed: Optional[int] = None, method: str = "Auto",
                 log: Callable[[str], None] = print) -> Result:
    """Render every signal through the plugin in every host, mode and block size; compare.
    `seed`: torch's generator seeded before each render and each reference stream (what makes a
    stochastic file comparable bit for bit); `method`: the "Model method" parameter."""
    t_start = time.time()
    model = Path(model)
    if not model.is_file():
        raise ValidationError(f"model not found: {model}")
    try:
        facts = contract.with_method(contract.read(model), method)
    except contract.ContractError as e:
        raise ValidationError(str(e)) from e
    facts = with_played_delay(facts, sample_rate)
    blocks = parse_blocks(blocks)
    signals = [suite(sample_rate)]
    if long_signal:
        signals.append(musical(sample_rate))
    signals += [wav_signal(p, sample_rate) for p in inputs]

    deterministic, statement = determinism(facts, signals[0], seed)
    ref_seed = seed if not facts.deterministic else None
    log(f"model {facts.name} ({facts.format}): ratio {facts.ratio}, delay {facts.delay}"
        f"{'' if facts.delay_known else ' (unknown, counted as 0)'}, path "
        f"{'encode>decode' if facts.latent_path else 'forward'}; {statement}")

    refs: Dict[Tuple[str, int, str], np.ndarray] = {}
    rows: List[Row] = []
    setting_rows: List[SettingRow] = []
    plots: Dict[str, Any] = {}

    def get_ref(sig: Signal, n: int, mono: str, extra: int, gain: Optional[float] = None,
                prefix: int = 0) -> np.ndarray:
        # prefix: silent samples the host plays into the plugin's stream before the signal (a
        # DAW's export pre-roll, Host.stream_prefix): the reference runs on the same stream and
        # drops them, so that it lines up with the signal as for the Python hosts.
        key = (sig.name, n, mono, gain, prefix)
        if key not in refs or refs[key].shape[1] < sig.audio.shape[1] + extra:
            x = sig.audio if gain is None else (sig.audio * db_to_gain(gain)).astype(np.float32)
            if prefix:
                x = np.concatenate([np.zeros((x.shape[0], prefix), np.float32), x], axis=1)
            r = reference(facts, x, n, mono, total=prefix + sig.audio.shape[1] + extra, seed=ref_seed)[:, prefix:]
            if reference_hook is not None and gain is None:
                r = reference_hook(sig.name, r)
            refs[key] = r
        return refs[key]

    with staged_bundle(plugin, model) as bundle:
        for hname in hosts:
            try:
                host = open_host(hname, bundle, sample_rate)
            except ImportError as e:
                raise ValidationError(f"host {hname} is not installed ({e}); pip install 'nnplug[hosts]'") from e
            host.set_params(UNITY)
            host.set_param("model_method", method)
            if not host.supports_block_sequence and any(not isinstance(b, int) for b in blocks):
                log(f"{hname}: no changing block-size sequence (it renders at one fixed block size)")
            for mode in modes:
                try:
                    host.set_param("inference_mode", mode)
                except ValueError as e:   # a DAW that shows no control for it (hosts/ardour.py)
                    log(f"{hname}: {mode} not rendered: {e}")
                    continue
                mono = str(host.get_param("mono_mode"))
                for b in blocks:
                    if not isinstance(b, int) and not host.supports_block_sequence:
                        continue
                    for sig in signals:
                        if sig.blocks is not None and block_label(b) not in [block_label(v) for v in sig.blocks]:
                            continue
                        y, secs = render(host, sig.audio, b, ref_seed)
                        p = played(host, facts)
                        ref = get_ref(sig, p.n, mono, p.latency + 2 * p.n,
                                      prefix=host.stream_prefix(p.latency, b) if isinstance(b, int) else 0)
                        row = compare(host, mode, b, sig, y, ref, facts, p.n, p.latency, secs, deterministic)
                        if p.problems:
                            row.ok = False
                            row.notes += p.problems
                        rows.append(row)
                        if keep_plots and sig.name == "suite" and (
                                (not row.ok and f"{hname}-fail" not in plots) or
                                (block_label(b) == "512" and mode == modes[0])):
                            c = p.latency if host.compensates_latency else 0
                            plots[f"{hname}-fail" if not row.ok else hname] = {
                                "title": f"{hname}, {mode}, block {block_label(b)}, suite",
                                "reference": shifted(ref, c - p.latency + row.model_delay, y.shape[1]),
                                "plugin": y, "sr": sample_rate}
                        if not row.ok:
                            log(f"  MISMATCH {hname} {mode} block {row.block} {sig.name}: "
                                f"max |diff| {row.max_abs_diff:.3g}, first {row.first_diff}, {'; '.join(row.notes)}")
            try:
                host.set_param("inference_mode", modes[0] if modes else "Synchronous")
            except ValueError:
                pass   # a host that plays the default mode only (hosts/ardour.py)
            if settings and deterministic and facts.delay_known:
                setting_rows += check_settings(host, facts, signals[0], get_ref, ref_seed,
                                               blocks=getattr(host, "SETTINGS_BLOCKS", SETTINGS_BLOCKS))
            host.set_params(UNITY)
            for abort in getattr(host, "aborts", []):   # hosts/ardour.py: Ardour's own aborts
                log(f"{hname}: note: {abort}")
            host.close()
    return Result(asdict(facts), rows, setting_rows, deterministic, statement, time.time() - t_start, plots)


def with_played_delay(facts: Contract, sample_rate: float) -> Contract:
    """The contract with the played path's delay when the file does not state it: measured by the
    plugin's rule (remembered by the file's sha256), or asked of a Neutone file at this rate and
    the Auto buffer. The plugin's status must then count the same delay."""
    import dataclasses

    from nnplug.player import ModelPlayer, file_delay
    if facts.delay_known:
        return facts
    if facts.format == "neutone":
        player = ModelPlayer(facts.path, facts)
        player.prepare(sample_rate, contract.buffer_size("Auto", facts.ratio))
        delay = player.delay()
    else:
        delay = file_delay(facts.path, facts)["delay"]
    return facts if delay is None else dataclasses.replace(facts, delay=int(delay), delay_known=True)


def check_settings(host: Host, facts: Contract, sig: Signal, get_ref, seed: Optional[int] = None,
                   blocks: Sequence[int] = SETTINGS_BLOCKS) -> List[SettingRow]:
    """Output gain, dry/wet and input gain against their analytic result from the reference."""
    out: List[SettingRow] = []
    x = sig.audio
    cases = [("output_gain=-6 dB", {"output_gain": -6.0}),
             ("dry_wet=50 %", {"dry_wet": 50.0}),
             ("dry_wet=25 %, output_gain=+3 dB", {"dry_wet": 25.0, "output_gain": 3.0}),
             ("input_gain=+6 dB", {"input_gain": 6.0})]
    for block in blocks:
        for label, values in cases:
            host.set_params(UNITY)
            host.set_params(values)
            mono = str(host.get_param("mono_mode"))
            settle(host)
            y = host.render(x, block, seed=seed)
            p = played(host, facts)
            L = p.latency
            c = L if host.compensates_latency else 0
            ref = get_ref(sig, p.n, mono, L + 2 * p.n, values.get("input_gain"), prefix=host.stream_prefix(L, block))
            row = compare_settings(y, analytic(ref, x, values, c - L, facts.delay), host.name, block, label)
            row.ok = row.ok and not p.problems
            out.append(row)
    host.set_params(UNITY)
    settle(host)
    return out


def settle(host: Host) -> None:
    """Let a parameter change take effect before a render: the engine ramps gain and mix over
    the first block after a change (no zipper noise), which is not part of the analytic result.
    pedalboard keeps one instance, so it renders one silent block first; DawDreamer builds a
    fresh instance per render with the values applied before the first block."""
    if host.keeps_instance:
        host.render(np.zeros((2, 4096), np.float32), 4096)

