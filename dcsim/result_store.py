"""The resumable result store of a sweep: one parquet file per finished design point.

Part of the application layer (DESIGN §6). A point's rows are written to
`DIR/points/<point_id>.parquet` through a temporary file and `os.replace`, so a file is
either complete or absent: an interrupted sweep (Ctrl-C, kill -9) loses at most the points
that were running, never a finished one, and never leaves a half-written file that a rerun
would trust. A rerun skips every point whose file exists and holds status "ok"; a point that
failed is recorded (status "error" with its message) and is retried on the next run.
`--fresh` removes the store first.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from workloads.atomic_file import atomic_path

POINTS_DIR = "points"


class ResultStore:
    """Finished points of one output directory."""

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)
        self.points_dir = self.out_dir / POINTS_DIR

    def prepare(self, fresh: bool = False) -> None:
        """Create the store (emptying it with `fresh`) and remove stale temporary files."""
        if fresh and self.points_dir.exists():
            shutil.rmtree(self.points_dir)
        self.points_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.points_dir.glob(".*.tmp"):
            stale.unlink(missing_ok=True)

    def path(self, point_id: str) -> Path:
        return self.points_dir / f"{point_id}.parquet"

    def finished(self, point_id: str) -> bool:
        """True when the point is stored and succeeded."""
        path = self.path(point_id)
        if not path.is_file():
            return False
        try:
            status = pd.read_parquet(path, columns=["status"])["status"]
        except Exception:  # unreadable file: treat as not finished, it will be rewritten
            return False
        return bool(len(status)) and bool((status == "ok").all())

    def write(self, point_id: str, rows: pd.DataFrame) -> None:
        """Store a point's rows atomically."""
        with atomic_path(self.path(point_id)) as temp:
            rows.to_parquet(temp, index=False)

    def read(self, point_ids: Iterable[str]) -> pd.DataFrame:
        """The stored rows of `point_ids` that exist, in the given order."""
        frames = [pd.read_parquet(self.path(pid)) for pid in point_ids if self.path(pid).is_file()]
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)
