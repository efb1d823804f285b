"""What a preflight finds, for every system: one shape, so the Dagster checks, the UI and
`dbopt plan` say the same thing in the same words.

A preflight only reads. Each system has its own module that returns findings
(`dbopt/postgres/preflight.py`, `dbopt/clickhouse/preflight.py`, `dbopt/redis_preflight.py`);
this module holds what they share.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """`no_go` stops the rollout before any change; `warn` is reported and lets it run."""

    GO = "go"
    WARN = "warn"
    NO_GO = "no_go"


@dataclass(frozen=True)
class Finding:
    """One readiness finding: what was looked at, what was found, against what, and what to do.

    `name` is stable (it names the Dagster check, e.g. `postgres_privileges`); `sentence`
    is the one sentence an operator reads (value found, threshold, what to do)."""

    name: str
    verdict: Verdict
    sentence: str
    value: Any = None
    threshold: Any = None
    details: tuple[dict[str, Any], ...] = ()

    @property
    def blocks(self) -> bool:
        return self.verdict is Verdict.NO_GO

    def as_row(self) -> dict[str, Any]:
        return {
            "finding": self.name,
            "verdict": self.verdict.value,
            "value": "" if self.value is None else str(self.value),
            "threshold": "" if self.threshold is None else str(self.threshold),
            "what it means": self.sentence,
        }


def go(name: str, sentence: str, value: Any = None, threshold: Any = None, details: Iterable[dict] = ()) -> Finding:
    return Finding(name, Verdict.GO, sentence, value, threshold, tuple(details))


def warn(name: str, sentence: str, value: Any = None, threshold: Any = None, details: Iterable[dict] = ()) -> Finding:
    return Finding(name, Verdict.WARN, sentence, value, threshold, tuple(details))


def no_go(name: str, sentence: str, value: Any = None, threshold: Any = None, details: Iterable[dict] = ()) -> Finding:
    return Finding(name, Verdict.NO_GO, sentence, value, threshold, tuple(details))


def blockers(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.blocks]


def verdict(findings: Sequence[Finding]) -> Verdict:
    """The worst verdict among the findings (an empty preflight is a go)."""
    if any(f.verdict is Verdict.NO_GO for f in findings):
        return Verdict.NO_GO
    if any(f.verdict is Verdict.WARN for f in findings):
        return Verdict.WARN
    return Verdict.GO


def human_bytes(n: float) -> str:
    """A size as people read it (1.5 GiB), in the plans and findings of every system."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TiB"
