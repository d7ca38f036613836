"""Streams and compressed archives -> a private temporary file that an archive reader can seek.

A docker-archive names its layers in `manifest.json`, which `docker save` writes last, so a
stream (`docker save img | layerscope -`) or a compressed archive (`img.tar.gz`, `img.tar.zst`)
cannot be read in one pass. Its (decompressed) bytes are written to a file made by `mkstemp`
(mode 0600) in `$TMPDIR`. On Linux the file is unlinked at once and reopened through
`/proc/self/fd`, so nothing is left behind however the process ends, even on SIGKILL; elsewhere
it is removed when closed and at exit. Decompression is streamed: memory stays bounded whatever
the stream holds.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from ..compression import CHUNK, Compression, decompressed, sniff
from ..errors import SourceError

_LEFT: set[Path] = set()


@atexit.register
def _remove_left() -> None:
    for path in list(_LEFT):
        with contextlib.suppress(OSError):
            path.unlink()


class Spooled:
    """A spooled copy: `path` opens it until `close()`."""

    def __init__(self, fd: int, path: Path, named: Path | None) -> None:
        self._fd = fd
        self.path = path
        self._named = named

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._named is not None:
            with contextlib.suppress(OSError):
                self._named.unlink()
            _LEFT.discard(self._named)
            self._named = None


def _create() -> Spooled:
    fd, name = tempfile.mkstemp(prefix="layerscope-", suffix=".tar")
    named: Path | None = Path(name)
    path = Path(f"/proc/self/fd/{fd}")
    if path.exists():
        os.unlink(name)
        named = None
    else:  # pragma: no cover (no /proc: not Linux)
        path = Path(name)
        _LEFT.add(Path(name))
    return Spooled(fd, path, named)


def spool(chunks: Iterable[bytes], what: str) -> Spooled:
    """Write `chunks` (decompressed if they start as gzip or zstd) to a private file."""
    spooled = _create()
    try:
        it = iter(chunks)
        head = next(it, b"")
        kind = sniff(head)
        stream = _chain(head, it)
        if kind is not Compression.NONE:
            stream = decompressed(stream, kind, f"{what} ({kind.value})")
        with os.fdopen(os.dup(spooled._fd), "wb") as out:
            for chunk in stream:
                out.write(chunk)
    except OSError as exc:
        spooled.close()
        raise SourceError(f"{what}: cannot spool to {tempfile.gettempdir()} ({exc})") from None
    except BaseException:
        spooled.close()
        raise
    return spooled


def _chain(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if head:
        yield head
    yield from rest


def stream_chunks(fh: IO[bytes]) -> Iterator[bytes]:
    while chunk := fh.read(CHUNK):
        yield chunk


def compression_of(path: Path) -> Compression:
    """Whether the file at `path` is gzip- or zstd-compressed (else a plain archive)."""
    with path.open("rb") as fh:
        return sniff(fh.read(4))
