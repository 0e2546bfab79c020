"""Ardour 7, headless: each render is a real Ardour session, exported offline.

Ardour runs without a display or a sound card through its Lua session tool, `ardour7-lua`
(Debian package `ardour`, installed by `scripts/setup.sh --daw`), on its "None (Dummy)"
audio backend. A render:

    1. a new session at the host's sample rate: one stereo audio track into the master bus,
       its panner bypassed, nnplug first on it (lua/ardour_new_session.lua; made once per host
       and copied per render);
    2. the input written as the session's audio files (32-bit float, one mono file per
       channel, as Ardour records them) and placed as one region at the session's start;
       the region's fades are off, so Ardour plays the samples as they are;
    3. a fresh Ardour process opens the session at the given buffer size, sets the plugin's
       parameters (and an automation lane), saves the session and exports the session range
       with the float-WAV preset below (freewheel) (lua/ardour_render.lua).

What Ardour does to the signal, and what it does not: faders at 0 dB multiply by exactly 1;
no panner (bypassed), no dither, no normalisation; the export is the master bus, 32-bit float
at the session rate. Ardour compensates the plugin's reported latency (its export starts
rolling `ceil(latency / block) * block` samples early and drops them), so the export lines
up with its input, like pedalboard's output. Checked with the plugin's dry path (dry/wet 0):
the export equals the input bit for bit.

The plugin restarts its stream where the transport starts rolling in an offline render
(PluginProcessor.cpp). In an export that is the first sample of Ardour's latency pre-roll,
`pre_roll(latency)` samples of silence (the timeline before the region) ahead of the input:
the plugin plays `zeros(pre_roll) ++ input`, which `stream_prefix()` tells validate.

Everything Ardour writes (configuration, plugin cache, sessions) lives in a private directory
(its HOME): the user's Ardour set-up is neither read nor changed.

The VST3 or the LV2 (`plugin_format`, by default from the bundle's suffix). Ardour finds LV2
plugins with lilv at every start, on LV2_PATH (no scan, no cache): the host's private LV2_PATH
holds only a link to the bundle. JUCE's LV2 has no control ports for its parameters: they are
LV2 properties (patch:writable), which Ardour shows as property controls in the plugin's own
units, found by their URI (`<plugin URI>:<parameter id>`), not by a port index. Its state is
an LV2 state file in the session (plugins/<processor id>/<state dir>/state.ttl) holding the
plugin's own state as one string property (JUCE base64).
"""
from __future__ import annotations

import base64
import os
import re
import shutil
import struct
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from nnplug.errors import UserError

from nnplug.contract import MAX_CONTROLS

from . import BlockSpec, Host, Timing, param

LUA_DIR = Path(__file__).with_name("lua")
ARDOUR_LUA = "ardour7-lua"
ARDOUR_LIB = Path("/usr/lib/ardour7")
VST3_UID = "ABCDEF019182FAEB4E6E706C4E6E7031"   # the VST3 class ID of nnplug (JUCE, from the plugin code)
LV2_URI = "https://github.com/nnplug/nnplug"      # the LV2's URI (its manifest.ttl)
# JUCE's LV2 wrapper keeps the plugin's getStateInformation as this string property (JUCE base64)
LV2_STATE_KEY = LV2_URI + ":StateString"
FORMATS = ("vst3", "lv2")
TRACK = "nnplug"
SESSION = "nnplug"
# Ardour 7 counts time in superclock ticks: 282 240 000 per second (temporal/superclock.h).
SUPERCLOCK = 282_240_000
RETRIES = 4   # an export ardour7-lua aborted is played again at most this many times (see export)
INSTALL_HINT = "install it with `scripts/setup.sh --daw` (Debian package `ardour`, 7.x)"
# The export: 32-bit float WAV at the session rate, no dither, no normalisation, no silence
# trimmed or added, no tags. Ardour reads these from its configuration's export folder.
FORMAT_ID = "6e6e706c-7567-4000-8000-000000000001"
PRESET_ID = "6e6e706c-7567-4000-8000-000000000002"
EXPORT_FORMAT = f"""<?xml version="1.0" encoding="UTF-8"?>
<ExportFormatSpecification name="nnplug float WAV" id="{FORMAT_ID}" with-cue="false" with-toc="false"
  with-mp4chaps="false" command="" analyse="false" soundcloud-upload="false">
  <Encoding id="F_WAV" type="T_Sndfile" extension="wav" name="WAV" has-sample-format="true" channel-limit="256"/>
  <SampleRate rate="1"/>
  <SRCQuality quality="SRC_SincBest"/>
  <EncodingOptions>
    <Option name="sample-format" value="SF_Float"/>
    <Option name="dithering" value="D_None"/>
    <Option name="tag-metadata" value="false"/>
    <Option name="tag-support" value="false"/>
    <Option name="broadcast-info" value="false"/>
  </EncodingOptions>
  <Processing>
    <Normalize enabled="false" loudness="no" dbfs="0" lufs="-23" dbtp="-1"/>
    <Silence>
      <Start><Trim enabled="false"/><Add enabled="false"><Duration format="Timecode" hours="0" minutes="0"
        seconds="0" frames="0"/></Add></Start>
      <End><Trim enabled="false"/><Add enabled="false"><Duration format="Timecode" hours="0" minutes="0"
        seconds="0" frames="0"/></Add></End>
    </Silence>
  </Processing>
</ExportFormatSpecification>
"""
EXPORT_PRESET = f"""<?xml version="1.0" encoding="UTF-8"?>
<ExportPreset id="{PRESET_ID}" name="nnplug float WAV">
  <ExportFormat id="{FORMAT_ID}"/>
  <ExportFilename>
    <Folder relative="0" path=""/>
    <Field name="label" enabled="0"/>
    <Field name="session" enabled="1"/>
    <Field name="snapshot" enabled="0"/>
    <Field name="timespan" enabled="0"/>
    <Field name="revision" enabled="0"/>
    <Field name="time" enabled="0" value="T_None"/>
    <Field name="date" enabled="0" value="D_None"/>
  </ExportFilename>
</ExportPreset>
"""
# The plugin parameters Ardour lists (the automatable ones), in the order it numbers them.
# The others (buffer_size, inference_mode, mono_mode) are not automatable, so Ardour shows no
# control for them: the host writes them into the plugin's state in the session.
ARDOUR_PARAMS = ["input_gain", "output_gain", "dry_wet", "on_failure",
                 *[f"model_control_{i}" for i in range(1, MAX_CONTROLS + 1)],
                 *[f"latent_{kind}_{i}" for i in range(1, 9) for kind in ("scale", "bias")]]


class ArdourMissing(UserError):
    """ardour7-lua is not installed."""


class ArdourError(UserError):
    """Ardour ran but did not render (its own words in the message)."""


class ArdourAbort(ArdourError):
    """ardour7-lua died (a signal, a heap error) before the script's work was done."""


def find_ardour() -> str:
    """The path of ardour7-lua; ArdourMissing (one line, how to install it) when absent."""
    exe = shutil.which(ARDOUR_LUA)
    if exe is None:
        raise ArdourMissing(f"Ardour is not installed ({ARDOUR_LUA} not found): {INSTALL_HINT}")
    return exe


def ardour_version() -> str:
    """`ardour-lua version 7.3.0...`: the first line of `ardour7-lua --version`."""
    out = subprocess.run([find_ardour(), "--version"], capture_output=True, text=True, timeout=60)
    return (out.stdout.strip().splitlines() or ["?"])[0]


def pre_roll(latency: int, block: int) -> int:
    """Samples of silence the plugin plays, from its stream start, before the input reaches it
    in an Ardour export: Ardour starts rolling the worst route latency rounded up to whole
    blocks early, and plays the timeline from `latency` samples ahead of what it exports."""
    return -(-int(latency) // int(block)) * int(block) - int(latency)


def superclock(samples: int, rate: int) -> int:
    ticks, rest = divmod(int(samples) * SUPERCLOCK, int(rate))
    if rest:
        raise ValueError(f"Ardour cannot place sample {samples} at {rate} Hz on its time grid exactly")
    return ticks


class ArdourHost(Host):
    name = "ardour"
    compensates_latency = True
    supports_block_sequence = False   # Ardour's buffer size is fixed while a session plays
    keeps_instance = False            # a fresh Ardour process (and plugin instance) per render
    BLOCKS = (64, 256, 1024)          # the buffer sizes `validate --host ardour` renders at
    SETTINGS_BLOCKS = (256,)          # and its settings checks (validate.run.check_settings)

    def __init__(self, bundle: Union[str, Path], sample_rate: float = 44100.0, plugin_format: Optional[str] = None):
        super().__init__(bundle, sample_rate)
        if float(sample_rate) != int(sample_rate):
            raise ValueError(f"Ardour sessions run at a whole number of Hz, not {sample_rate}")
        self.format = (plugin_format or ("lv2" if self.bundle.suffix == ".lv2" else "vst3")).lower()
        if self.format not in FORMATS:
            raise ValueError(f"Ardour plays nnplug's VST3 or LV2, not {plugin_format!r}")
        self.exe = find_ardour()
        self._tmp = tempfile.TemporaryDirectory(prefix="nnplug-ardour-")
        self.root = Path(self._tmp.name)
        self.home = self.root / "home"
        self._values: Dict[str, Union[float, str]] = {}
        self._automation: Optional[Tuple[str, List[Tuple[int, float]]]] = None
        self._latency: Optional[int] = None
        self._state: Optional[bytes] = None
        self._template: Optional[Path] = None
        self._renders = 0
        self._exports = 0
        self.last_session: Optional[Path] = None   # the session dir of the last render (kept until close)
        self.last_log = ""
        self.last_block: Optional[int] = None
        self.aborts: List[str] = []   # ardour7-lua's own aborts, each said (see _run and export)
        self._prepare_home()

    # -- set-up -------------------------------------------------------------------------------
    def _env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / ".config"),
                   XDG_CACHE_HOME=str(self.home / ".cache"), XDG_DATA_HOME=str(self.home / ".local" / "share"))
        # one intra-op thread, as everywhere in nnplug's renders (the plugin sets its own anyway)
        env.setdefault("OMP_NUM_THREADS", "1")
        if self.format == "lv2":   # lilv reads LV2_PATH at Ardour's start: only this bundle
            env["LV2_PATH"] = str(self.home / ".lv2")
        return env

    def _prepare_home(self) -> None:
        """A private Ardour configuration: the export preset, and the bundle: a VST3 in its
        ~/.vst3, scanned into its plugin cache (ardour-vst3-scanner; ardour7-lua only reads the
        cache); an LV2 in the folder its LV2_PATH names (lilv finds it at each start)."""
        export = self.home / ".config" / "ardour7" / "export"
        export.mkdir(parents=True)
        (export / "nnplug-float-wav.format").write_text(EXPORT_FORMAT)
        (export / "nnplug-float-wav.preset").write_text(EXPORT_PRESET)
        if self.format == "lv2":
            if not (self.bundle / "manifest.ttl").is_file():
                raise ArdourError(f"{self.bundle} is not an LV2 bundle (no manifest.ttl)")
            lv2 = self.home / ".lv2"
            lv2.mkdir(parents=True)
            os.symlink(self.bundle.resolve(), lv2 / self.bundle.name)
            return
        vst3 = self.home / ".vst3"
        vst3.mkdir(parents=True)
        os.symlink(self.bundle.resolve(), vst3 / self.bundle.name)
        scanner = ARDOUR_LIB / "ardour-vst3-scanner"
        if not scanner.exists():
            raise ArdourMissing(f"Ardour's VST3 scanner is missing ({scanner}): {INSTALL_HINT}")
        env = self._env()
        env["LD_LIBRARY_PATH"] = str(ARDOUR_LIB) + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        done = subprocess.run([str(scanner), "-f", str(vst3 / self.bundle.name)], env=env, capture_output=True,
                              text=True, timeout=300)
        if done.returncode != 0 or not list((self.home / ".cache" / "ardour7" / "vst").glob("*.v3i")):
            raise ArdourError(f"Ardour's VST3 scanner did not index {self.bundle}:\n{(done.stdout + done.stderr)[-2000:]}")

    def _run(self, script: str, args: List[str], env_extra: Dict[str, str], timeout: float = 900,
             finished: Optional[Callable[[], bool]] = None) -> str:
        """Run a Lua script in ardour7-lua; its output. `finished()` says whether the script's
        work is done (its milestones file). ardour7-lua 7.3 aborts now and then with a heap
        error ("free(): invalid size", "corrupted size vs. prev_size", SIGSEGV in malloc) after
        an export, also with no plugin on the track (2 aborts in 12 exports of a plugin-less
        session, each after the export was written). Such an abort after the work is done is
        counted in `aborts` (validate says so), not hidden; one before raises ArdourAbort
        (which `export` retries, counting it too)."""
        env = self._env()
        env.update(env_extra)
        cmd = [self.exe, str(LUA_DIR / script), *args]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        log = done.stdout + done.stderr
        self.last_log = log
        # ardour7-lua exits 0 after a failed script: its "Error:" line is the verdict
        errors = [ln for ln in log.splitlines() if ln.startswith("Error:")]
        if errors:
            raise ArdourError(f"Ardour failed ({script}): {errors[0]}")
        if done.returncode != 0:
            if finished is not None and finished():
                self.aborts.append(f"{script}: exit {done.returncode} after its work was done: "
                                   f"{log.strip().splitlines()[-1] if log.strip() else ''}")
            else:
                raise ArdourAbort(f"Ardour aborted ({script}, exit {done.returncode}) before its work was done: "
                                  f"{log.strip().splitlines()[-1] if log.strip() else ''}")
        return log

    def _new_session(self) -> Path:
        """The session without audio (the track, nnplug on it at its defaults), made once and
        copied per render."""
        if self._template is None:
            parent = self.root / "template"
            parent.mkdir()
            plugin_id = LV2_URI if self.format == "lv2" else VST3_UID
            self._run("ardour_new_session.lua",
                      [str(parent / SESSION), SESSION, str(int(self.sample_rate)), plugin_id, self.format.upper()], {})
            self._template = parent / SESSION
        self._renders += 1
        dest = self.root / f"render-{self._renders}" / SESSION
        shutil.copytree(self._template, dest, symlinks=True)
        return dest

    # -- parameters ----------------------------------------------------------------------------
    def set_param(self, pid: str, value) -> None:
        """Automatable parameters go through Ardour's controls; the others (buffer_size,
        inference_mode, mono_mode: Ardour shows no control for them) into the plugin's state in
        the session, which the plugin restores when Ardour loads it, as from any saved project."""
        self._values[pid] = param(pid).check(value)

    def get_param(self, pid: str) -> Union[float, str]:
        p = param(pid)
        return self._values.get(pid, p.default)

    def parameter_names(self) -> List[str]:
        """The plugin parameters the last render's session lists (Ardour's controls); for the
        LV2 its property controls, by parameter id (their names are `property-<URI>:<id>`)."""
        if self.last_session is None:
            raise RuntimeError("render once first: Ardour lists the parameters of a plugin in a session")
        proc = _plugin_processor(self.last_session)
        names = [c.get("name") for c in proc.findall("Controllable")]
        if proc.get("type") == "lv2":
            prefix = f"property-{LV2_URI}:"
            return [n[len(prefix):] for n in names if n.startswith(prefix)]
        return names

    def set_automation(self, pid: str, points: Optional[List[Tuple[int, float]]]) -> None:
        """An automation lane for `pid` in the next renders: (sample, value in the parameter's
        units) points, linear between them (Ardour's default for plugin parameters), played.
        None removes it."""
        if points is None:
            self._automation = None
            return
        p = param(pid)
        if pid not in ARDOUR_PARAMS or p.is_choice:
            raise ValueError(f"{pid}: Ardour automates the continuous plugin parameters only")
        if self.format == "lv2":
            # the LV2's parameters are property controls (see the module docstring); their
            # automation lanes are not driven from here yet
            raise ArdourError(f"{pid}: automation lanes not yet for the LV2 in Ardour (the VST3 has them)")
        self._automation = (pid, [(int(t), float(p.check(v))) for t, v in points])

    def load_preset(self, path: Union[str, Path]) -> None:
        raise ArdourError("presets are not loaded in the Ardour host yet: set parameters with --param")

    # -- rendering -----------------------------------------------------------------------------
    def render(self, x: np.ndarray, block: BlockSpec, progress=None, seed: Optional[int] = None) -> np.ndarray:
        if seed is not None:
            raise ArdourError("Ardour plays the plugin in a process of its own: its torch generator cannot be "
                              "seeded from here (--seed works in pedalboard and DawDreamer)")
        if not isinstance(block, (int, np.integer)):
            raise ValueError("Ardour renders at one buffer size (a session's block size is fixed while it plays)")
        x = np.ascontiguousarray(x, dtype=np.float32)
        session = self._new_session()
        embed_signal(session, x, int(self.sample_rate))
        structural = {k: str(float(param(k).choices.index(v))) for k, v in self._values.items()
                      if k not in ARDOUR_PARAMS}
        if structural:   # <PARAM id=.. value=..>: a choice is stored as its index
            from .status import with_state_fields
            set_session_plugin_state(session, with_state_fields(session_plugin_state(session), params=structural))
        y = self.export(session, int(block), apply_params=True, save=True)
        if not np.any(y) and np.any(x):
            # never retried: a silent export is a failure to look at (see ardour_render.lua)
            raise ArdourError(f"Ardour exported silence for a non-silent input (session {session})")
        if progress is not None:
            progress(x.shape[1])
        return y[:, :x.shape[1]]

    def rerender(self, block: Optional[int] = None) -> np.ndarray:
        """The last render's session (saved, with the plugin and its state) opened again in a
        fresh Ardour process and exported again as saved; saved again after (the plugin's
        status then says what it loaded this time)."""
        if self.last_session is None:
            raise RuntimeError("nothing rendered yet")
        return self.export(self.last_session, int(block or self.last_block), apply_params=False, save=True)

    def edit_saved_state(self, **attrs: str) -> None:
        """Change attributes of the plugin's state (<NNPLUG model_path=.. model_sha256=..>) in the
        last render's saved session, as another machine or a moved file would leave it."""
        from .status import with_state_fields
        set_session_plugin_state(self.last_session, with_state_fields(session_plugin_state(self.last_session), **attrs))

    def export(self, session: Path, block: int, apply_params: bool, save: bool) -> np.ndarray:
        """Open `session` in a fresh Ardour process at buffer size `block` and export it; with
        `apply_params`, the parameters and automation set here first (else as saved)."""
        from nnplug.audio import read_wav
        self._exports += 1
        out = session.parent / f"export-{self._exports}-block-{block}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        env = {"NNPLUG_SAVE": "1" if save else "0",
               "NNPLUG_PARAMS": self._params_spec() if apply_params else "",
               "NNPLUG_AUTOMATION": self._automation_spec() if apply_params else ""}
        import time
        t0 = time.perf_counter()
        progress = out / "nnplug-progress.txt"

        def milestones() -> List[str]:
            return progress.read_text().splitlines() if progress.exists() else []

        # ardour7-lua 7.3 sometimes aborts in or after an export (see _run), also with no plugin
        # on the track. An export it aborted is played again from the same saved session, at
        # most RETRIES times; each abort is kept in `aborts` and validate prints them.
        # Retrying hides nothing about the plugin: the render that completes is compared bit
        # for bit like any other.
        for attempt in range(RETRIES + 1):
            try:
                self._run("ardour_render.lua", [str(session), SESSION, str(block), str(out)], env,
                          finished=lambda: "exported" in milestones() and (not save or "saved" in milestones()))
                break
            except ArdourAbort as e:
                self.aborts.append(f"export {self._exports}, attempt {attempt + 1}: {e}")
                if attempt == RETRIES:
                    raise
                shutil.rmtree(out)
                out.mkdir()
        self.last_seconds = time.perf_counter() - t0
        info = _report(milestones())
        if info.get("block") != block:
            raise ArdourError(f"Ardour played at buffer size {info.get('block')}, not {block}")
        if info.get("rate") != int(self.sample_rate):
            raise ArdourError(f"Ardour's session runs at {info.get('rate')} Hz, not {int(self.sample_rate)}")
        self._latency = info["latency"]
        self.last_session, self.last_block = session, block
        if save:
            self._state = session_plugin_state(session)
        wavs = sorted(out.glob("*.wav"))
        if len(wavs) != 1:
            raise ArdourError(f"Ardour's export wrote {len(wavs)} WAV files in {out}, expected one")
        import warnings
        with warnings.catch_warnings():   # Ardour's float WAVs carry a PEAK chunk scipy does not read
            warnings.filterwarnings("ignore", message="Chunk \\(non-data\\) not understood")
            y, rate = read_wav(wavs[0])
        if rate != int(self.sample_rate):
            raise ArdourError(f"Ardour exported at {rate} Hz, not {int(self.sample_rate)}")
        return y

    def _params_spec(self) -> str:
        """The automatable parameters set here, for ardour_render.lua: the VST3's by control
        index, normalized (0..1); the LV2's by property URI, in the parameter's own units (a
        choice as its index), as Ardour's property controls take them."""
        values = {k: v for k, v in self._values.items() if k in ARDOUR_PARAMS}
        if self.format == "lv2":
            def plain(k: str, v) -> float:
                return float(param(k).choices.index(v)) if param(k).is_choice else float(v)
            return ";".join(f"{LV2_URI}:{k}={plain(k, v)!r}" for k, v in values.items())
        return ";".join(f"{ARDOUR_PARAMS.index(k)}={param(k).normalized(v)!r}" for k, v in values.items())

    def _automation_spec(self) -> str:
        if self._automation is None:
            return ""
        pid, points = self._automation
        p = param(pid)
        return f"{ARDOUR_PARAMS.index(pid)}:" + ",".join(f"{t}={p.normalized(v)!r}" for t, v in points)

    def timed_render(self, x: np.ndarray, block: int) -> Tuple[np.ndarray, Timing]:
        raise NotImplementedError("the Ardour host times whole Ardour processes, not the processing alone")

    def reported_latency(self) -> int:
        if self._latency is None:
            raise RuntimeError("Ardour reads the plugin's latency in a session: render once first")
        return int(self._latency)

    def stream_prefix(self, latency: int, block: int) -> int:
        """Silent samples the plugin plays from its stream start before the input (pre_roll)."""
        return pre_roll(latency, block)

    @property
    def raw_state(self) -> bytes:
        """The plugin's own state as the last render's saved session holds it."""
        if self._state is None:
            raise RuntimeError("no saved session yet: render once first")
        return self._state

    def close(self) -> None:
        self._tmp.cleanup()


# -- the session file ---------------------------------------------------------------------------
def _report(milestones: List[str]) -> Dict[str, Union[int, str]]:
    """The render script's report line (block=.. rate=.. latency=..) as numbers."""
    for line in milestones:
        if line.startswith("block="):
            return {k: int(float(v)) if re.fullmatch(r"-?[\d.]+", v) else v
                    for k, v in (kv.split("=", 1) for kv in line.split())}
    raise ArdourError(f"Ardour's render script did not report (milestones: {milestones})")


def _session_file(session: Path) -> Path:
    return session / f"{SESSION}.ardour"


def _nnplug_processors(root: ET.Element) -> List[ET.Element]:
    """nnplug's processors in a session: its VST3 or its LV2."""
    return [p for p in root.iter("Processor")
            if (p.get("type"), p.get("unique-id")) in (("vst3", VST3_UID), ("lv2", LV2_URI))]


def _plugin_processor(session: Path) -> ET.Element:
    procs = _nnplug_processors(ET.parse(_session_file(session)).getroot())
    if len(procs) != 1:
        raise ArdourError(f"the session holds {len(procs)} nnplug instances, expected one")
    return procs[0]


_LV2_STATE = re.compile(r'(<' + re.escape(LV2_STATE_KEY) + r'>\s*")([^"\\]*)(")')


def _lv2_state_file(session: Path, proc: ET.Element) -> Path:
    """The LV2 state file Ardour saved for the plugin: plugins/<processor id>/<state dir>/state.ttl
    (Ardour writes a new state dir whenever the state changed since the last save)."""
    lv2 = proc.find("lv2")
    if lv2 is None or not lv2.get("state-dir"):
        raise ArdourError("the saved session holds no LV2 state for the plugin")
    path = session / "plugins" / proc.get("id") / lv2.get("state-dir") / "state.ttl"
    if not path.is_file():
        raise ArdourError(f"the saved session's LV2 state file is missing: {path}")
    return path


def _lv2_state_match(path: Path) -> "re.Match[str]":
    m = _LV2_STATE.search(path.read_text())
    if m is None:
        raise ArdourError(f"the LV2 state {path} holds no {LV2_STATE_KEY} (not nnplug's JUCE state?)")
    return m


def session_plugin_state(session: Path) -> bytes:
    """The plugin's own state (getStateInformation's bytes) from a saved session. Ardour keeps
    a VST3 plugin's state as base64 of a VST3 preset: "VST3", version, class ID, then the
    component state, which for nnplug starts with its JUCE XML blob (b"VC2!", size, XML).
    The LV2's is a string property of its LV2 state file (JUCE base64 of the blob)."""
    proc = _plugin_processor(session)
    if proc.get("type") == "lv2":
        from .status import juce_b64decode
        return juce_b64decode(_lv2_state_match(_lv2_state_file(session, proc)).group(2))
    chunk = proc.find("vst3/chunk")
    if chunk is None or not (chunk.text or "").strip():
        raise ArdourError("the saved session holds no state for the plugin")
    data = base64.b64decode(chunk.text)
    i = data.find(b"VC2!")
    if data[:4] != b"VST3" or i < 0:
        raise ArdourError("the plugin state in the session is not a VST3 preset holding nnplug's state")
    (size,) = struct.unpack("<I", data[i + 4:i + 8])
    return data[i:i + 8 + size + 1]


def set_session_plugin_state(session: Path, blob: bytes) -> None:
    """Replace the plugin's own state in a saved session by `blob` (what a host restores with
    setStateInformation): the VST3 preset Ardour keeps is rebuilt around it, JUCE's private
    data after it and the chunk list kept."""
    path = _session_file(session)
    tree = ET.parse(path)
    procs = _nnplug_processors(tree.getroot())
    if len(procs) == 1 and procs[0].get("type") == "lv2":
        # the string property rewritten in place; Ardour restores the state from this file
        from .status import juce_b64encode
        ttl = _lv2_state_file(session, procs[0])
        m = _lv2_state_match(ttl)
        text = ttl.read_text()
        ttl.write_text(text[:m.start(2)] + juce_b64encode(blob) + text[m.end(2):])
        return
    chunk = procs[0].find("vst3/chunk") if len(procs) == 1 else None
    if chunk is None:
        raise ArdourError("the saved session holds no state for the plugin")
    data = base64.b64decode(chunk.text)
    (list_at,) = struct.unpack("<q", data[40:48])
    if data[list_at:list_at + 4] != b"List":
        raise ArdourError("the plugin state in the session is not a VST3 preset (no chunk list)")
    (count,) = struct.unpack("<i", data[list_at + 4:list_at + 8])
    entries = []
    for k in range(count):
        e = data[list_at + 8 + 20 * k:list_at + 28 + 20 * k]
        cid, (offset, size) = e[:4], struct.unpack("<qq", e[4:])
        body = data[offset:offset + size]
        if cid == b"Comp":
            old = session_plugin_state(session)
            if not body.startswith(old):
                raise ArdourError("the VST3 component state does not start with nnplug's state")
            body = blob + body[len(old):]
        entries.append((cid, body))
    out, table = bytearray(data[:48]), bytearray(b"List" + struct.pack("<i", len(entries)))
    for cid, body in entries:
        table += cid + struct.pack("<qq", len(out), len(body))
        out += body
    out[40:48] = struct.pack("<q", len(out))
    chunk.text = base64.b64encode(bytes(out + table)).decode("ascii")
    tree.write(path, encoding="UTF-8", xml_declaration=True)


def embed_signal(session: Path, x: np.ndarray, rate: int) -> None:
    """`x` (channels, samples) as the session's audio: one 32-bit float mono file per channel in
    the session's audio folder, one region on the track from the session's start, and the
    session range over it. The XML is what Ardour writes for a recorded take, except that the
    region's fades are off (Ardour's default fade is 64 samples at each end)."""
    from nnplug.audio import write_wav
    name = session.name
    audio = session / "interchange" / name / "audiofiles"
    audio.mkdir(parents=True, exist_ok=True)
    files = []
    for ch in range(x.shape[0]):
        f = f"signal%{'LR'[ch] if x.shape[0] == 2 else ch}.wav"
        write_wav(audio / f, x[ch], rate)
        files.append(f)
    path = _session_file(session)
    tree = ET.parse(path)
    root = tree.getroot()
    next_id = int(root.get("id-counter"))
    ids = list(range(next_id + 1, next_id + 1 + len(files) + 3))
    root.set("id-counter", str(ids[-1] + 1))
    sources = root.find("Sources")
    for f, sid in zip(files, ids):
        ET.SubElement(sources, "Source", {"name": f, "type": "audio", "flags": "", "id": str(sid),
                                          "natural-position": "a0", "captured-for": TRACK, "channel": "0",
                                          "origin": "", "gain": "1"})
    length = superclock(x.shape[1], rate)

    def region(rid: int, rname: str, whole: bool) -> Dict[str, str]:
        a = {"name": rname, "muted": "0", "opaque": "1", "locked": "0", "video-locked": "0",
             "automatic": "1" if whole else "0", "whole-file": "1" if whole else "0", "import": "0",
             "external": "0", "sync-marked": "0", "left-of-split": "0", "right-of-split": "0", "hidden": "0",
             "position-locked": "0", "valid-transients": "0", "start": "a0", "length": f"a{length}@a0",
             "sync-position": "a0", "ancestral-start": "a0", "ancestral-length": "a0@a0", "stretch": "1",
             "shift": "1", "layering-index": "0", "tags": "", "contents": "0", "envelope-active": "0",
             "default-fade-in": "0", "default-fade-out": "0", "fade-in-active": "0", "fade-out-active": "0",
             "scale-amplitude": "1", "id": str(rid), "type": "audio", "first-edit": "nothing",
             "channels": str(len(files))}
        for k, sid in enumerate(ids[:len(files)]):
            a[f"source-{k}"] = a[f"master-source-{k}"] = str(sid)
        return a

    rid = ids[len(files)]
    ET.SubElement(root.find("Regions"), "Region", region(rid, "signal", True))
    playlist = next((p for p in root.find("Playlists") if p.get("name") == TRACK), None)
    if playlist is None:
        raise ArdourError("the session has no playlist for the track")
    ET.SubElement(playlist, "Region", region(rid + 1, "signal.1", False))
    ET.SubElement(root.find("Locations"), "Location",
                  {"id": str(rid + 2), "name": "session", "start": "a0", "end": f"a{length}",
                   "flags": "IsSessionRange", "locked": "0", "timestamp": "0", "cue": "0"})
    tree.write(path, encoding="UTF-8", xml_declaration=True)


def model_path_in_session(session: Path) -> str:
    """The model path the plugin's state in a saved session names ("" = the bundle's default)."""
    from .status import plugin_state_xml
    return plugin_state_xml(session_plugin_state(session)).get("model_path", "")
