"""The output directory: ``index.jsonl`` appends and their repair, temp-file cleanup. Disk I/O.

``index.jsonl`` gets one JSON object per line, each fsynced before the state records
it written. After a crash, :func:`repair_index` appends the lines the state still owes,
skipping any already present by (``item_id``, ``revision``) and dropping a torn last
line, so every line appears exactly once.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from pipeline.feedscan.items import ID_LENGTH
from pipeline.feedscan.state import ScanState
from pipeline.files import append_durably, temp_target
from pipeline.report import EXTENSIONS

__all__ = ["INDEX_NAME", "append_line", "remove_temp_files", "repair_index"]

INDEX_NAME = "index.jsonl"
_REPORT_NAME = re.compile(rf"^[0-9a-f]{{{ID_LENGTH}}}\.(?:{'|'.join(EXTENSIONS.values())})$")
"""Our per-item report names (``<item id>.<ext>``)."""


def append_line(path: Path, line: str) -> None:
    """Append one line to ``path`` and fsync it (and the directory, for a new file)."""
    append_durably(path, (line + "\n").encode("utf-8"))


def repair_index(state: ScanState, out_dir: Path) -> None:
    """Write index lines a killed run recorded but may not have appended."""
    owed = state.owed_index_lines()
    if not owed:
        return
    index = out_dir / INDEX_NAME
    present: set[tuple[str, int]] = set()
    if index.exists():
        data = index.read_bytes()
        if data and not data.endswith(b"\n"):
            # A torn append: only an owed line can be half-written, and it is
            # rewritten whole below.
            keep = data.rfind(b"\n") + 1
            with index.open("r+b") as fh:
                fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
            data = data[:keep]
        for raw in data.splitlines():
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if isinstance(entry, dict):
                present.add((str(entry.get("item_id")), int(entry.get("revision", 0))))
    for item_id, revision, line in owed:
        if (item_id, revision) not in present:
            append_line(index, line)
        state.index_written(item_id)


def remove_temp_files(out_dir: Path) -> None:
    # Report temp files of a killed run. Safe: the state lock is held, and only names
    # shaped like our report temp files are touched.
    for path in out_dir.iterdir():
        target = temp_target(path.name)
        if target is not None and _REPORT_NAME.match(target):
            path.unlink(missing_ok=True)
