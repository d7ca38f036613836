"""Which layer installed, upgraded or removed each package, and the bytes each one really takes.

A package's files are the paths its database lists, resolved through the final filesystem's
directory symlinks (dpkg lists `/bin/bash`; merged-/usr images store `usr/bin/bash`); npm
packages own their directory minus nested `node_modules`. Bytes are regular files' sizes:
  * final bytes: the package's files in the final filesystem;
  * stored bytes: every copy of those paths in every layer (superseded copies included);
  * unowned bytes: final files no package lists, by directory.
Owned (each file once, however many packages list it) plus unowned equals the final file bytes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from ..filetree import FileTree
from ..model import EntryKind
from .collect import Databases, Key
from .fspath import Resolver
from .model import Ecosystem, Package

UNOWNED_DEPTH = 3
"""Unowned bytes are grouped by the first three components of their directory."""


class ChangeKind(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    UPGRADED = "upgraded"
    """The version changed (downgrades too: from -> to says which)."""


@dataclass(frozen=True, slots=True)
class PackageChange:
    layer: int
    kind: ChangeKind
    package: Package
    """The package as after the change (as before it, for a removal)."""
    previous_version: str = ""
    bytes: int = 0
    """Added/upgraded: bytes of its files the layer wrote. Removed: bytes it had, still stored."""


@dataclass(frozen=True, slots=True)
class PackageUsage:
    """One package over the image's history, with its bytes."""

    package: Package
    installed_in: int
    removed_in: int | None
    """The layer that removed it; None if it is in the final image."""
    touched_in: tuple[int, ...]
    """Later layers that upgraded it or rewrote or deleted one of its files."""
    files: tuple[str, ...]
    """Its regular files as stored (resolved paths), in the final image or, if removed, before."""
    final_bytes: int
    stored_bytes: int

    @property
    def present(self) -> bool:
        return self.removed_in is None


@dataclass(frozen=True, slots=True)
class UnownedDir:
    directory: str
    bytes: int
    files: int


@dataclass(frozen=True, slots=True)
class Attribution:
    usages: tuple[PackageUsage, ...]
    """Final packages first, largest final bytes first; then removed ones, by stored bytes."""
    changes: tuple[PackageChange, ...]
    unowned: tuple[UnownedDir, ...]
    total_bytes: int
    """Regular files' bytes in the final filesystem."""
    owned_bytes: int
    """Of those, in at least one package (each file once)."""
    unowned_bytes: int
    shared_bytes: int
    """Bytes of files two or more packages list, counted once in owned_bytes."""
    notices: tuple[str, ...]
    read_layers: tuple[int, ...]
    file_sizes: dict[str, int]
    """Final regular files owned by a present package: path -> size."""

    def changes_in(self, layer: int) -> tuple[PackageChange, ...]:
        return tuple(c for c in self.changes if c.layer == layer)


class _Files:
    """Resolves a package's listed paths to the stored paths of its regular files."""

    def __init__(self, tree: FileTree) -> None:
        self.tree = tree
        self.resolver = Resolver(tree.live)
        self._npm: dict[str, list[str]] | None = None

    def npm_dirs(self) -> dict[str, list[str]]:
        if self._npm is None:
            self._npm = {}
            for path, entry in self.tree.live.items():
                if entry.kind is EntryKind.FILE and "node_modules/" in path:
                    self._npm.setdefault(_npm_owner(path), []).append(path)
        return self._npm

    def of(self, package: Package) -> list[str]:
        if package.ecosystem is Ecosystem.NPM:
            return self.npm_dirs().get(package.database, [])
        versions = self.tree.versions
        out = []
        for listed in package.files:
            path = self.resolver.parent(listed)
            if path not in versions:
                path = self.resolver.regular(listed)
            if any(
                v.entry is not None and v.entry.kind is EntryKind.FILE
                for v in versions.get(path, ())
            ):
                out.append(path)
        return out


def _npm_owner(path: str) -> str:
    head, _, rest = path.rpartition("node_modules/")
    parts = rest.split("/")
    n = 2 if parts[0].startswith("@") else 1
    return head + "node_modules/" + "/".join(parts[:n])


def _written(tree: FileTree, paths: Iterable[str], layer: int) -> int:
    total = 0
    for path in paths:
        for v in tree.versions.get(path, ()):
            if v.layer == layer and v.entry is not None and v.entry.kind is EntryKind.FILE:
                total += v.entry.size
    return total


def _visible(tree: FileTree, paths: Iterable[str], layer: int) -> int:
    total = 0
    for path in paths:
        e = tree.state_at(path, layer)
        if e is not None and e.kind is EntryKind.FILE:
            total += e.size
    return total


def _stored(tree: FileTree, paths: Iterable[str]) -> int:
    return sum(
        v.entry.size
        for p in paths
        for v in tree.versions.get(p, ())
        if v.entry is not None and v.entry.kind is EntryKind.FILE
    )


def _changes(dbs: Databases, tree: FileTree, files: _Files) -> list[PackageChange]:
    out: list[PackageChange] = []
    before: dict[Key, Package] = {}
    for layer, now in enumerate(dbs.layers):
        if now is before:
            continue
        for key, pkg in now.items():
            old = before.get(key)
            if old is None:
                out.append(
                    PackageChange(
                        layer, ChangeKind.ADDED, pkg, "", _written(tree, files.of(pkg), layer)
                    )
                )
            elif old.version != pkg.version:
                out.append(
                    PackageChange(
                        layer,
                        ChangeKind.UPGRADED,
                        pkg,
                        old.version,
                        _written(tree, files.of(pkg), layer),
                    )
                )
        for key, old in before.items():
            if key not in now:
                out.append(
                    PackageChange(
                        layer,
                        ChangeKind.REMOVED,
                        old,
                        old.version,
                        _visible(tree, files.of(old), layer - 1),
                    )
                )
        before = now
    return out


def _usage(
    pkg: Package, history: list[PackageChange], tree: FileTree, paths: list[str], final: bool
) -> PackageUsage:
    installed = max((c.layer for c in history if c.kind is ChangeKind.ADDED), default=0)
    removed = None if final else max(c.layer for c in history if c.kind is ChangeKind.REMOVED)
    touched = {c.layer for c in history if c.layer > installed}
    for path in paths:
        touched.update(v.layer for v in tree.versions.get(path, ()) if v.layer > installed)
    final_bytes = 0
    if final:
        for path in paths:
            e = tree.live.get(path)
            final_bytes += e.size if e is not None and e.kind is EntryKind.FILE else 0
    return PackageUsage(
        pkg,
        installed,
        removed,
        tuple(sorted(touched)),
        tuple(paths),
        final_bytes,
        _stored(tree, paths),
    )


def attribute(dbs: Databases, tree: FileTree) -> Attribution:
    """Packages per layer, their bytes, and the unowned bytes of the final filesystem."""
    files = _Files(tree)
    changes = _changes(dbs, tree, files)
    by_key: dict[Key, list[PackageChange]] = {}
    for c in changes:
        by_key.setdefault(c.package.key, []).append(c)
    final = dbs.layers[-1] if dbs.layers else {}
    usages: list[PackageUsage] = []
    owners: dict[str, int] = {}
    for key, history in by_key.items():
        pkg = final.get(key) or history[-1].package
        paths = files.of(pkg)
        usage = _usage(pkg, history, tree, paths, key in final)
        usages.append(usage)
        if usage.present:
            for path in paths:
                if path in tree.live:
                    owners[path] = owners.get(path, 0) + 1
    usages.sort(
        key=lambda u: (
            not u.present,
            -(u.final_bytes if u.present else u.stored_bytes),
            u.package.name,
        )
    )
    total = owned = shared = 0
    sizes: dict[str, int] = {}
    unowned: dict[str, list[int]] = {}
    for path, entry in tree.live.items():
        if entry.kind is not EntryKind.FILE:
            continue
        total += entry.size
        count = owners.get(path, 0)
        if count:
            sizes[path] = entry.size
            owned += entry.size
            shared += entry.size if count > 1 else 0
        else:
            group = "/".join(path.split("/")[:-1][:UNOWNED_DEPTH])
            slot = unowned.setdefault(group, [0, 0])
            slot[0] += entry.size
            slot[1] += 1
    dirs = sorted(
        (UnownedDir(d, b, n) for d, (b, n) in unowned.items()),
        key=lambda u: (-u.bytes, u.directory),
    )
    return Attribution(
        tuple(usages),
        tuple(changes),
        tuple(dirs),
        total,
        owned,
        sum(u.bytes for u in dirs),
        shared,
        dbs.notices,
        dbs.read_layers,
        sizes,
    )
