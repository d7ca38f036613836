"""Open a layer blob as a stream of uncompressed tar bytes, by its media type."""

from __future__ import annotations

import enum
import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, cast

from .errors import CorruptLayer, UnsupportedMediaType

CHUNK = 1 << 18
# Bound each decompression step: a layer of zeros can expand a thousandfold.
_MAX_OUT = 1 << 20


class Compression(enum.Enum):
    NONE = "tar"
    GZIP = "gzip"
    ZSTD = "zstd"


_TAR_TYPES = {
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.docker.image.rootfs.diff.tar",
}
_GZIP_TYPES = {
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
}
_ZSTD_TYPES = {
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
}

MEDIA_TYPE_FOR = {
    Compression.NONE: "application/vnd.oci.image.layer.v1.tar",
    Compression.GZIP: "application/vnd.oci.image.layer.v1.tar+gzip",
    Compression.ZSTD: "application/vnd.oci.image.layer.v1.tar+zstd",
}


def compression_for(media_type: str, what: str) -> Compression:
    """The compression a layer media type names; unknown types are an error."""
    if media_type in _TAR_TYPES:
        return Compression.NONE
    if media_type in _GZIP_TYPES:
        return Compression.GZIP
    if media_type in _ZSTD_TYPES:
        return Compression.ZSTD
    raise UnsupportedMediaType(f"{what}: unsupported layer media type {media_type!r}")


def sniff(head: bytes) -> Compression:
    """Guess from the first bytes, for archives that record no media type."""
    if head[:2] == b"\x1f\x8b":
        return Compression.GZIP
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return Compression.ZSTD
    return Compression.NONE


def file_chunks(fh: IO[bytes], start: int, length: int, what: str) -> Iterator[bytes]:
    """Exactly `length` bytes of `fh` from `start`, in chunks; short data is an error."""
    fh.seek(start)
    left = length
    while left:
        data = fh.read(min(CHUNK, left))
        if not data:
            raise CorruptLayer(f"{what}: blob ends {left} bytes early (truncated archive)")
        left -= len(data)
        yield data


def hashed(chunks: Iterable[bytes], hasher: hashlib._Hash) -> Iterator[bytes]:
    """Pass chunks through, feeding each to `hasher` on the way."""
    update = hasher.update
    for chunk in chunks:
        update(chunk)
        yield chunk


def decompressed(chunks: Iterable[bytes], kind: Compression, what: str) -> Iterator[bytes]:
    if kind is Compression.NONE:
        return iter(chunks)
    if kind is Compression.GZIP:
        return _gunzip(chunks, what)
    return _unzstd(chunks, what)


def _inflater() -> tuple[Callable[[int], Any], type[Exception]]:
    """ISA-L's inflate (python-isal) where installed: about 2.5x zlib's speed on layers."""
    try:
        from isal import isal_zlib  # noqa: PLC0415
    except ImportError:  # pragma: no cover - isal is a dependency; zlib where it cannot install
        return zlib.decompressobj, zlib.error
    return isal_zlib.decompressobj, cast(type[Exception], isal_zlib.error)


def _gunzip(chunks: Iterable[bytes], what: str) -> Iterator[bytes]:
    decompressobj, error = _inflater()
    dec = decompressobj(31)
    started = False
    try:
        for chunk in chunks:
            data = chunk
            while data:
                if dec.eof:
                    if not data.strip(b"\0"):
                        break  # zero padding after the last member
                    # gzip allows members back to back (eStargz writes one per file).
                    dec = decompressobj(31)
                out = dec.decompress(data, _MAX_OUT)
                started = True
                if out:
                    yield out
                data = dec.unused_data if dec.eof else dec.unconsumed_tail
                while not data and not dec.eof:
                    out = dec.decompress(b"", _MAX_OUT)
                    if not out:
                        break
                    yield out
    except (zlib.error, error) as exc:
        raise CorruptLayer(f"{what}: corrupt gzip data ({exc})") from None
    if not started or not dec.eof:
        raise CorruptLayer(f"{what}: gzip stream is truncated")


class _ChunkReader:
    """A minimal read() over an iterator of chunks, for zstandard's stream reader."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._it = iter(chunks)
        self._buf = b""

    def read(self, size: int = -1) -> bytes:
        if not self._buf:
            self._buf = next(self._it, b"")
        if size < 0 or size >= len(self._buf):
            out, self._buf = self._buf, b""
            return out
        out, self._buf = self._buf[:size], self._buf[size:]
        return out


def _unzstd(chunks: Iterable[bytes], what: str) -> Iterator[bytes]:
    import zstandard  # noqa: PLC0415  (loaded for zstd layers only)

    dctx = zstandard.ZstdDecompressor()
    total = 0
    try:
        with dctx.stream_reader(
            cast(IO[bytes], _ChunkReader(chunks)), read_size=CHUNK, read_across_frames=True
        ) as reader:
            while True:
                out = reader.read(_MAX_OUT)
                if not out:
                    break
                total += len(out)
                yield out
    except zstandard.ZstdError as exc:
        raise CorruptLayer(f"{what}: corrupt zstd data ({exc})") from None
    if not total:
        raise CorruptLayer(f"{what}: zstd stream is empty or truncated")
