"""What the plans of phase1_postgres and phase1_clickhouse share: a list of step plans, each
with a predicted duration (point and range) and the disk it needs, summed for the whole run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class PlanTotals:
    """A plan's steps (dataclasses with seconds, low_s, high_s and disk_bytes), how it was
    calibrated, and notes; the totals are sums over the steps."""

    steps: list[Any]
    calibration: Any
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)

    @property
    def low_s(self) -> float:
        return sum(s.low_s for s in self.steps)

    @property
    def high_s(self) -> float:
        return sum(s.high_s for s in self.steps)

    @property
    def disk_bytes(self) -> int:
        return sum(s.disk_bytes for s in self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {"steps": [asdict(s) for s in self.steps], "calibration": asdict(self.calibration),
                "seconds": self.seconds, "low_s": self.low_s, "high_s": self.high_s, "disk_bytes": self.disk_bytes}


def receipt_row(step: str, point: float, low: float, high: float, actual: float | None, *, digits: int,
                range_thousands: bool) -> dict[str, Any]:
    """One step of a receipt: predicted (point and range) against actual, rounded to `digits`."""
    spec = f"{',' if range_thousands else ''}.{digits}f"
    return {"step": step, "predicted_s": round(point, digits), "range_s": f"{low:{spec}}-{high:{spec}}",
            "actual_s": None if actual is None else round(actual, digits),
            "actual/predicted": None if actual is None or not point else round(actual / point, 2),
            "within range": None if actual is None else low <= actual <= high}


def format_receipt(rows: Sequence[dict[str, Any]], *, digits: int) -> list[str]:
    lines = []
    for r in rows:
        if r["actual_s"] is None:
            lines.append(f"  {r['step']}: predicted {r['range_s']} s, not run")
        else:
            ratio = "" if r["actual/predicted"] is None else f"{r['actual/predicted']:.2f}x, "
            lines.append(f"  {r['step']}: predicted {r['range_s']} s, took {r['actual_s']:,.{digits}f} s "
                         f"({ratio}{'within' if r['within range'] else 'outside'} the range)")
    return lines
