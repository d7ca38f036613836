"""One layer blob -> a `Layer`: decompress, verify digests, read every tar header."""

from __future__ import annotations

import hashlib
import itertools
import sys
from collections.abc import Iterator
from dataclasses import replace

from .compression import MEDIA_TYPE_FOR, Compression, compression_for, decompressed, hashed, sniff
from .errors import CorruptLayer, DigestMismatch
from .model import BlobRef, Entry, EntryKind, HistoryEntry, Layer
from .oci import new_hasher
from .tarstream import ChunkSource, clean_name, iter_members, member_to_entry

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
# eStargz adds these to the tar; they are not part of the container filesystem
# (containerd/stargz-snapshotter docs/estargz.md, "TOC, TOCEntries and Footer").
_DATA = frozenset(b"07S")
STARGZ_ENTRIES = frozenset({"stargz.index.json", ".prefetch.landmark", ".no.prefetch.landmark"})


def _peek(chunks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    for chunk in chunks:
        if chunk:
            return chunk, itertools.chain((chunk,), chunks)
    return b"", iter(())


def _hasher(expected: str | None, what: str) -> hashlib._Hash | None:
    """A second hasher where `expected` uses another algorithm than sha256 (always computed)."""
    if expected is None:
        return None
    hasher = new_hasher(expected, what)  # an unknown algorithm is refused, never skipped
    return None if hasher.name == "sha256" else hasher


def _check(
    expected: str | None, sha: hashlib._Hash, other: hashlib._Hash | None, what: str, label: str
) -> None:
    if expected is None:
        return
    hasher = other or sha
    actual = f"{hasher.name}:{hasher.hexdigest()}"
    if actual != expected:
        raise DigestMismatch(f"{what}: {label} is {actual}, but the image records {expected}")


def _compression(ref: BlobRef, head: bytes) -> tuple[Compression, str]:
    """By media type where the format records one; sniffed from the first bytes otherwise."""
    if ref.media_type is None:
        kind = sniff(head)
        return kind, MEDIA_TYPE_FOR[kind]
    return compression_for(ref.media_type, ref.what), ref.media_type


def tar_chunks(ref: BlobRef) -> Iterator[bytes]:
    """The layer's uncompressed tar, unverified (for reading content again after loading)."""
    head, chunks = _peek(ref.open_chunks())
    kind, _ = _compression(ref, head)
    return chunks if kind is Compression.NONE else decompressed(chunks, kind, ref.what)


def read_layer(ref: BlobRef, index: int, history: HistoryEntry) -> Layer:
    """Read a whole layer blob, checking its size and digests, and return its entries."""
    counter = _Counter(ref.open_chunks())
    head, chunks = _peek(iter(counter))
    kind, media_type = _compression(ref, head)
    blob_hasher = hashlib.sha256()
    blob_other = _hasher(ref.digest, ref.what)
    diff_hasher = hashlib.sha256() if kind is not Compression.NONE else blob_hasher
    diff_other = _hasher(ref.diff_id, ref.what)
    raw = hashed(chunks, blob_hasher)
    if blob_other is not None:
        raw = hashed(raw, blob_other)
    stream = raw
    if kind is not Compression.NONE:
        stream = hashed(decompressed(raw, kind, ref.what), diff_hasher)
    if diff_other is not None:
        stream = hashed(stream, diff_other)
    source = ChunkSource(stream, ref.what)
    try:
        entries, size = _read_entries(source, ref)
        source.drain()
    except CorruptLayer as exc:
        # Stored bytes that differ from their digest are the error to report, not what a
        # parser makes of them: hash the rest of the blob, then compare, then the parse error.
        _drain(raw)
        if counter.complete:
            try:
                _check(ref.digest, blob_hasher, blob_other, ref.what, "the blob digest")
                if kind is Compression.NONE:
                    _check(ref.diff_id, diff_hasher, diff_other, ref.what, "the layer digest")
            except DigestMismatch as mismatch:
                damage = str(exc).removeprefix(f"{ref.what}: ")
                raise DigestMismatch(f"{mismatch}; the bytes are damaged ({damage})") from None
        raise
    size_differs = ref.size is not None and counter.total != ref.size
    if size_differs and (ref.digest is None or _differs(ref.digest, blob_hasher, blob_other)):
        # With a matching digest a wrong size is harmless (moby#47072 wrote such descriptors).
        raise CorruptLayer(
            f"{ref.what}: blob is {counter.total} bytes, but the manifest says {ref.size}"
        )
    _check(ref.digest, blob_hasher, blob_other, ref.what, "the blob digest")
    _check(
        ref.diff_id, diff_hasher, diff_other, ref.what, "the uncompressed layer digest (diff_id)"
    )
    blob_digest = "sha256:" + blob_hasher.hexdigest()
    return Layer(
        index=index,
        diff_id="sha256:" + diff_hasher.hexdigest(),
        blob_digest=blob_digest,
        media_type=media_type,
        compressed_size=counter.total,
        size=size,
        tar_name=ref.tar_name,
        history=history,
        entries=tuple(entries),
    )


def _differs(expected: str, sha: hashlib._Hash, other: hashlib._Hash | None) -> bool:
    hasher = other or sha
    return f"{hasher.name}:{hasher.hexdigest()}" != expected


def _drain(chunks: Iterator[bytes]) -> None:
    try:
        for _ in chunks:
            pass
    except CorruptLayer:
        pass  # the stored bytes end early: the caller's error stands (truncated)


def _read_entries(source: ChunkSource, ref: BlobRef) -> tuple[list[Entry], int]:
    entries: list[Entry] = []
    size = 0
    intern = sys.intern
    for member, content_hash in iter_members(source, ref.what, hash_content=True):
        path = clean_name(member.name, ref.what)
        if not path:
            continue  # the root itself ("." or "/"): dive skips it too
        if ref.stargz and path in STARGZ_ENTRIES:
            continue
        if path.endswith(WHITEOUT_PREFIX) and path.rpartition("/")[2] == WHITEOUT_PREFIX:
            raise CorruptLayer(f"{ref.what}: bare whiteout entry {path!r} is invalid")
        if (
            member.size
            and member.typeflag in _DATA
            and path.rpartition("/")[2].startswith(WHITEOUT_PREFIX)
        ):
            raise CorruptLayer(
                f"{ref.what}: whiteout entry {path!r} carries {member.size} bytes of data"
            )
        entry = member_to_entry(member, intern(path), content_hash)
        if entry.kind is EntryKind.HARDLINK:
            entry = replace(entry, linkname=clean_name(entry.linkname, ref.what))
        size += entry.size
        entries.append(entry)
    return entries, size


class _Counter:
    """Counts the stored bytes of a blob as they stream past."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.total = 0
        self.complete = False
        """True once every stored byte went past (the blob was not cut short)."""

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.total += len(chunk)
            yield chunk
        self.complete = True
