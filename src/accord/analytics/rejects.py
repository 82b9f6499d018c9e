"""The rejects file of an import: `line,reason` and then the rejected row's own columns, so
that it can be corrected and imported again."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

from accord.core.db import utcnow
from accord.core.settings import Settings


class RejectsFile:
    """The rejects file: ``line,reason`` then the row's own columns; opened on first use."""

    def __init__(self, path: Path | None, settings: Settings, source: Path, header: list[str]):
        self.header = header
        self.count = 0
        self.file: IO[str] | None = None
        self.writer: Any = None
        if path is None:
            stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
            self.path: Path | None = None
            self.default = Path(settings.var_dir) / "rejects" / f"{source.stem}-{stamp}.csv"
        else:
            # An explicit path is always written, so that no stale rejects file survives.
            self.path = self.default = path
            self._open()

    def _open(self) -> None:
        self.default.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.default, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self.writer = csv.writer(self.file)
        self.writer.writerow(["line", "reason", *self.header])
        self.path = self.default

    def write(self, line: int, reason: str, values: list[str]) -> None:
        if self.file is None:
            self._open()
        self.writer.writerow([line, reason, *values])
        self.count += 1

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
