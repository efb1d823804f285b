"""Counters turned into figures over the interval between two samples.

Sources count since some start (a server's start, a statistics reset). The change between
the previous sample and this one is what happened in the interval, unless the counters
started over in between: the source restarted (its identity changed) or was reset (a
counter went down). Then there is no interval to speak of and the caller says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Interval:
    """What changed between two samples; `seconds` is None when there is no interval."""

    seconds: float | None
    deltas: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def usable(self) -> bool:
        return self.seconds is not None


def delta(previous: Mapping[str, Any] | None, current: Mapping[str, Any], counters: Sequence[str]) -> dict[str, float] | None:
    """Current minus previous for each counter; None when any counter went down (a reset)."""
    if previous is None:
        return None
    out = {}
    for name in counters:
        change = float(current[name]) - float(previous.get(name, 0))
        if change < 0:
            return None
        out[name] = change
    return out


def interval(
    previous: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    counters: Sequence[str],
    *,
    identity: str = "identity",
    at: str = "at",
) -> Interval:
    """The interval from `previous` to `current` (both with `at` in epoch seconds).

    `identity` names the field that says which incarnation of the source counted (a
    Redis run id, a pg_stat_statements reset time): when it differs, the counters started
    over and the interval is unusable.
    """
    if previous is None:
        return Interval(None, note="first sample: a rate needs the previous one, taken by the next run")
    if previous.get(identity) != current.get(identity):
        return Interval(None, note=f"counters started over since the previous sample ({identity} changed)")
    seconds = float(current[at]) - float(previous[at])
    if seconds <= 0:
        return Interval(None, note="the previous sample is not older than this one")
    changes = delta(previous, current, counters)
    if changes is None:
        return Interval(None, note="a counter went down since the previous sample (statistics were reset)")
    return Interval(seconds, changes, note=f"over the last {seconds:,.0f} s (since the previous sample)")
