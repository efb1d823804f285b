"""Drift alerts: counters, sequence numbers and indexes that Phase 1 put in place, checked by sampling.

Each fires above its threshold (0 by default: any drift found is worth a look); each
sensor launches a remedy built from Phase 1's own mechanisms.
"""

import dagster as dg
from pydantic import Field

from dbopt.monitoring.alerts import COUNTER_DRIFT, INVALID_INDEX, SEQUENCE_DRIFT
from pipelines.alert_checks import Measurement, alert_check, alert_result

NOT_APPLIED = "Phase 1 has not put them in place here yet, so there is nothing to drift"


class DriftAlertConfig(dg.Config):
    above: int = Field(default=0, description="Fire when more than this many are found in the sample.")


@alert_check(
    COUNTER_DRIFT,
    DriftAlertConfig,
    description=(
        "Alert: sampled conversations whose member_count or last message differ from a recount. Its sensor "
        "launches reconcile_conversation_counters."
    ),
)
def counter_drift_alert(measured: Measurement, config: DriftAlertConfig) -> dg.AssetCheckResult:
    sampled = measured.get("counters_sampled")
    return alert_result(
        COUNTER_DRIFT,
        measured,
        value=measured.get("conversations_with_wrong_counters") if sampled else None,
        threshold=config.above,
        note="" if sampled else f"counters: {NOT_APPLIED}",
        offending=measured.get("counter_rows") or [],
        next_step=(
            "reconcile_conversation_counters recounts every conversation under row locks (the sensor launches it). "
            "If drift comes back, something writes member_count or last_message_* besides the triggers, or a trigger "
            "was disabled (see phase1_triggers_enabled)."
        ),
    )


@alert_check(
    SEQUENCE_DRIFT,
    DriftAlertConfig,
    description=(
        "Alert: sampled conversations whose sequence counter is behind their highest number (the next insert would "
        "take a used number), with unnumbered messages, or with a number used twice. Its sensor launches "
        "reconcile_sequence_numbers (numbers used twice are left to a person)."
    ),
)
def sequence_drift_alert(measured: Measurement, config: DriftAlertConfig) -> dg.AssetCheckResult:
    sampled = measured.get("sequence_sampled")
    repairable = int(measured.get("counters_behind", 0) or 0) + int(measured.get("unnumbered_messages", 0) or 0)
    twice = int(measured.get("numbers_used_twice", 0) or 0)
    return alert_result(
        SEQUENCE_DRIFT,
        measured,
        value=measured.get("conversations_with_sequence_anomalies") if sampled else None,
        threshold=config.above,
        note="" if sampled else f"sequence numbers: {NOT_APPLIED}",
        offending=measured.get("sequence_rows") or [],
        remediable=repairable > 0,
        not_remediable="" if repairable or not twice else (
            f"only numbers used twice were found ({twice}): renumbering would change numbers clients have already "
            f"seen, so a person decides; the unique constraint messages_conversation_sequence_key prevents new ones."
        ),
        next_step=(
            "reconcile_sequence_numbers sets counters behind their highest number to it and numbers unnumbered "
            "messages (the sensor launches it). Numbers used twice mean the unique constraint is missing: check "
            "sequence_number_constraints_enforced."
        ),
    )


@alert_check(
    INVALID_INDEX,
    DriftAlertConfig,
    description=(
        "Alert: INVALID indexes on the application's tables (a failed CREATE INDEX CONCURRENTLY leaves one: writes "
        "maintain it, reads never use it). Its sensor launches rebuild_invalid_indexes for dbopt's own indexes."
    ),
)
def invalid_index_alert(measured: Measurement, config: DriftAlertConfig) -> dg.AssetCheckResult:
    rows = measured.get("invalid_index_rows") or []
    foreign = [f"{r['table_name']}.{r['index_name']}" for r in rows if not r.get("rebuildable")]
    rebuildable = int(measured.get("invalid_indexes_rebuildable", 0) or 0)
    return alert_result(
        INVALID_INDEX,
        measured,
        value=measured.get("invalid_indexes"),
        threshold=config.above,
        offending=rows,
        remediable=rebuildable > 0,
        not_remediable="" if rebuildable else (
            f"the INVALID index(es) {', '.join(foreign)} are not dbopt's, so they are not rebuilt automatically: "
            f"DROP INDEX CONCURRENTLY each and create it again."
        ),
        next_step=(
            "rebuild_invalid_indexes drops dbopt's INVALID indexes concurrently and builds them again (the sensor "
            f"launches it). Not dbopt's: {', '.join(foreign) or 'none'}; rebuild those by hand."
        ),
    )
