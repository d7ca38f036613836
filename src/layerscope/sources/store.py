"""Random access to the members of an image archive (a tar) or layout (a directory)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..compression import file_chunks
from ..errors import CorruptLayer, MissingBlob, NotAnImage
from ..tarstream import FileSource, clean_name, iter_members

_MAX_JSON = 64 << 20


class Store(Protocol):
    """Named blobs of an archive or directory; names are `/`-separated relative paths."""

    label: str

    def has(self, name: str) -> bool: ...

    def size(self, name: str) -> int: ...

    def read_bytes(self, name: str) -> bytes: ...

    def chunks(self, name: str) -> Iterator[bytes]: ...


@dataclass(frozen=True, slots=True)
class _Member:
    offset: int
    size: int
    link: str | None


class TarStore:
    """An image archive read in place: one pass over the headers, then seeks to members."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        self._members: dict[str, _Member] = {}
        with path.open("rb") as fh:
            src = FileSource(fh, self.label)
            try:
                for member, _ in iter_members(src, self.label):
                    name = clean_name(member.name, self.label)
                    link = None
                    if member.typeflag in (ord("1"), ord("2")):
                        link = member.linkname
                        if member.typeflag == ord("2"):
                            link = posixpath.join(posixpath.dirname(name), link)
                        link = clean_name(link, self.label)
                    self._members[name] = _Member(member.data_offset, member.size, link)
            except CorruptLayer as exc:
                raise NotAnImage(f"{self.label}: not an image archive ({exc})") from None

    def _resolve(self, name: str) -> _Member:
        seen = 0
        member = self._members.get(name)
        while member is not None and member.link is not None and seen < 40:
            # `docker save` stores identical layers as links to one layer.tar (moby#42766).
            member = self._members.get(member.link)
            seen += 1
        if member is None or member.link is not None:
            raise MissingBlob(f"{self.label}: {name} is not in the archive")
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

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)

    def _file(self, name: str) -> Path:
        target = (self.path / name).resolve()
        root = self.path.resolve()
        if root not in target.parents and target != root:
            raise MissingBlob(f"{self.label}: {name} points outside the layout")
        return target

    def has(self, name: str) -> bool:
        return self._file(name).is_file()

    def size(self, name: str) -> int:
        try:
            return self._file(name).stat().st_size
        except FileNotFoundError:
            raise MissingBlob(f"{self.label}: {name} is missing") from None

    def read_bytes(self, name: str) -> bytes:
        if self.size(name) > _MAX_JSON:
            raise NotAnImage(f"{self.label}: {name} is too large to be image metadata")
        return self._file(name).read_bytes()

    def chunks(self, name: str) -> Iterator[bytes]:
        length = self.size(name)
        with self._file(name).open("rb") as fh:
            yield from file_chunks(fh, 0, length, f"{self.label}: {name}")
