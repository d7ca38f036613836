"""Read every package database as it is at every layer: each layer blob at most once.

Only layers whose own changes write a database file are read, and only those files' contents
(`content.read_members`). The databases are then replayed layer by layer, re-parsing only what
changed, to give the installed packages after each layer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ..content import read_members
from ..filetree import FileTree
from ..model import BlobRef, Entry, EntryKind, Layer
from . import apk, dpkg, npm, python, rpm
from .model import Ecosystem, Package

Key = tuple[str, str, str]


def ecosystem_of(path: str) -> Ecosystem | None:
    """Which database a file belongs to, if it is one layerscope reads."""
    if path.startswith(dpkg.ROOT):
        return Ecosystem.DPKG if dpkg.is_database(path) else None
    if path.endswith(npm.MANIFEST):
        return Ecosystem.NPM if npm.is_database(path) else None
    if "-packages/" in path:
        return Ecosystem.PYTHON if python.is_database(path) else None
    if apk.is_database(path):
        return Ecosystem.APK
    if rpm.is_database(path):
        return Ecosystem.RPM
    return None


@dataclass(frozen=True, slots=True)
class Databases:
    """The installed packages after each layer, and what could not be read."""

    layers: tuple[dict[Key, Package], ...]
    notices: tuple[str, ...]
    read_layers: tuple[int, ...]
    """The layers whose blobs were read (those that wrote a database file)."""


def _wanted(tree: FileTree) -> tuple[list[set[str]], list[set[str]], list[str]]:
    writes: list[set[str]] = [set() for _ in range(tree.layer_count)]
    removes: list[set[str]] = [set() for _ in range(tree.layer_count)]
    notices: list[str] = []
    for layer in range(tree.layer_count):
        for path, version in tree.changes(layer):
            legacy = rpm.legacy_backend(path)
            if legacy and version.entry is not None:
                notices.append(
                    f"/{path} (layer {layer}): an rpm {legacy} database, which layerscope does "
                    "not read (only rpm's sqlite backend); its packages are not listed"
                )
            if ecosystem_of(path) is None:
                continue
            if version.entry is not None and version.entry.kind is EntryKind.FILE:
                writes[layer].add(path)
            else:
                removes[layer].add(path)  # deleted, or no longer a regular file
    return writes, removes, notices


class _Done(Exception):
    """Raised from a consumer once the last wanted member of a layer has been read."""


def read_layer_files(ref: BlobRef, entries: Sequence[Entry], wanted: set[str]) -> dict[str, bytes]:
    """The contents of the `wanted` files of one layer; the blob is read up to the last of them.

    The layer's entries are its tar members in order, so the number of times each wanted path
    occurs is known: reading stops after its last occurrence (a later copy wins, as in tar).
    """
    left = sum(1 for e in entries if e.path in wanted)
    got: dict[str, bytes] = {}
    if not left:
        return got

    def keep(path: str, chunks: Iterator[bytes]) -> None:
        nonlocal left
        got[path] = b"".join(chunks)
        left -= 1
        if left <= 0:
            raise _Done

    with contextlib.suppress(_Done):
        read_members(ref, wanted, keep)
    return got


def read_contents(
    blobs: tuple[BlobRef, ...], layers: Sequence[Layer], wanted: list[set[str]]
) -> list[dict[str, bytes]]:
    """The contents of the wanted files of each layer, each blob read once (none if none)."""
    return [
        read_layer_files(blobs[i], layers[i].entries, paths) if paths else {}
        for i, paths in enumerate(wanted)
    ]


class _Replay:
    """The database files as they stand, and each ecosystem's packages parsed from them."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.parsed: dict[Ecosystem, dict[str, list[Package]]] = {e: {} for e in Ecosystem}
        """Per ecosystem, per database unit (a file or a dist-info), its packages."""

    def apply(self, writes: Mapping[str, bytes], removes: set[str]) -> None:
        dirty: dict[Ecosystem, set[str]] = {}
        for path in removes:
            self.files.pop(path, None)
        for path, data in writes.items():
            self.files[path] = data
        for path in (*removes, *writes):
            eco = ecosystem_of(path)
            if eco is not None:
                dirty.setdefault(eco, set()).add(_unit(eco, path))
        for eco, units in dirty.items():
            for unit in units:
                self.parsed[eco][unit] = _PARSERS[eco](unit, self.files)

    def packages(self) -> dict[Key, Package]:
        out: dict[Key, Package] = {}
        for units in self.parsed.values():
            for pkgs in units.values():
                for p in pkgs:
                    out.setdefault(p.key, p)
        return out


def _unit(eco: Ecosystem, path: str) -> str:
    if eco is Ecosystem.DPKG:
        return dpkg.STATUS if not path.startswith(dpkg.STATUS_D) else "status.d"
    if eco is Ecosystem.PYTHON:
        return python.database_of(path) or path
    return path


def _dpkg(_: str, files: Mapping[str, bytes]) -> list[Package]:
    return dpkg.parse_database({p: d for p, d in files.items() if p.startswith(dpkg.ROOT)})


def _python(unit: str, files: Mapping[str, bytes]) -> list[Package]:
    mine = {p: d for p, d in files.items() if p == unit or p.startswith(unit + "/")}
    dist = python.parse_dist(unit, mine) if mine else None
    return [dist] if dist else []


def _single(parse: Callable[[bytes, str], list[Package]]) -> Callable[..., list[Package]]:
    def run(unit: str, files: Mapping[str, bytes]) -> list[Package]:
        return parse(files[unit], unit) if unit in files else []

    return run


def _npm(data: bytes, path: str) -> list[Package]:
    p = npm.parse_manifest(data, path)
    return [p] if p else []


_PARSERS: dict[Ecosystem, Callable[[str, Mapping[str, bytes]], list[Package]]] = {
    Ecosystem.DPKG: _dpkg,
    Ecosystem.PYTHON: _python,
    Ecosystem.NPM: _single(_npm),
    Ecosystem.APK: _single(apk.parse_installed),
    Ecosystem.RPM: _single(rpm.parse_sqlite),
}


def read_databases(
    tree: FileTree, blobs: tuple[BlobRef, ...], layers: Sequence[Layer]
) -> Databases:
    """The installed packages after each layer of the image `tree` was built from."""
    writes, removes, notices = _wanted(tree)
    contents = read_contents(blobs, layers, writes)
    replay = _Replay()
    snapshots: list[dict[Key, Package]] = []
    current: dict[Key, Package] = {}
    for layer in range(tree.layer_count):
        if contents[layer] or removes[layer]:
            replay.apply(contents[layer], removes[layer])
            current = replay.packages()
        snapshots.append(current)
    read = tuple(i for i, w in enumerate(writes) if w)
    return Databases(tuple(snapshots), tuple(notices), read)
