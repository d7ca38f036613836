"""Random access to the members of an image archive (a tar) or layout (a directory)."""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..compression import file_chunks
from ..errors import CorruptLayer, MissingBlob, NotAnImage, NotATar
from ..tarstream import BLOCK, FileSource, Member, clean_name, iter_members

_MAX_JSON = 64 << 20


class Store(Protocol):
    """Named blobs of an archive or directory; names are `/`-separated relative paths."""

    label: str
    truncated: bool
    """True when an archive ends without tar's end marker (cut short, perhaps)."""

    def has(self, name: str) -> bool: ...

    def size(self, name: str) -> int: ...

    def read_bytes(self, name: str) -> bytes: ...

    def chunks(self, name: str) -> Iterator[bytes]: ...


@dataclass(frozen=True, slots=True)
class _Member:
    offset: int
    size: int
    link: str | None


class _MarkedSource(FileSource):
    """Remembers whether the last header block read was tar's all-zero end marker."""

    ended = False

    def read(self, size: int) -> bytes:
        data = super().read(size)
        self.ended = size == BLOCK and data == bytes(BLOCK)
        return data


class TarStore:
    """An image archive read in place: one pass over the headers, then seeks to members."""

    def __init__(self, path: Path, label: str | None = None) -> None:
        self.path = path
        self.label = label or str(path)
        self.truncated = False
        """True when the archive stops without tar's end marker (it may have been cut short)."""
        self._members: dict[str, _Member] = {}
        with path.open("rb") as fh:
            src = _MarkedSource(fh, self.label)
            try:
                for member, _ in iter_members(src, self.label):
                    self._add(member)
            except NotATar as exc:
                raise NotAnImage(f"{self.label}: not an image archive ({exc})") from None
            self.truncated = not src.ended

    def _add(self, member: Member) -> None:
        try:
            name = clean_name(member.name, self.label)
            link = None
            if member.typeflag in (ord("1"), ord("2")):
                link = member.linkname
                if member.typeflag == ord("2"):
                    link = posixpath.join(posixpath.dirname(name), link)
                link = clean_name(link, self.label)
        except CorruptLayer:
            return  # a name escaping the archive can never be asked for: ignored
        self._members[name] = _Member(member.data_offset, member.size, link)

    def _resolve(self, name: str) -> _Member:
        seen = 0
        member = self._members.get(name)
        while member is not None and member.link is not None and seen < 40:
            # `docker save` stores identical layers as links to one layer.tar (moby#42766).
            member = self._members.get(member.link)
            seen += 1
        if member is None or member.link is not None:
            cut = " (the archive is truncated: it ends without tar's end marker)"
            raise MissingBlob(
                f"{self.label}: {name} is not in the archive{cut if self.truncated else ''}"
            )
        return member

    def has(self, name: str) -> bool:
        return name in self._members

    def size(self, name: str) -> int:
        return self._resolve(name).size

    def read_bytes(self, name: str) -> bytes:
        member = self._resolve(name)
        if member.size > _MAX_JSON:
            raise NotAnImage(f"{self.label}: {name} is too large to be image metadata")
        with self.path.open("rb") as fh:
            return b"".join(file_chunks(fh, member.offset, member.size, f"{self.label}: {name}"))

    def chunks(self, name: str) -> Iterator[bytes]:
        member = self._resolve(name)
        with self.path.open("rb") as fh:
            yield from file_chunks(fh, member.offset, member.size, f"{self.label}: {name}")


class DirStore:
    """An OCI image layout (or unpacked archive) as a directory."""

    truncated = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)

    def _file(self, name: str) -> Path:
        """The regular file `name` stands for, inside the layout; never a FIFO or a device."""
        try:
            target = (self.path / name).resolve(strict=True)
            mode = target.stat().st_mode
        except FileNotFoundError:
            raise MissingBlob(f"{self.label}: {name} is missing") from None
        except (OSError, RuntimeError) as exc:  # ELOOP; RuntimeError before Python 3.13
            raise MissingBlob(
                f"{self.label}: {name}: a symlink loop or unreadable ({exc})"
            ) from None
        if not stat.S_ISREG(mode):
            raise MissingBlob(f"{self.label}: {name} is not a regular file")
        root = self.path.resolve()
        if root not in target.parents:
            raise MissingBlob(f"{self.label}: {name} points outside the layout")
        return target

    def has(self, name: str) -> bool:
        """Whether `name` is there; something there that is no readable file is an error."""
        if not os.path.lexists(self.path / name):
            return False
        self._file(name)
        return True

    def size(self, name: str) -> int:
        return self._file(name).stat().st_size

    def read_bytes(self, name: str) -> bytes:
        if self.size(name) > _MAX_JSON:
            raise NotAnImage(f"{self.label}: {name} is too large to be image metadata")
        return self._file(name).read_bytes()

    def chunks(self, name: str) -> Iterator[bytes]:
        path = self._file(name)
        length = path.stat().st_size
        with path.open("rb") as fh:
            yield from file_chunks(fh, 0, length, f"{self.label}: {name}")
