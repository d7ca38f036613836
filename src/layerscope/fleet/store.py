"""The scan's results in an embedded DuckDB file, one transaction per image.

An interrupted scan leaves every finished image in the file; `--resume` keeps them (and retries
the failed ones). `--parquet DIR` writes each table as DIR/TABLE.parquet as well.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from ..errors import OutputError
from .rows import TABLES, Row


def check_writable(path: Path) -> None:
    """Fail before a scan starts, not after it, when its results could not be written."""
    if not path.parent.is_dir():
        raise OutputError(f"{path}: directory {path.parent} does not exist")
    if path.exists() and not path.is_file():
        raise OutputError(f"{path}: not a file")


class ScanStore:
    def __init__(self, path: Path, resume: bool = False) -> None:
        self.path = path
        check_writable(path)
        if path.exists() and not resume:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            Path(f"{path}.wal").unlink(missing_ok=True)
        try:
            self.con = duckdb.connect(str(path))
        except duckdb.Error as exc:
            raise OutputError(f"{path}: not a DuckDB file layerscope can open ({exc})") from None
        for table, columns in TABLES.items():
            cols = ", ".join(f"{name} {kind}" for name, kind in columns)
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
        self.con.execute("CREATE TABLE IF NOT EXISTS scan (key VARCHAR PRIMARY KEY, value VARCHAR)")
        self.layer_ids: set[str] = {r[0] for r in self.con.execute("SELECT diff_id FROM layers")
                                    .fetchall()}  # fmt: skip

    def finished(self) -> set[str]:
        """Images analysed by an earlier run into this file (failed ones are removed: retried)."""
        failed = [r[0] for r in self.con.execute(
            "SELECT image FROM images WHERE status <> 'ok'").fetchall()]  # fmt: skip
        self._delete(failed)
        return {r[0] for r in self.con.execute("SELECT image FROM images").fetchall()}

    def _delete(self, images: list[str]) -> None:
        for table in ("images", "image_layers", "files", "findings", "packages"):
            self.con.executemany(f"DELETE FROM {table} WHERE image = ?", [[i] for i in images])

    def _insert(self, table: str, rows: Iterable[Row]) -> None:
        columns = [name for name, _ in TABLES[table]]
        values = [[row.get(c) for c in columns] for row in rows]
        if values:
            marks = ", ".join("?" for _ in columns)
            self.con.executemany(f"INSERT INTO {table} VALUES ({marks})", values)

    def add(self, image: Row, tables: dict[str, Iterable[Row]]) -> None:
        """One image's rows (and its layers not yet recorded), all or nothing."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            self._delete([str(image["image"])])
            self._insert("images", [image])
            for table, rows in tables.items():
                if table == "layers":
                    fresh = [r for r in rows if r["diff_id"] not in self.layer_ids]
                    self._insert(table, fresh)
                    self.layer_ids.update(str(r["diff_id"]) for r in fresh)
                else:
                    self._insert(table, rows)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def note(self, **values: Any) -> None:
        for key, value in values.items():
            self.con.execute(
                "INSERT OR REPLACE INTO scan VALUES (?, ?)", [key, None if value is None else
                                                              str(value)]
            )  # fmt: skip

    def started(self, what: str) -> None:
        self.note(targets=what, started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  state="running")  # fmt: skip

    def export_parquet(self, directory: Path) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{directory}: cannot create ({exc.strerror})") from None
        for table in (*TABLES, "scan"):
            target = str(directory / f"{table}.parquet").replace("'", "''")
            self.con.execute(f"COPY {table} TO '{target}' (FORMAT PARQUET)")

    def close(self) -> None:
        self.con.close()


def open_existing(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.is_file():
        raise OutputError(f"{path}: no scan results there (run layerscope scan TARGET first)")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise OutputError(f"{path}: not a DuckDB file layerscope can open ({exc})") from None
