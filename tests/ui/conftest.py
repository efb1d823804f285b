"""The UI tests need Debian's Chromium (`apt install chromium`, done by `.ci/run` and
`make chromium`). Without it they are deselected, with a line in the summary saying so."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def chromium_present() -> bool:
    return shutil.which("chromium") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if chromium_present():
        return
    ui = [item for item in items if "tests/ui/" in str(item.fspath)]
    if ui:
        for item in ui:
            items.remove(item)
        config.hook.pytest_deselected(items=ui)
        config._dbopt_ui_deselected = len(ui)  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    count = getattr(config, "_dbopt_ui_deselected", 0)
    if count:
        terminalreporter.write_line(
            f"{count} UI test(s) not run: Chromium is not installed (run `make chromium`, as CI does).", yellow=True
        )
