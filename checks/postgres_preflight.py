"""The PostgreSQL preflight's findings as blocking checks, one per finding.

The findings are computed once, by the asset `postgres_preflight`, which declares these
specs and yields one result per finding (a second reading could disagree with the first
a moment later). A no-go fails its check with severity ERROR, which, the checks being
blocking, stops every asset downstream (the whole rollout) before its first change; a
warning fails with severity WARN and lets the run go on. Same sentences as `dbopt plan`.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from dbopt.postgres import preflight
from dbopt.preflight import Finding, Verdict

ASSET = "postgres_preflight"

POSTGRES_PREFLIGHT_CHECKS = [
    dg.AssetCheckSpec(name, asset=ASSET, blocking=True, description=preflight.DESCRIPTIONS[name])
    for name in preflight.FINDINGS
]


def check_results(findings: Sequence[Finding]) -> list[dg.AssetCheckResult]:
    """One result per finding: passed for go, a WARN failure for warn, an ERROR failure for no-go."""
    return [
        dg.AssetCheckResult(
            check_name=f.name,
            asset_key=ASSET,
            passed=f.verdict is Verdict.GO,
            severity=dg.AssetCheckSeverity.ERROR if f.verdict is Verdict.NO_GO else dg.AssetCheckSeverity.WARN,
            description=f.sentence,
            metadata={
                "verdict": dg.MetadataValue.text(f.verdict.value),
                "value": dg.MetadataValue.text("" if f.value is None else str(f.value)),
                "threshold": dg.MetadataValue.text("" if f.threshold is None else str(f.threshold)),
                "what_it_means": dg.MetadataValue.text(f.sentence),
            },
        )
        for f in findings
    ]
