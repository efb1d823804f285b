"""ClickHouse's preflight for phase1_clickhouse: what the rollout would meet here, read-only.

Every finding comes from the live server (system tables and one read of `event_ts` per
CDC table) and nothing is written: no ledger row, no table, no setting. The same findings
feed the Dagster checks (which stop the rollout before any change), the UI and `dbopt plan`.

What is looked at, and why:
- the CDC tables' rows, bytes and months: what the repartition copies, month by month;
- free space on the disk holding each table against what the rollout needs there: the
  repartition keeps the old table as a backup, so a table needs about its size again,
  plus the rollups and the candidate tables;
- the materialized views each table feeds: EXCHANGE TABLES keeps them on the name, and
  the step checks they still are afterwards; listed so the operator knows what is fed;
- INSERTs in flight on the tables: the swap waits for those that started before it;
- the server: EXCHANGE TABLES needs an Atomic (or Replicated) database; `ALTER TABLE
  <view> MODIFY QUERY`, the repair the swap suggests if a view was left on a backup,
  needs 24.1 or newer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dbopt import sqlfiles
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import ident
from dbopt.clickhouse.repartition import CDC_TABLES, PARTITION_KEY
from dbopt.errors import DboptError
from dbopt.preflight import Finding, go, human_bytes, no_go, verdict, warn

DIR = "clickhouse/clickhouse_preflight"
# Rollups (post_metrics_1h, user_author_90d) and the candidate tables, as a share of the
# interaction tables' bytes they are built from (measured on `medium`: docs/clickhouse.md).
DERIVED_FROM = ("likes_cdc", "comments_cdc", "shares_cdc", "impressions", "posts_cdc", "follows_cdc")
ATOMIC_ENGINES = ("Atomic", "Replicated")
# chDB's `default` database is an Overlay over an Atomic database: the swap works there (the
# embedded demo and the suite run the repartition in it); a server's Overlay is not accepted.
CHDB_DEFAULT_ENGINE = "Overlay"
MODIFY_QUERY_VERSION = (24, 1)


@dataclass(frozen=True)
class Thresholds:
    """What the preflight holds the server to; config of the `clickhouse_preflight` asset."""

    max_disk_use: float = 0.8  # share of a disk's usable free space the rollout may take
    derived_fraction: float = 0.6  # rollups + candidate tables, as a share of the CDC tables' bytes (0.58 on medium)
    inflight_warn_s: float = 60.0  # an INSERT running longer than this delays the swap

    def validate(self) -> Thresholds:
        if not 0 < self.max_disk_use <= 1:
            raise DboptError(
                f"max_disk_use is {self.max_disk_use}, but it is a share of the free disk space; set it above 0 and "
                f"at most 1 (0.8 keeps a fifth of the free space untouched)."
            )
        if self.derived_fraction < 0:
            raise DboptError(
                f"derived_fraction is {self.derived_fraction}, but a size cannot be negative; set 0 or more "
                f"(0.6 by default)."
            )
        if self.inflight_warn_s < 0:
            raise DboptError(f"inflight_warn_s is {self.inflight_warn_s}; set 0 or more seconds.")
        return self


@dataclass(frozen=True)
class TableFigures:
    name: str
    rows: int
    bytes: int
    months: int
    partitioned: bool
    views: tuple[str, ...]

    @property
    def copy_bytes(self) -> int:
        """What the repartition writes for this table: nothing once it is partitioned."""
        return 0 if self.partitioned else self.bytes


def parse_version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in str(text).split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def table_figures(ch: ClickHouse, tables: Sequence[str] = CDC_TABLES) -> dict[str, TableFigures]:
    """Rows, bytes, months, layout and views of each CDC table that exists."""
    out: dict[str, TableFigures] = {}
    for row in ch.dicts(sqlfiles.read(f"{DIR}/020_tables.sql"), {"names": list(tables)}):
        months = ch.dicts(sqlfiles.load(f"{DIR}/030_months.sql", {"table": ident(row["name"])}))[0]["months"]
        out[row["name"]] = TableFigures(
            name=row["name"],
            rows=int(row["total_rows"]),
            bytes=int(row["total_bytes"]),
            months=int(months),
            partitioned=(row["partition_key"] or "").replace(" ", "") == PARTITION_KEY,
            views=tuple(sorted(row["views"] or [])),
        )
    return out


def disk_need(figures: dict[str, TableFigures], derived_fraction: float) -> int:
    """Bytes phase1_clickhouse writes and keeps: each unpartitioned table again (the old one
    stays as a backup), and the rollups and candidate tables."""
    copies = sum(f.copy_bytes for f in figures.values())
    derived = derived_fraction * sum(f.bytes for n, f in figures.items() if n in DERIVED_FROM)
    return int(copies + derived)


def _disks(ch: ClickHouse, figures: dict[str, TableFigures]) -> dict[str, dict[str, Any]]:
    """disk name -> its space and the tables whose parts (or new copies) land on it."""
    disks: dict[str, dict[str, Any]] = {}
    placed: set[str] = set()
    for row in ch.dicts(sqlfiles.read(f"{DIR}/040_disks.sql"), {"names": list(figures)}):
        disk = disks.setdefault(row["disk"], {**row, "tables": []})
        disk["tables"].append(row["table"])
        placed.add(row["table"])
    unplaced = [t for t in figures if t not in placed]
    if unplaced or not disks:
        default = ch.dicts(sqlfiles.read(f"{DIR}/045_default_disk.sql"))
        if default:
            disk = disks.setdefault(default[0]["disk"], {**default[0], "tables": []})
            disk["tables"].extend(unplaced)
    return disks


def findings(ch: ClickHouse, thresholds: Thresholds | None = None,
             tables: Sequence[str] = CDC_TABLES) -> list[Finding]:
    """Every ClickHouse finding, in the order an operator reads them."""
    th = (thresholds or Thresholds()).validate()
    out: list[Finding] = []
    server = ch.dicts(sqlfiles.read(f"{DIR}/010_server.sql"))[0]
    out += _server_findings(server, embedded=ch.backend == "chdb")
    figures = table_figures(ch, tables)
    out.append(_tables_finding(figures, tables))
    out.append(_disk_finding(ch, figures, th))
    out.append(_views_finding(figures))
    out.append(_inflight_finding(ch, list(tables), th))
    return out


def _server_findings(server: dict[str, Any], *, embedded: bool = False) -> list[Finding]:
    version, engine = str(server["version"]), str(server["database_engine"] or "")
    out = []
    if embedded and engine == CHDB_DEFAULT_ENGINE:
        out.append(go("clickhouse_database_engine",
                      f"The database is chDB's {engine} default database (over an Atomic one), in which EXCHANGE "
                      f"TABLES works as in Atomic.", engine, "Atomic"))
    elif engine not in ATOMIC_ENGINES:
        out.append(no_go(
            "clickhouse_database_engine",
            f"The database uses the {engine or 'unknown'} engine, and EXCHANGE TABLES (the repartition's swap) needs "
            f"Atomic or Replicated; move the tables to an Atomic database (the default since 20.10) first.",
            engine, "Atomic"))
    else:
        out.append(go("clickhouse_database_engine",
                      f"The database uses the {engine} engine, which EXCHANGE TABLES needs.", engine, "Atomic"))
    if parse_version(version)[:2] < MODIFY_QUERY_VERSION:
        out.append(warn(
            "clickhouse_version",
            f"ClickHouse {version} is older than 24.1, so ALTER TABLE <view> MODIFY QUERY (the repair if a view "
            f"stays on a backup after a swap) is not there; the rollout runs, but that repair would mean "
            f"rollback_phase1_clickhouse; upgrade to 24.1 or newer to have it.",
            version, "24.1"))
    else:
        out.append(go("clickhouse_version", f"ClickHouse {version} has every feature the rollout uses (24.1 or newer).",
                      version, "24.1"))
    return out


def _tables_finding(figures: dict[str, TableFigures], tables: Sequence[str]) -> Finding:
    details = [{"table": f.name, "rows": f.rows, "bytes": f.bytes, "months": f.months,
                "partitioned by month": "yes" if f.partitioned else "no", "views": ", ".join(f.views)}
               for f in figures.values()]
    missing = [t for t in tables if t not in figures]
    rows = sum(f.rows for f in figures.values())
    size = sum(f.bytes for f in figures.values())
    if missing:
        return no_go("clickhouse_cdc_tables",
                     f"{', '.join(missing)} missing from the database; seed the baseline (`dbopt seed`) or point "
                     f"CLICKHOUSE_URL at the database that holds the CDC tables.",
                     f"{len(figures)} of {len(tables)} tables", len(tables), details)
    todo = [f for f in figures.values() if not f.partitioned]
    return go("clickhouse_cdc_tables",
              f"{len(figures)} CDC tables hold {rows:,} rows ({human_bytes(size)}) over up to "
              f"{max((f.months for f in figures.values()), default=0)} months; {len(todo)} still to partition by month "
              f"({sum(f.rows for f in todo):,} rows to copy).",
              f"{rows:,} rows", None, details)


def _disk_finding(ch: ClickHouse, figures: dict[str, TableFigures], th: Thresholds) -> Finding:
    disks = _disks(ch, figures)
    details, short = [], []
    for name, disk in disks.items():
        on_disk = {t: figures[t] for t in disk["tables"] if t in figures}
        need = disk_need(on_disk, th.derived_fraction)
        usable = max(0, int(disk["unreserved_space"]) - int(disk["keep_free_space"] or 0))
        allowed = int(usable * th.max_disk_use)
        details.append({"disk": name, "tables": ", ".join(sorted(on_disk)), "needed": need,
                        "usable free": usable, "allowed": allowed, "total": int(disk["total_space"])})
        if need > allowed:
            short.append((name, need, usable, allowed))
    total_need = sum(d["needed"] for d in details)
    if short:
        name, need, usable, allowed = short[0]
        return no_go(
            "clickhouse_disk_space",
            f"Disk {name} has {human_bytes(usable)} free and the rollout may use {_share(th.max_disk_use)} of it "
            f"({human_bytes(allowed)}), but phase1_clickhouse needs {human_bytes(need)} there (each table copied while "
            f"the old one stays as a backup, plus rollups and candidate tables); free space on {name} (drop old "
            f"<table>__backup_* tables, or add disk) before the rollout.",
            f"{need} bytes needed", f"{allowed} bytes allowed", details)
    return go("clickhouse_disk_space",
              f"The rollout needs {human_bytes(total_need)} and fits within {_share(th.max_disk_use)} of the free space of "
              f"{', '.join(sorted(disks))}.",
              f"{total_need} bytes needed", f"{_share(th.max_disk_use)} of free space", details)


def _share(fraction: float) -> str:
    return f"{fraction:.0%}" if fraction >= 0.01 else f"max_disk_use {fraction:g}"


def _views_finding(figures: dict[str, TableFigures]) -> Finding:
    details = [{"table": f.name, "view": v} for f in figures.values() for v in f.views]
    if not details:
        return go("clickhouse_materialized_views", "No materialized view is fed by the CDC tables.", 0)
    names = ", ".join(f"{d['view']} (on {d['table']})" for d in details)
    return go("clickhouse_materialized_views",
              f"{len(details)} materialized views are fed by the CDC tables: {names}; EXCHANGE TABLES keeps them on "
              f"the table's name and the step checks that afterwards, so nothing to do.",
              len(details), None, details)


def _inflight_finding(ch: ClickHouse, tables: list[str], th: Thresholds) -> Finding:
    rows = ch.dicts(sqlfiles.read(f"{DIR}/050_inflight_inserts.sql"), {"names": tables})
    details = [{"query_id": r["query_id"], "user": r["user"], "elapsed_s": r["elapsed_s"],
                "tables": ", ".join(r["tables"])} for r in rows]
    long_ones = [d for d in details if float(d["elapsed_s"]) > th.inflight_warn_s]
    if long_ones:
        first = long_ones[0]
        return warn("clickhouse_inserts_in_flight",
                    f"{len(long_ones)} INSERTs into the CDC tables have run longer than {th.inflight_warn_s:g} s (e.g. "
                    f"query {first['query_id']} by {first['user']}, {first['elapsed_s']} s); each swap waits for "
                    f"those that started before it, so run when the long loads are done.",
                    len(long_ones), f"{th.inflight_warn_s:g} s", details)
    return go("clickhouse_inserts_in_flight",
              f"{len(details)} INSERTs into the CDC tables running now, none longer than {th.inflight_warn_s:g} s; the "
              f"swaps wait for those that started before them.",
              len(details), f"{th.inflight_warn_s:g} s", details)


def format_findings(found: Sequence[Finding], title: str = "ClickHouse preflight") -> list[str]:
    """The lines `dbopt plan` prints: the verdict, then one line per finding."""
    lines = [f"{title}: {verdict(found).value}"]
    for f in found:
        lines.append(f"  [{f.verdict.value:<5}] {f.name}: {f.sentence}")
    return lines
