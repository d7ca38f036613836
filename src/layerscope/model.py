"""Frozen data: what an image is made of, as read from its archive or layout."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


class EntryKind(enum.Enum):
    """What a tar entry is on disk (the tar typeflag, folded)."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    CHAR = "char"
    BLOCK = "block"
    FIFO = "fifo"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"platform {text!r} is not os/arch[/variant]")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "")

    def matches(self, other: Platform) -> bool:
        """True if `other` satisfies this (requested) platform; an empty variant matches any."""
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        return not self.variant or self.variant == other.variant


@dataclass(frozen=True, slots=True)
class Descriptor:
    """An OCI content descriptor: what a manifest says about one blob."""

    media_type: str
    digest: str
    size: int
    annotations: tuple[tuple[str, str], ...] = ()
    platform: Platform | None = None

    def annotation(self, key: str) -> str | None:
        for k, v in self.annotations:
            if k == key:
                return v
        return None


@dataclass(frozen=True, slots=True)
class Entry:
    """One tar header of a layer, after long names and PAX records are applied."""

    path: str
    """Cleaned member name: no leading `/` or `./`, never `..`; whiteouts keep their `.wh.` name."""
    kind: EntryKind
    typeflag: int
    """The raw tar typeflag byte (48 regular, 49 hardlink, 50 symlink, 53 directory ...)."""
    size: int
    """The header's size field: content bytes for regular files, 0 for most others."""
    mode: int
    """The tar mode field: permission, setuid, setgid and sticky bits (and type bits if present)."""
    uid: int
    gid: int
    mtime: int
    linkname: str = ""
    content_hash: int = 0
    """xxh3-64 of the content for regular files; 0 otherwise."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    created_by: str = ""
    created: str = ""
    comment: str = ""
    empty_layer: bool = False


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of an image, in stack order, with everything its tar holds."""

    index: int
    diff_id: str
    """sha256 of the uncompressed tar, as the config's rootfs.diff_ids records it."""
    blob_digest: str
    """Digest of the blob as stored (compressed where the layer is); equal to diff_id if not."""
    media_type: str
    compressed_size: int
    size: int
    """Sum of tar-header sizes of the layer, as dive counts it."""
    tar_name: str
    """The layer's name inside the archive or layout (dive derives its layer `id` from it)."""
    history: HistoryEntry
    entries: tuple[Entry, ...] = field(repr=False)

    @property
    def command(self) -> str:
        return clean_command(self.history.created_by)

    @property
    def is_empty(self) -> bool:
        return not self.entries


@dataclass(frozen=True, slots=True)
class Image:
    """A whole image: where it came from, its metadata and its layers in stack order."""

    source: str
    """How the user named it, e.g. `docker-archive://img.tar`."""
    format: str
    """The archive variant that was read, e.g. `docker-archive (legacy docker save)`."""
    name: str
    """A tag or reference naming the image, or the source when it has none."""
    config_digest: str
    platform: Platform | None
    layers: tuple[Layer, ...]
    history: tuple[HistoryEntry, ...]
    repo_tags: tuple[str, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    created: str = ""
    user: str = ""
    """The config's `USER` as written; empty means root."""
    env: tuple[str, ...] = ()
    """The config's `Env` (`NAME=value`)."""
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)

    @property
    def compressed_size(self) -> int:
        return sum(layer.compressed_size for layer in self.layers)


_SHELL_PREFIX = "/bin/sh -c "


def clean_command(created_by: str) -> str:
    """dive's layer command: `created_by` without a leading `/bin/sh -c ` (docker/layer.go)."""
    return created_by.removeprefix(_SHELL_PREFIX)


def readable_command(created_by: str) -> str:
    """A shorter command for people: also reads BuildKit's `RUN |N A=B /bin/sh -c X` forms."""
    text = created_by.strip()
    if text.startswith("RUN |"):
        # BuildKit: `RUN |2 A=1 B=2 /bin/sh -c cmd`: the build args precede the shell.
        head, sep, tail = text.partition(_SHELL_PREFIX)
        if sep:
            return "RUN " + tail.removesuffix(" # buildkit")
        return head
    if text.startswith("|") and _SHELL_PREFIX in text:
        # The legacy builder and buildah with build args: `|1 A=B /bin/sh -c cmd`.
        return "RUN " + text.partition(_SHELL_PREFIX)[2]
    if text.startswith("RUN " + _SHELL_PREFIX):
        return "RUN " + text[len("RUN " + _SHELL_PREFIX) :].removesuffix(" # buildkit")
    if text.startswith(_SHELL_PREFIX + "#(nop) "):
        return text[len(_SHELL_PREFIX + "#(nop) ") :].strip()
    if text.startswith(_SHELL_PREFIX):
        return "RUN " + text[len(_SHELL_PREFIX) :]
    return text.removesuffix(" # buildkit")


@dataclass(frozen=True, slots=True)
class BlobRef:
    """Where one layer's bytes are and what the image says they must be."""

    what: str
    """How errors name it: the archive and the member or blob."""
    tar_name: str
    media_type: str | None
    """None where the format records none (docker-archive): the compression is sniffed."""
    digest: str | None
    """Expected digest of the stored bytes, where the format records one."""
    size: int | None
    diff_id: str | None
    """Expected sha256 of the uncompressed tar (config rootfs.diff_ids)."""
    open_chunks: Callable[[], Iterator[bytes]]
    stargz: bool = False
