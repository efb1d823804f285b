"""DDL for one server or a cluster, from the same SQL files.

Every DDL file writes `{{on_cluster}}` where ClickHouse takes `ON CLUSTER`, and
`{{merge_tree}}`, `{{summing_merge_tree}}`, ... where it names an engine. With no
cluster configured they render to nothing and to the plain engines; with a cluster
name they render to `ON CLUSTER <name>` and to the `Replicated` variants (whose
arguments come from the server's `default_replica_path` / `default_replica_name`), so
one tested text serves both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dbopt import sqlfiles
from dbopt.clickhouse.client import ClickHouse, quote_identifier
from dbopt.errors import DboptError

# Placeholder name -> engine, for every MergeTree-family engine the SQL files use.
ENGINES = {
    "merge_tree": "MergeTree",
    "summing_merge_tree": "SummingMergeTree",
    "aggregating_merge_tree": "AggregatingMergeTree",
    "replacing_merge_tree": "ReplacingMergeTree",
}

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def ident(name: str) -> str:
    """A table or column name checked to be a plain identifier, safe to put in SQL text."""
    if not _IDENT.match(name):
        raise DboptError(f"{name!r} is not a plain ClickHouse identifier; rename the object or fix the configuration.")
    return name


def ident_list(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(ident(n) for n in names)


@dataclass(frozen=True)
class Ddl:
    """Renders SQL files for a single server (`cluster=None`) or for `ON CLUSTER <cluster>`."""

    cluster: str | None = None

    @property
    def on_cluster(self) -> str:
        return f"ON CLUSTER {quote_identifier(self.cluster)}" if self.cluster else ""

    def all_replicas(self, system_table: str) -> str:
        """A system table of this server, or of every replica of the cluster (`clusterAllReplicas`)."""
        if not re.fullmatch(r"system\.[a-z_]+", system_table):
            raise DboptError(f"{system_table!r} is not a system table; this is a bug in dbopt, please report it.")
        if not self.cluster:
            return system_table
        name = self.cluster.replace("\\", "\\\\").replace("'", "\\'")
        return f"clusterAllReplicas('{name}', {system_table})"

    def engine(self, engine: str) -> str:
        """`MergeTree` -> `ReplicatedMergeTree` in cluster mode; other engines (Null, Memory) unchanged."""
        if self.cluster and engine.endswith("MergeTree") and not engine.startswith("Replicated"):
            return "Replicated" + engine
        return engine

    def values(self, extra: Mapping[str, Any] | None = None) -> dict[str, str]:
        out = {"on_cluster": self.on_cluster, "processes": self.all_replicas("system.processes")}
        out.update({key: self.engine(engine) for key, engine in ENGINES.items()})
        out.update({k: str(v) for k, v in (extra or {}).items()})
        return out

    def load(self, relative: str, **extra: Any) -> str:
        """The text of `sql/<relative>` rendered for this server or cluster."""
        return sqlfiles.load(relative, self.values(extra))

    def run(self, ch: ClickHouse, relative: str, params: Mapping[str, Any] | None = None, **extra: Any) -> int:
        """Render and run every statement of a file; returns how many ran."""
        return ch.script(self.load(relative, **extra), params)
