"""What a PostgreSQL check reads: what this run changed, in full, and a random sample of the rest.

A blocking check that scans whole tables costs more than a rerun that has nothing to do
(24 s at 2 M messages, hours on a production table). So by default (`sampled`) each check
reads, in full, the key ranges the run's backfills wrote (their checkpoints name the run,
`backfill.ranges_written_by`), and of everything else a uniform random sample of rows, with
the sample's size and what it proves stated in the check's metadata. The run tag
`dbopt/checks=full` (set it in the Launchpad, or `--tags '{"dbopt/checks": "full"}'`)
reads every row instead.

The sample is drawn by row address: `n` random (page, line) slots of the table, read with a
TID scan, keeping the live rows found there. Every live row has exactly one slot, so the rows
kept are a uniform random sample whatever the physical order or the key's type (a random
key interval would not be, for time-ordered uuids), and the scan reads only the sampled
pages. The slots come from a seed, and the seed in the metadata reproduces them. They are
probed once, when the scope is drawn; every query of the check then reads the same rows by
their keys (an index lookup each), not by probing the slots again.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import dagster as dg
import psycopg
from psycopg import sql

from dbopt.errors import DboptError
from dbopt.postgres.backfill import ALL, KeyRange, ranges_written_by, uuid_ranges

TAG = "dbopt/checks"
SAMPLED, FULL = "sampled", "full"
RANGE = "range"  # the check of a `*_by_range` asset: its partition's key range, in full, whatever the tag
PARTITION_TAG = "dagster/partition"
MODES = (SAMPLED, FULL)
CONFIDENCE = 0.95
RULE_OF_THREE = -math.log(1 - CONFIDENCE)  # 3.0: no failure in n independent draws bounds the rate below 3/n
MAX_PROBES = 2_000_000
MAX_LISTED = 50_000  # a sample this large is read through its slots, not as a list of keys in the SQL


def mode_of(tags: Mapping[str, str]) -> str:
    """The run's check mode from its tags; a bad value is one sentence naming the fix."""
    value = tags.get(TAG)
    if value is None:
        return SAMPLED
    if value.strip().lower() not in MODES:
        raise DboptError(
            f"Nothing was run: the run tag {TAG} is {value!r} but must be {SAMPLED!r} (the default: what the run "
            f"changed in full, a random sample of the rest) or {FULL!r} (every row); fix the tag and launch the "
            f"run again."
        )
    return value.strip().lower()


@dataclass(frozen=True)
class Scope:
    """The rows one check reads: `changed` (a predicate on the key) in full, plus `sampled`."""

    mode: str
    table: str
    key: str
    changed: str  # SQL predicate on `key`: the ranges this run wrote ("true" in full mode)
    sampled: str  # SQL predicate: the random sample outside `changed` ("false" when none)
    ranges: tuple[str, ...]  # ids of the ranges read in full
    sample_target: int
    sample_rows: int  # live rows the sample found outside the changed ranges
    seed: int
    unit: str  # what a sampled row is: "messages", "conversations"

    def render(self) -> dict[str, str]:
        return {"changed": self.changed, "sampled": self.sampled}

    @property
    def bound(self) -> float:
        """With CONFIDENCE, the share of the unsampled rows that can be wrong when the sample has none."""
        return min(1.0, RULE_OF_THREE / self.sample_rows) if self.sample_rows else 1.0

    def sentence(self) -> str:
        if self.mode == RANGE:
            return (f"every row of {self.table} in key range {self.ranges[0]} (this run's partition); the other "
                    f"ranges are checked by their own runs and, all together, by phase1_postgres")
        if self.mode == FULL:
            return f"every row of {self.table} (run tag {TAG}={FULL})"
        changed = (
            "all key ranges, which this run wrote" if self.changed == "true"
            else f"the key ranges this run wrote ({', '.join(self.ranges)}) in full" if self.ranges
            else "no key range (this run wrote none)"
        )
        if self.changed == "true":
            return f"every row of {self.table}: {changed}"
        return (
            f"{changed}, and a uniform random sample of {self.sample_rows:,} {self.unit} of the rest (seed "
            f"{self.seed}): no finding in the sample means, with {CONFIDENCE:.0%} confidence, fewer than "
            f"{RULE_OF_THREE:.0f}/{self.sample_rows:,} = {self.bound:.3%} of the other {self.unit} are wrong "
            f"(rule of three). For every row, run with the tag {TAG}={FULL}."
        )

    def metadata(self) -> dict[str, dg.MetadataValue]:
        out: dict[str, dg.MetadataValue] = {
            "check_scope": dg.MetadataValue.text(self.sentence()),
            "check_mode": dg.MetadataValue.text(self.mode),
        }
        if self.mode == RANGE:
            out["changed_ranges"] = dg.MetadataValue.text(self.ranges[0])
        if self.mode == SAMPLED and self.changed != "true":
            out["sample_size"] = dg.MetadataValue.int(self.sample_rows)
            out["sample_seed"] = dg.MetadataValue.int(self.seed)
            out["sample_bound_95"] = dg.MetadataValue.float(round(self.bound, 6))
            out["changed_ranges"] = dg.MetadataValue.text(", ".join(self.ranges) or "none")
        return out


DESCRIPTION = (
    f" Reads what the run changed in full and a uniform random sample of the rest, stating the sample's size and "
    f"confidence; run tag {TAG}={FULL} reads every row."
)


def scope(
    context: dg.AssetCheckExecutionContext,
    conn: psycopg.Connection,
    *,
    table: str,
    key: str,
    backfills: Sequence[str],
    sample: int,
    unit: str,
) -> Scope:
    """The scope of one check of `table`, whose backfills `backfills` slice `key` into ranges."""
    mode = mode_of(context.run.tags)
    partition = _partition(context)
    if partition is not None:
        return Scope(RANGE, table, key, predicate(conn, key, [partition]), "false", (partition,), 0, 0, 0, unit)
    if sample < 1:
        raise DboptError(f"Nothing was checked: the sample size is {sample} but must be at least 1; fix the check's config.")
    if mode == FULL:
        return Scope(FULL, table, key, "true", "false", (), 0, 0, 0, unit)
    written = ranges_written_by(conn, backfills, context.run.run_id)
    changed = predicate(conn, key, written)
    seed = random.SystemRandom().randrange(1, 2**31)
    if changed == "true":
        return Scope(SAMPLED, table, key, "true", "false", tuple(sorted(written)), sample, 0, seed, unit)
    slots = row_slots(conn, table, sample, seed)
    outside = slots if changed == "false" else f"{slots} AND NOT ({changed})"
    # The slots are probed once, here: the check's queries then read the rows found by key (an index
    # lookup each) instead of probing every slot again, which at ~15 slots per live row costs more than
    # the check itself. A row updated since keeps its key, so it is still read, as it is now.
    keys = [
        r[0] for r in conn.execute(
            sql.SQL("SELECT {} FROM {} WHERE ").format(sql.Identifier(key), _ident(table))  # type: ignore[arg-type]
            + sql.SQL(outside) + sql.SQL(f" LIMIT {MAX_LISTED + 1}")
        ).fetchall()
    ]
    if len(keys) <= MAX_LISTED:
        return Scope(SAMPLED, table, key, changed, keys_in(conn, key, keys), tuple(sorted(written)), sample,
                     len(keys), seed, unit)
    found = conn.execute(
        sql.SQL("SELECT count(*) FROM {} WHERE ").format(_ident(table)) + sql.SQL(outside)  # type: ignore[arg-type]
    ).fetchone()[0]
    return Scope(SAMPLED, table, key, changed, outside, tuple(sorted(written)), sample, int(found), seed, unit)


def keys_in(conn: psycopg.Connection, key: str, keys: Sequence[object]) -> str:
    """SQL true for the rows whose uuid `key` is one of `keys` ("false" for none)."""
    if not keys:
        return "false"
    array = "{" + ",".join(str(k) for k in keys) + "}"
    return sql.SQL("{} = ANY ({}::uuid[])").format(sql.Identifier(key), sql.Literal(array)).as_string(conn)


def _partition(context: dg.AssetCheckExecutionContext) -> str | None:
    """The key range of a check on a `*_by_range` asset (its run's partition); None for the job's steps."""
    by_range = any(k.asset_key.path[-1].endswith("_by_range") for k in context.selected_asset_check_keys)
    if not by_range:
        return None
    partition = context.run.tags.get(PARTITION_TAG)
    if partition not in {r.id for r in uuid_ranges(16)}:
        raise DboptError(f"Nothing was checked: a *_by_range check runs in a run of one key range (tag "
                         f"{PARTITION_TAG} = 0 to f), not {partition!r}; launch it from the partitioned asset.")
    return partition


def predicate(conn: psycopg.Connection, key: str, range_ids: Iterable[str]) -> str:
    """SQL true for the rows whose `key` lies in these ranges ("false" for none, "true" for all)."""
    by_id = {r.id: r for r in [ALL, *uuid_ranges(16), *uuid_ranges(256)]}
    chosen = sorted((by_id[i] for i in set(range_ids) if i in by_id), key=lambda r: r.lo or "")
    if any(r.id == ALL.id for r in chosen):
        return "true"
    merged: list[KeyRange] = []
    for r in chosen:  # adjacent ranges become one
        if merged and merged[-1].hi is not None and merged[-1].hi == r.lo:
            merged[-1] = KeyRange(f"{merged[-1].id}+{r.id}", merged[-1].lo, r.hi)
        else:
            merged.append(r)
    if not merged:
        return "false"
    parts = []
    for r in merged:
        if r.lo is None and r.hi is None:
            return "true"
        bounds = []
        if r.lo is not None:
            bounds.append(sql.SQL("{} >= {}::uuid").format(sql.Identifier(key), sql.Literal(r.lo)))
        if r.hi is not None:
            bounds.append(sql.SQL("{} < {}::uuid").format(sql.Identifier(key), sql.Literal(r.hi)))
        parts.append(sql.SQL("({})").format(sql.SQL(" AND ").join(bounds)).as_string(conn))
    return "(" + " OR ".join(parts) + ")"


def row_slots(conn: psycopg.Connection, table: str, rows: int, seed: int) -> str:
    """SQL true for the live rows at seeded random (page, line) slots: about `rows` of them, uniformly drawn."""
    block, pages, live = conn.execute(
        "SELECT current_setting('block_size')::int, pg_relation_size(%s::regclass) / current_setting('block_size')::int, "
        "GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass",
        (table, table),
    ).fetchone()
    lines = (block - 24) // 28  # MaxHeapTuplesPerPage: no page holds more rows than this
    slots = max(1, pages * lines)
    density = min(1.0, live / slots) if live else 0.05  # never analyzed: assume 1 row in 20 slots
    probes = min(MAX_PROBES, slots, math.ceil(rows / max(density, 1e-6) * 1.1))
    return (
        f"ctid = ANY (ARRAY(SELECT ('(' || (v / {lines}) || ',' || (v % {lines} + 1) || ')')::tid FROM "
        f"(SELECT (hashtextextended(g::text, {int(seed)}) & 9223372036854775807) % {slots} AS v "
        f"FROM generate_series(1, {probes}) AS g) AS slot))"
    )


def _ident(name: str) -> sql.Composable:
    return sql.SQL(".").join(sql.Identifier(p) for p in name.split("."))
