"""Read every stored version of every small text file once, and find the secrets in it.

Each layer blob is read once (`content.read_members`), layers in parallel threads. Every version
of a path counts, including those a later layer deleted or overwrote: their bytes still ship in
their layer. Binaries (a NUL in the first 8 KiB) and files over the size limit are skipped and
counted; a content already scanned in a lower layer (same xxh3 hash and size, as a `chown -R`
stores again) is not read twice.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..analysis import Analysis
from ..content import read_members
from ..model import BlobRef, EntryKind
from .flags import DEFAULT_LIMIT
from .model import PathState
from .secrets import Hit, SecretScanner
from .sensitive import shape_of

__all__ = ["DEFAULT_LIMIT", "ContentScan", "ScanStats", "ScannedFile", "scan_contents"]
_SNIFF = 8192


@dataclass(frozen=True, slots=True)
class ScannedFile:
    """One stored version of a file that holds something: secrets, or a credential shape."""

    path: str
    """Absolute path (`/srv/app/.env`)."""
    layer: int
    size: int
    state: PathState
    hits: tuple[Hit, ...]
    shape: str = ""
    """Why its name and content make it a credentials file (`.npmrc with an auth token`)."""


@dataclass(frozen=True, slots=True)
class ScanStats:
    files_read: int
    bytes_read: int
    binaries_skipped: int
    too_large: int
    """Files over the limit, not read."""
    too_large_bytes: int
    limit: int
    seconds: float
    largest_skipped: tuple[tuple[str, int], ...] = ()
    """The largest files skipped for size (path, bytes), at most 5."""


@dataclass(frozen=True, slots=True)
class ContentScan:
    files: tuple[ScannedFile, ...]
    stats: ScanStats
    kept: dict[tuple[int, int], bytes] = field(default_factory=dict)
    """The bytes of the files asked to be kept, by content (xxh3, size): so `/etc/passwd` is
    not read a second time."""


@dataclass(slots=True)
class _Result:
    hits: tuple[Hit, ...] = ()
    shape: str = ""


def state_of(analysis: Analysis, path: str, layer: int) -> PathState:
    """PRESENT when the version `layer` wrote is the one in the final filesystem."""
    versions = analysis.tree.versions.get(path, ())
    last = versions[-1] if versions else None
    if last is not None and last.layer == layer and last.entry is not None:
        return PathState.PRESENT
    return PathState.HIDDEN


def _plan(
    analysis: Analysis, limit: int
) -> tuple[
    list[dict[str, tuple[int, int]]], list[tuple[int, str, tuple[int, int]]], list[tuple[str, int]]
]:
    """Per layer, the paths to read (with their content key); the copies of content read below;
    and the files over the limit."""
    seen: set[tuple[int, int]] = set()
    wanted: list[dict[str, tuple[int, int]]] = []
    copies: list[tuple[int, str, tuple[int, int]]] = []
    too_large: list[tuple[str, int]] = []
    for layer in analysis.image.layers:
        mine: dict[str, tuple[int, int]] = {}
        for entry in layer.entries:
            if not entry.size or entry.kind is not EntryKind.FILE:
                continue  # whiteouts and opaque markers are empty files
            if entry.size > limit:
                too_large.append((entry.path, entry.size))
                continue
            key = (entry.content_hash, entry.size)
            if key in seen and entry.content_hash:
                copies.append((layer.index, entry.path, key))
            else:
                seen.add(key)
                mine[entry.path] = key
        wanted.append(mine)
    return wanted, copies, too_large


class _Collector:
    """What the layer threads found, under one lock."""

    def __init__(self, scanner: SecretScanner, keep: frozenset[str]) -> None:
        self.scanner = scanner
        self.keep = keep
        self.kept: dict[tuple[int, int], bytes] = {}
        self.lock = threading.Lock()
        self.results: dict[tuple[int, int], _Result] = {}
        self.found: list[tuple[int, str, tuple[int, int]]] = []
        self.files = self.bytes = self.binaries = 0

    def read_layer(self, blob: BlobRef, index: int, mine: dict[str, tuple[int, int]]) -> None:
        """Scan the wanted files of one layer; counts are kept locally and added at the end."""
        counts = [0, 0, 0]  # files, bytes, binaries
        scan, keep = self.scanner.scan, self.keep

        def consume(path: str, chunks: Iterator[bytes]) -> None:
            first = next(chunks, b"")
            if b"\0" in first[:_SNIFF]:
                counts[2] += 1
                return
            key = mine[path]
            data = first + b"".join(chunks) if len(first) < key[1] else first
            counts[0] += 1
            counts[1] += len(data)
            hits = scan(data, path)
            shape = shape_of(path, data)
            if hits or shape or path in keep:
                with self.lock:
                    if path in keep:
                        self.kept[key] = data
                    if hits or shape:
                        self.results[key] = _Result(tuple(hits), shape)
                        self.found.append((index, path, key))

        read_members(blob, set(mine), consume)
        with self.lock:
            self.files += counts[0]
            self.bytes += counts[1]
            self.binaries += counts[2]


def scan_contents(
    analysis: Analysis,
    blobs: tuple[BlobRef, ...],
    scanner: SecretScanner,
    limit: int = DEFAULT_LIMIT,
    keep: frozenset[str] = frozenset(),
) -> ContentScan:
    """Every version of every text file up to `limit` bytes, in every layer, scanned once;
    the contents of the paths in `keep` (clean) are returned too."""
    started = time.perf_counter()
    wanted, copies, too_large = _plan(analysis, limit)
    out = _Collector(scanner, keep)

    def one(index: int) -> None:
        if wanted[index]:
            out.read_layer(blobs[index], index, wanted[index])

    workers = max(1, min(len(blobs), os.cpu_count() or 2, 4))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan") as pool:
        for fut in [pool.submit(one, i) for i in range(len(blobs))]:
            fut.result()
    found = out.found + [c for c in copies if c[2] in out.results]
    files = tuple(
        ScannedFile(
            "/" + path,
            layer,
            key[1],
            state_of(analysis, path, layer),
            out.results[key].hits,
            out.results[key].shape,
        )
        for layer, path, key in sorted(found)
    )
    largest = tuple(sorted((("/" + p, s) for p, s in too_large), key=lambda x: -x[1])[:5])
    stats = ScanStats(
        files_read=out.files,
        bytes_read=out.bytes,
        binaries_skipped=out.binaries,
        too_large=len(too_large),
        too_large_bytes=sum(s for _, s in too_large),
        limit=limit,
        seconds=time.perf_counter() - started,
        largest_skipped=largest,
    )
    return ContentScan(files, stats, out.kept)
