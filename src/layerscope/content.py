"""A file's bytes as they are at a layer: find the layer that wrote them and stream its tar again.

The index keeps no content (only xxh3 hashes), so reading a file re-opens one layer blob and
reads up to the member. Hardlinks are followed to the entry that carries the data, in the same
layer or below, as the OCI layer spec allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .errors import ContentError
from .filetree import FileTree
from .layer import STARGZ_ENTRIES, tar_chunks
from .model import BlobRef, Entry, EntryKind
from .tarstream import ChunkSource, Member, clean_name, iter_members

VIEW_LIMIT = 1 << 20
"""The viewer reads at most this many bytes of a file."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a file's bytes are stored: the layer and the member path that carries them."""

    layer: int
    path: str
    entry: Entry


def origin(tree: FileTree, path: str, layer: int) -> Origin:
    """The entry holding `path`'s content once layers 0..layer are applied."""
    seen: set[str] = set()
    at = layer
    while path not in seen:
        seen.add(path)
        found = None
        for v in tree.versions.get(path, ()):
            if v.layer > at:
                break
            found = v
        if found is None or found.entry is None:
            raise ContentError(f"/{path} does not exist at layer {layer}")
        entry = found.entry
        if entry.kind is EntryKind.HARDLINK:
            path, at = entry.linkname, found.layer
            continue
        if entry.kind is not EntryKind.FILE:
            raise ContentError(f"/{path} is a {entry.kind.value}, not a regular file")
        return Origin(found.layer, path, entry)
    raise ContentError(f"/{path}: hardlinks form a loop")


def read_members(
    ref: BlobRef, wanted: set[str], consume: Callable[[str, Iterator[bytes]], None]
) -> None:
    """Stream the data of the members named in `wanted` (clean paths) to `consume`, in tar order.

    The whole tar is read: a path written twice in one layer is offered twice, the last wins.
    """

    def sink(member: Member) -> Callable[[Iterator[bytes]], None] | None:
        path = clean_name(member.name, ref.what)
        if path not in wanted or (ref.stargz and path in STARGZ_ENTRIES):
            return None
        return lambda chunks: consume(path, chunks)

    for _ in iter_members(ChunkSource(tar_chunks(ref), ref.what), ref.what, sink=sink):
        pass


def read_file(
    blobs: tuple[BlobRef, ...], tree: FileTree, path: str, layer: int, limit: int = VIEW_LIMIT
) -> tuple[bytes, int]:
    """Up to `limit` bytes of `path` as it is at `layer`, and the file's full size."""
    where = origin(tree, path, layer)
    parts: list[bytes] = []

    def keep(_: str, chunks: Iterator[bytes]) -> None:
        parts.clear()
        got = 0
        for chunk in chunks:
            parts.append(chunk[: limit - got])
            got += len(parts[-1])
            if got >= limit:
                break

    read_members(blobs[where.layer], {where.path}, keep)
    return b"".join(parts), where.entry.size
