"""What every alert check shares: read the monitoring asset's latest figures, show value and threshold.

An alert check measures nothing itself: it judges the figures its monitoring asset
recorded (the latest materialization, normally the one of the same run), so interval
figures (a hit rate, a p99 since the previous sample) are never sampled twice. Its
metadata always holds `value`, `threshold` and `summary`, which the alert sensors read.
"""

from collections.abc import Callable, Iterable
from typing import Any

import dagster as dg

from dbopt.monitoring.alerts import Alert
from dbopt.monitoring.remedies import when
from pipelines.metadata import check_result, numbers


class Measurement:
    """The latest figures of a monitoring asset, as plain values."""

    def __init__(self, context: dg.AssetCheckExecutionContext, asset: str) -> None:
        event = context.instance.get_latest_materialization_event(dg.AssetKey(asset))
        if event is None or event.asset_materialization is None:
            raise dg.Failure(
                description=f"{asset} has never been materialized here; run its monitoring job first.",
                allow_retries=False,
            )
        self.values: dict[str, Any] = {k: v.value for k, v in event.asset_materialization.metadata.items()}
        self.at = event.timestamp
        self.run_id = event.run_id

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def alert_check(
    alert: Alert, config_type: type[dg.Config], description: str
) -> Callable[[Callable[[Measurement, Any], dg.AssetCheckResult]], dg.AssetChecksDefinition]:
    """The asset check of `alert`, on its monitoring asset and named as in the registry (which its
    sensor reads): the decorated function judges the asset's latest figures with the check's config."""

    def wrap(judge: Callable[[Measurement, Any], dg.AssetCheckResult]) -> dg.AssetChecksDefinition:
        @dg.asset_check(asset=alert.asset, name=alert.check, description=description)
        def _check(context: dg.AssetCheckExecutionContext, config: config_type) -> dg.AssetCheckResult:
            return judge(Measurement(context, alert.asset), config)

        return _check

    return wrap


def alert_metadata(
    alert: Alert,
    measured: Measurement,
    *,
    value: float | None,
    threshold: float,
    note: str = "",
    remediable: bool = True,
    not_remediable: str = "",
) -> dict[str, dg.MetadataValue]:
    values: dict[str, Any] = {
        "threshold": threshold,
        "alert_when": f"{alert.fires} {threshold:g}{alert.unit}",
        "summary": alert.describe(value, threshold),
        "measured_at": when(measured.at),
        "measured_in_run": measured.run_id,
        "remediable": remediable,
    }
    if value is not None:
        values["value"] = float(value)
    if measured.get("window"):
        values["window"] = measured.get("window")
    if note:
        values["note"] = note
    if not_remediable:
        values["not_remediable"] = not_remediable
    return numbers(values)


def alert_result(
    alert: Alert,
    measured: Measurement,
    *,
    value: float | None,
    threshold: float,
    next_step: str,
    offending: Iterable[dict[str, Any]] = (),
    note: str = "",
    remediable: bool = True,
    not_remediable: str = "",
    **extra: dg.MetadataValue,
) -> dg.AssetCheckResult:
    """Fails when the value is on the alert's side of the threshold; an unmeasured value passes with a note."""
    firing = value is not None and alert.fires_at(value, threshold)
    metadata = alert_metadata(alert, measured, value=value, threshold=threshold, note=note, remediable=remediable,
                              not_remediable=not_remediable)
    return check_result(not firing, figures={}, offending=offending, next_step=next_step, **metadata, **extra)
