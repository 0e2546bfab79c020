"""What a validation found: a row per render, a row per settings check, and the verdict."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Tuple

from .compare import Row, SettingRow


@dataclass
class Result:
    model: Dict[str, Any]
    rows: List[Row]
    settings: List[SettingRow]
    deterministic: bool
    statement: str
    elapsed: float
    plots: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows) and all(s.ok for s in self.settings)

    def to_json(self) -> Dict[str, Any]:
        return {"ok": self.ok, "model": self.model, "deterministic": self.deterministic,
                "statement": self.statement, "elapsed_seconds": round(self.elapsed, 2),
                "rows": [asdict(r) for r in self.rows], "settings": [asdict(s) for s in self.settings],
                "table": table_rows(self)}


def table_rows(result: Result) -> List[Dict[str, Any]]:
    groups: Dict[Tuple[str, str, str], List[Row]] = {}
    for r in result.rows:
        groups.setdefault((r.host, r.mode, r.block), []).append(r)
    out = []
    for (h, m, b), rs in groups.items():
        meas = {r.latency_measured for r in rs if r.latency_measured is not None}
        audio = sum(r.samples for r in rs)
        out.append({"host": h, "mode": m, "block": b, "signals": len(rs),
                    "max_abs_diff": max(r.max_abs_diff for r in rs),
                    "equal": None if any(r.equal is None for r in rs) else all(r.equal for r in rs),
                    "latency_reported": sorted({r.latency_reported for r in rs}),
                    "latency_measured": sorted(meas),
                    "rtf": sum(r.rtf * r.samples for r in rs) / max(1, audio), "ok": all(r.ok for r in rs)})
    return out
