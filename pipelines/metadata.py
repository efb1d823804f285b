"""What every step shows in the UI: tables of figures (`dg.MetadataValue.table`), links to its
SQL, check results that say what failed and what to do next. Shared by the PostgreSQL and
ClickHouse steps."""

import contextlib
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from dbopt.paths import SQL_DIR

OWNERS = ["team:platform"]


_TYPES = ((bool, "bool"), (int, "int"), (float, "float"))


def preflight_group(system: str) -> dict[str, Any]:
    """What every preflight and plan asset shares: the group `preflight`, its system as kind and tag, the owners."""
    return {"group_name": "preflight", "kinds": {system}, "owners": OWNERS, "tags": {"system": system}}


def table_of(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> dg.MetadataValue:
    """Rows of figures as Dagster's own table, with a schema (the first row's keys unless
    `columns` are given). Each column's type is its first value's: bool, int, float, or
    string for everything else (uuids, times, lists joined by commas). Prose stays markdown."""
    cols = list(columns or (rows[0].keys() if rows else []))

    def cell(v: Any) -> str | int | float | bool | None:
        if isinstance(v, float):
            return round(v, 3)
        if v is None or isinstance(v, bool | int):
            return v
        if isinstance(v, list | tuple):
            return ", ".join(str(x) for x in v)
        return str(v)

    records = [dg.TableRecord({c: cell(r.get(c)) for c in cols}) for r in rows]

    def kind(c: str) -> str:
        first = next((r.data[c] for r in records if r.data[c] is not None), None)
        return next((name for t, name in _TYPES if isinstance(first, t)), "string")

    schema = dg.TableSchema(columns=[dg.TableColumn(c, kind(c)) for c in cols])
    return dg.MetadataValue.table(records, schema=schema)


def table_keys(table_name: str, rows: int, columns: Sequence[tuple[str, str]] = ()) -> dict[str, dg.MetadataValue]:
    """Dagster's standard keys for an asset that is one real table: its name, row count and,
    given (name, type) pairs, its columns (the asset page's "Columns")."""
    keys = {"dagster/table_name": dg.MetadataValue.text(table_name), "dagster/row_count": dg.MetadataValue.int(rows)}
    if columns:
        keys["dagster/column_schema"] = dg.MetadataValue.table_schema(
            dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns]))
    return keys


def numbers(values: dict[str, Any]) -> dict[str, dg.MetadataValue]:
    """Typed metadata for plain figures."""
    out: dict[str, dg.MetadataValue] = {}
    for k, v in values.items():
        if isinstance(v, bool):
            out[k] = dg.MetadataValue.bool(v)
        elif isinstance(v, int):
            out[k] = dg.MetadataValue.int(v)
        elif isinstance(v, float):
            out[k] = dg.MetadataValue.float(v)
        else:
            out[k] = dg.MetadataValue.text(str(v))
    return out


def check_result(
    passed: bool,
    *,
    figures: dict[str, Any],
    offending: Iterable[dict[str, Any]] = (),
    next_step: str = "",
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    check_name: str | None = None,
    asset_key: str | None = None,
    **extra: dg.MetadataValue,
) -> dg.AssetCheckResult:
    """A check result whose metadata shows the figures, a sample of offending rows and what to do
    (`check_name` and `asset_key` name it when one multi-asset check yields several)."""
    metadata = numbers(figures)
    metadata.update(extra)
    if not passed:
        metadata["offending_sample"] = table_of(list(offending)[:20])
        metadata["next_step"] = dg.MetadataValue.text(next_step)
    return dg.AssetCheckResult(passed=passed, severity=severity, metadata=metadata, check_name=check_name,
                               asset_key=asset_key)


@contextlib.contextmanager
def _code_references_are_beta() -> Iterator[None]:
    """Dagster marks code references beta; silence that warning here only, not for the process."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.BetaWarning,
                                message=".*(CodeReference|CodeReferencesMetadataValue)")
        yield


def sql_references(*relatives: str) -> dict[str, dg.MetadataValue]:
    """Definition metadata linking a step to the SQL files it runs (paths under sql/)."""
    with _code_references_are_beta():
        refs = [
            dg.LocalFileCodeReference(file_path=str(SQL_DIR / rel), line_number=1, label=Path(rel).name)
            for rel in relatives
        ]
        references = dg.CodeReferencesMetadataValue(code_references=refs)
    return {
        "dagster/code_references": references,
        "sql_files": dg.MetadataValue.md("\n".join(f"- `sql/{r}`" for r in relatives)),
    }


def with_python_references(definitions: Sequence[Any]) -> list[Any]:
    """Each asset's Python source added to its code references (after its SQL files).

    Dagster's `with_source_code_references` names the file of the outermost wrapper, which
    for our steps is `operator_errors`' module; this follows `__wrapped__` to the step.
    """
    with _code_references_are_beta():
        return [_with_python_reference(d) for d in definitions]


def _with_python_reference(d: Any) -> Any:
    import inspect

    fn = getattr(getattr(getattr(d, "node_def", None), "compute_fn", None), "decorated_fn", None)
    if not isinstance(d, dg.AssetsDefinition) or fn is None:
        return d
    fn = inspect.unwrap(fn)
    ref = dg.LocalFileCodeReference(file_path=inspect.getsourcefile(fn) or "", line_number=inspect.getsourcelines(fn)[1],
                                    label=f"{fn.__module__}.{fn.__name__}")

    def add(spec: dg.AssetSpec, ref: dg.LocalFileCodeReference = ref) -> dg.AssetSpec:
        existing = spec.metadata.get("dagster/code_references")
        refs = [*(existing.code_references if existing else []), ref]
        return spec.replace_attributes(
            metadata={**spec.metadata, "dagster/code_references": dg.CodeReferencesMetadataValue(code_references=refs)})

    return d.map_asset_specs(add)
