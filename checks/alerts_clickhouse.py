"""The plan's ClickHouse alert: "ClickHouse partition count > 36 (need cleanup)", on the monitoring asset.

Judged by the same function as partition_maintenance's check `partitions_within_alert`,
with the threshold from config.
"""

import dagster as dg
from pydantic import Field

from checks.partition_maintenance import partition_alert_result
from dbopt.monitoring.alerts import PARTITION_COUNT
from pipelines.alert_checks import Measurement, alert_check, alert_metadata


class PartitionCountAlertConfig(dg.Config):
    partitions_above: int = Field(
        default=int(PARTITION_COUNT.threshold), description="Fire when a table has more active, non-empty partitions."
    )


@alert_check(
    PARTITION_COUNT,
    PartitionCountAlertConfig,
    description=(
        f"Alert: a ClickHouse table with more than {PARTITION_COUNT.threshold:g} partitions (the plan: need cleanup). "
        "Its sensor launches partition_cleanup."
    ),
)
def partition_count_alert(measured: Measurement, config: PartitionCountAlertConfig) -> dg.AssetCheckResult:
    counts = {t: int(n) for t, n in (measured.get("partition_counts") or {}).items()}
    return partition_alert_result(
        counts,
        config.partitions_above,
        **alert_metadata(PARTITION_COUNT, measured, value=max(counts.values(), default=0),
                         threshold=config.partitions_above),
    )
