"""Paths as the final filesystem resolves them: directory symlinks (merged /usr) followed."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from ..model import Entry, EntryKind

_MAX_LINKS = 40  # as Linux's MAXSYMLINKS


class Resolver:
    """Resolve clean paths through the symlinks of one filesystem (path -> entry)."""

    def __init__(self, live: Mapping[str, Entry]) -> None:
        self.live = live
        self._dirs: dict[str, str] = {"": ""}

    def _link_target(self, path: str, entry: Entry) -> str:
        base = path.rpartition("/")[0]
        target = entry.linkname
        joined = target if target.startswith("/") else posixpath.join("/", base, target)
        return posixpath.normpath(joined).lstrip("/")

    def directory(self, path: str, depth: int = 0) -> str:
        """`path` (a directory) with every symlink in it resolved."""
        if path in self._dirs:
            return self._dirs[path]
        parent, _, name = path.rpartition("/")
        here = self.directory(parent, depth) if parent else ""
        full = f"{here}/{name}" if here else name
        entry = self.live.get(full)
        if entry is not None and entry.kind is EntryKind.SYMLINK and depth < _MAX_LINKS:
            full = self.directory(self._link_target(full, entry), depth + 1)
        self._dirs[path] = full
        return full

    def parent(self, path: str) -> str:
        """`path` with its directories resolved, the last component kept as is."""
        parent, _, name = path.rpartition("/")
        if not parent:
            return name
        here = self.directory(parent)
        return f"{here}/{name}" if here else name

    def full(self, path: str) -> str:
        """`path` with every symlink resolved, the last component too (as exec and open do)."""
        for _ in range(_MAX_LINKS):
            path = self.parent(path)
            entry = self.live.get(path)
            if entry is None or entry.kind is not EntryKind.SYMLINK:
                return path
            path = self._link_target(path, entry)
        return path

    def regular(self, path: str) -> str:
        """The path that holds a file's bytes: symlinks and hardlinks followed."""
        path = self.full(path)
        entry = self.live.get(path)
        if entry is not None and entry.kind is EntryKind.HARDLINK:
            return self.full(entry.linkname)
        return path
