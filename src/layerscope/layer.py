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
from .tarstream import ChunkSource, clean_name, iter_members, member_to_entry

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
# eStargz adds these to the tar; they are not part of the container filesystem
# (containerd/stargz-snapshotter docs/estargz.md, "TOC, TOCEntries and Footer").
STARGZ_ENTRIES = frozenset({"stargz.index.json", ".prefetch.landmark", ".no.prefetch.landmark"})


def _peek(chunks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    for chunk in chunks:
        if chunk:
            return chunk, itertools.chain((chunk,), chunks)
    return b"", iter(())


def _check(expected: str | None, hasher: hashlib._Hash, what: str, label: str) -> None:
    if expected is None:
        return
    # Only sha256 is computed; other algorithms are rare and left unchecked.
    if _differs(expected, hasher):
        actual = hasher.hexdigest()
        raise DigestMismatch(
            f"{what}: {label} is sha256:{actual}, but the image records {expected}"
        )


def _differs(expected: str, hasher: hashlib._Hash) -> bool:
    algo, _, hexpart = expected.partition(":")
    return algo == "sha256" and hasher.hexdigest() != hexpart


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
    diff_hasher = hashlib.sha256() if kind is not Compression.NONE else blob_hasher
    stream = hashed(chunks, blob_hasher)
    if kind is not Compression.NONE:
        stream = hashed(decompressed(stream, kind, ref.what), diff_hasher)
    source = ChunkSource(stream, ref.what)
    entries, size = _read_entries(source, ref)
    source.drain()
    size_differs = ref.size is not None and counter.total != ref.size
    if size_differs and (ref.digest is None or _differs(ref.digest, blob_hasher)):
        # With a matching digest a wrong size is harmless (moby#47072 wrote such descriptors).
        raise CorruptLayer(
            f"{ref.what}: blob is {counter.total} bytes, but the manifest says {ref.size}"
        )
    _check(ref.digest, blob_hasher, ref.what, "the blob digest")
    _check(ref.diff_id, diff_hasher, ref.what, "the uncompressed layer digest (diff_id)")
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

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.total += len(chunk)
            yield chunk
