"""The previous sample of a counter source, kept between monitoring runs.

Redis' `INFO stats` and `pg_stat_statements` are counters since some start; a rate "over
the last interval" needs the sample taken by the previous run. Each source keeps its last
sample in a small JSON file under `<data folder>/monitoring/samples/`, written atomically
(a new file renamed over the old one), so a run killed mid-write leaves the previous
sample intact. In a team deployment the data folder (`DBOPT_HOME`) must be on a volume
that the run workers share and that outlives them; otherwise every run is a first sample.

Files are named by a hash of the source's identity (a URL without its password, a server
run id), never by anything secret.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from dbopt.paths import data_dir


class SampleStore:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or data_dir() / "monitoring" / "samples"

    def _path(self, source: str) -> Path:
        digest = hashlib.sha256(source.encode()).hexdigest()[:20]
        return self.folder / f"{digest}.json"

    def previous(self, source: str) -> dict[str, Any] | None:
        """The last sample saved for `source`, or None (first run, or an unreadable file)."""
        path = self._path(source)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("source") != source:
            return None
        return data.get("sample")

    def save(self, source: str, sample: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(source)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"source": source, "saved_at": time.time(), "sample": sample}), encoding="utf-8")
        os.replace(tmp, path)
