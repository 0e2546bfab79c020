"""The result for people: a table on the terminal; report.json and index.html with plots."""
from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any, Dict, Union

import numpy as np

from .plan import SETTINGS_ULPS
from .result import Result, table_rows


def format_table(result: Result) -> str:
    head = f"{'host':<11} {'mode':<13} {'block':>8} {'sig':>3} {'max|diff|':>10} {'equal':>5} {'latency rep/meas':>17} {'rtf':>6}  ok"
    lines = [head, "-" * len(head)]
    for t in table_rows(result):
        eq = "n/a" if t["equal"] is None else ("yes" if t["equal"] else "NO")
        rep = "/".join(map(str, t["latency_reported"]))
        meas = "/".join(map(str, t["latency_measured"])) or "-"
        lines.append(f"{t['host']:<11} {t['mode']:<13} {t['block']:>8} {t['signals']:>3} {t['max_abs_diff']:>10.3g} "
                     f"{eq:>5} {rep + ' / ' + meas:>17} {t['rtf']:>6.3f}  {'ok' if t['ok'] else 'FAIL'}")
    if result.settings:
        lines.append("")
        lines.append(f"{'host':<11} {'block':>6} {'setting':<34} {'max|diff|':>10} {'tolerance':>10}  ok")
        for s in result.settings:
            lines.append(f"{s.host:<11} {s.block:>6} {s.setting:<34} {s.max_abs_diff:>10.3g} {s.tolerance:>10.3g}  "
                         f"{'ok' if s.ok else 'FAIL'}")
    lines.append("")
    lines.append(result.statement)
    bad = [r for r in result.rows if not r.ok]
    for r in bad[:10]:
        lines.append(f"FAIL {r.host} {r.mode} block {r.block} {r.signal}: first differing sample {r.first_diff}; "
                     f"{'; '.join(r.notes)}")
    lines.append(f"{'PASS' if result.ok else 'FAIL'}: {len(result.rows)} renders, {len(result.settings)} settings checks, "
                 f"{result.elapsed:.0f} s")
    return "\n".join(lines)


def write_report(result: Result, directory: Union[str, Path]) -> Path:
    """report.json, and index.html with waveform and spectrogram plots (PNG files beside it)."""
    import html

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    (d / "report.json").write_text(json.dumps(result.to_json(), indent=1, default=float) + "\n")
    figs = []
    for key, p in result.plots.items():
        name = f"plot-{key}.png"
        plot(p, d / name)
        figs.append((p["title"], name))
    rows_html = "".join(
        f"<tr class='{'ok' if t['ok'] else 'fail'}'><td>{t['host']}</td><td>{t['mode']}</td><td>{t['block']}</td>"
        f"<td>{t['signals']}</td><td>{t['max_abs_diff']:.3g}</td>"
        f"<td>{'n/a' if t['equal'] is None else ('yes' if t['equal'] else 'NO')}</td>"
        f"<td>{'/'.join(map(str, t['latency_reported']))}</td><td>{'/'.join(map(str, t['latency_measured'])) or '-'}</td>"
        f"<td>{t['rtf']:.3f}</td><td>{'ok' if t['ok'] else 'FAIL'}</td></tr>" for t in table_rows(result))
    set_html = "".join(
        f"<tr class='{'ok' if s.ok else 'fail'}'><td>{s.host}</td><td>{s.block}</td><td>{html.escape(s.setting)}</td>"
        f"<td>{s.max_abs_diff:.3g}</td><td>{s.tolerance:.3g}</td><td>{'ok' if s.ok else 'FAIL'}</td></tr>"
        for s in result.settings)
    fails = "".join(f"<li>{html.escape(f'{r.host} {r.mode} block {r.block} {r.signal}: {r.first_diff} {r.notes}')}</li>"
                    for r in result.rows if not r.ok)
    m = result.model
    page = _template().substitute(
        name=html.escape(m["name"]), path=html.escape(m["path"]), format=html.escape(str(m["format"])),
        ratio=m["ratio"], delay=m["delay"], audio_path="encode&gt;decode" if m["latent_path"] else "forward",
        verdict="PASS" if result.ok else "FAIL", statement=html.escape(result.statement), rows=rows_html,
        settings_ulps=SETTINGS_ULPS, settings=set_html,
        failures="<h2>Failures</h2><ul>" + fails + "</ul>" if fails else "",
        plots="".join(f'<h3>{html.escape(title)}</h3><img src="{name}" alt="{html.escape(title)}">'
                      for title, name in figs),
        elapsed=f"{result.elapsed:.0f}")
    (d / "index.html").write_text(page)
    return d / "index.html"


def plot(p: Dict[str, Any], path: Path) -> None:
    """The aligned reference, the plugin's output and their difference: waveforms (left
    channel) and spectrograms, one PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref, y, sr = p["reference"], p["plugin"], p["sr"]
    m = min(ref.shape[1], y.shape[1])
    ref, y = ref[:, :m], y[:, :m]
    diff = y.astype(np.float64) - ref
    t = np.arange(m) / sr
    fig, ax = plt.subplots(3, 2, figsize=(13, 8), sharex="col")
    for i, (name, a) in enumerate([("reference (Python, aligned)", ref), ("plugin output", y),
                                   ("difference (plugin - reference)", diff)]):
        ax[i, 0].plot(t, a[0], lw=0.5)
        ax[i, 0].set_title(f"{name}, left")
        ax[i, 0].set_ylabel("amplitude")
        sig = a[0].astype(np.float64)
        if np.any(sig):
            with np.errstate(divide="ignore"):
                ax[i, 1].specgram(sig, NFFT=1024, Fs=sr, noverlap=768, cmap="magma", vmin=-140)
        else:
            ax[i, 1].text(0.5, 0.5, "all zeros", ha="center", va="center", transform=ax[i, 1].transAxes)
        ax[i, 1].set_title(f"{name}: spectrogram")
        ax[i, 1].set_ylabel("Hz")
    ax[2, 0].set_xlabel("seconds")
    ax[2, 1].set_xlabel("seconds")
    fig.suptitle(p["title"] + f" — max |diff| {np.max(np.abs(diff)):.3g}")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _template() -> string.Template:
    """index.html's page, a package data file (templates/report.html) with $-placeholders."""
    from importlib.resources import files
    return string.Template((files("nnplug.validate") / "templates" / "report.html").read_text(encoding="utf-8"))
