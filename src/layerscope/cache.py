"""A persistent cache of each layer's parsed entries, keyed by the layer's diff_id.

Opening an image again, or another image sharing base layers, reads no layer twice. One file per
layer under `$XDG_CACHE_HOME/layerscope/layers/` (default `~/.cache`), `sha256-<hex>.layer`: a
JSON header line with the digests, the byte order and the sha256 of the body, then the body in
columns (`array` machine integers for the numbers, NUL-separated UTF-8 for paths and link
targets), which loads several times faster than JSON rows and holds no code (never pickle).
Entries are written to a temporary file and renamed into place, so two processes filling the
cache at once never leave a partial entry; a truncated, corrupt or mismatched entry is ignored,
removed and rebuilt. Only layers whose digests were verified while reading are stored. Nothing
else (no credentials, no URLs) is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .model import Entry, EntryKind, HistoryEntry, Layer

FORMAT = 2
SUFFIX = ".layer"
_LEGACY = "*.json"  # format 1 (JSON rows): never read, pruned like any entry
_SHARED = frozenset({"mode", "uid", "gid", "mtime"})
_KINDS = tuple(EntryKind)
_KIND_INDEX = {k: i for i, k in enumerate(_KINDS)}
# The integer columns, in body order: typecode, Entry field.
_COLUMNS = (
    ("q", "typeflag"),
    ("q", "size"),
    ("q", "mode"),
    ("q", "uid"),
    ("q", "gid"),
    ("q", "mtime"),
    ("Q", "content_hash"),
)


def default_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".cache")
    return Path(base) / "layerscope" / "layers"


@dataclass(frozen=True, slots=True)
class CacheStats:
    directory: Path
    layers: int
    bytes: int


class LayerCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self.write_errors: list[str] = []

    def _path(self, key: str) -> Path | None:
        algo, sep, hexpart = key.partition(":")
        if not sep or not algo.isalnum() or not hexpart.isalnum():
            return None
        return self.directory / f"{algo}-{hexpart}{SUFFIX}"

    def get(
        self, key: str | None, diff_id: str | None, index: int, history: HistoryEntry
    ) -> Layer | None:
        """The cached layer for `key` (a blob digest or diff_id), or None (a miss)."""
        path = self._path(key) if key else None
        if path is None:
            return None
        try:
            raw = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        layer = _decode(raw, index, history)
        # A read-only cache is still read: its upkeep below is best effort.
        if layer is None or (diff_id is not None and layer.diff_id != diff_id):
            with contextlib.suppress(OSError):
                path.unlink()  # partial, corrupt or for another layer: rebuild it
            self.misses += 1
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used entries are pruned first
        self.hits += 1
        return layer

    def put(self, key: str | None, layer: Layer) -> None:
        path = self._path(key) if key else None
        if path is None:
            return
        data = _encode(layer)
        if data is None:
            return  # a value the columns cannot hold (a NUL in a name, a huge PAX number)
        tmp = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.directory)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            # A cache that cannot be written (read-only home, full disk) must not fail the
            # analysis: the layer was read anyway. Kept, so that a caller can say so.
            self.write_errors.append(f"{self.directory}: {exc.strerror or exc}")
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def stats(self) -> CacheStats:
        files = self._files()
        return CacheStats(self.directory, len(files), sum(_size(p) for p in files))

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return [*self.directory.glob(f"*{SUFFIX}"), *self.directory.glob(_LEGACY)]

    def prune(self, keep_bytes: int) -> int:
        """Remove least recently used layers until at most `keep_bytes` remain; how many went."""
        files = sorted(self._files(), key=_mtime)
        total = sum(_size(p) for p in files)
        removed = 0
        for p in files:
            if total <= keep_bytes:
                break
            total -= _size(p)
            p.unlink(missing_ok=True)
            removed += 1
        for stale in self.directory.glob(".tmp-*") if self.directory.is_dir() else []:
            if time.time() - _mtime(stale) > 3600:  # left by a process that was killed
                stale.unlink(missing_ok=True)
        return removed


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def _encode(layer: Layer) -> bytes | None:
    entries = layer.entries
    paths = "\0".join(e.path for e in entries)
    links = "\0".join(e.linkname for e in entries)
    if paths.count("\0") != max(len(entries) - 1, 0) or links.count("\0") != paths.count("\0"):
        return None  # a NUL inside a name (PAX allows it): not cached
    parts: list[bytes] = []
    try:
        for code, name in _COLUMNS:
            parts.append(array(code, [getattr(e, name) for e in entries]).tobytes())
    except OverflowError:
        return None
    parts.append(bytes(_KIND_INDEX[e.kind] for e in entries))
    path_bytes = paths.encode("utf-8", "surrogateescape")
    link_bytes = links.encode("utf-8", "surrogateescape")
    body = b"".join([*parts, path_bytes, link_bytes])
    header = {
        "format": FORMAT,
        "byteorder": sys.byteorder,
        "count": len(entries),
        "paths": len(path_bytes),
        "links": len(link_bytes),
        "sha256": hashlib.sha256(body).hexdigest(),
        "diff_id": layer.diff_id,
        "blob_digest": layer.blob_digest,
        "media_type": layer.media_type,
        "compressed_size": layer.compressed_size,
        "size": layer.size,
        "tar_name": layer.tar_name,
    }
    return json.dumps(header).encode() + b"\n" + body


def _decode(raw: bytes, index: int, history: HistoryEntry) -> Layer | None:
    head, sep, body = raw.partition(b"\n")
    try:
        header = json.loads(head)
        if not sep or header.get("format") != FORMAT or header["byteorder"] != sys.byteorder:
            return None
        if hashlib.sha256(body).hexdigest() != header["sha256"]:
            return None
        count, path_len, link_len = int(header["count"]), int(header["paths"]), int(header["links"])
        view = memoryview(body)
        columns: list[list[int]] = []
        pos = 0
        for code, name in _COLUMNS:
            column = array(code)
            end = pos + count * column.itemsize
            column.frombytes(view[pos:end])
            values = column.tolist()
            if code == "q" and name in _SHARED:
                same: dict[int, int] = {}
                values = [same.setdefault(v, v) for v in values]  # as the tar reader shares them
            columns.append(values)
            pos = end
        kinds = [_KINDS[k] for k in view[pos : pos + count]]
        pos += count
        if pos + path_len + link_len != len(body):
            return None
        paths = body[pos : pos + path_len].decode("utf-8", "surrogateescape")
        links = body[pos + path_len :].decode("utf-8", "surrogateescape")
        paths_list = paths.split("\0") if count else []
        links_list = links.split("\0") if count else []
        if len(paths_list) != count or len(links_list) != count:
            return None
        intern = sys.intern
        typeflags, sizes, modes, uids, gids, mtimes, hashes = columns
        entries = tuple(
            map(
                Entry, map(intern, paths_list), kinds, typeflags, sizes, modes, uids, gids,
                mtimes, links_list, hashes,
            )
        )  # fmt: skip
        return Layer(
            index=index,
            diff_id=str(header["diff_id"]),
            blob_digest=str(header["blob_digest"]),
            media_type=str(header["media_type"]),
            compressed_size=int(header["compressed_size"]),
            size=int(header["size"]),
            tar_name=str(header["tar_name"]),
            history=history,
            entries=entries,
        )
    except (ValueError, KeyError, IndexError, TypeError):
        return None
