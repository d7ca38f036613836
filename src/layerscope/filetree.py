"""Every path once, with its version at each layer that touched it, applied as OCI says.

`build_file_tree` applies the layers in order (image-spec layer.md "Applying Changesets"):
opaque markers first, then whiteouts, both hiding lower layers only; then the layer's entries,
where a non-directory replaces whatever was there (a directory with its whole subtree) and a
directory over a directory only changes attributes. No tree per layer is ever built: views such
as "this layer's changes" or "the filesystem at layer N" are computed from the versions.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import CorruptLayer
from .layer import OPAQUE_MARKER, WHITEOUT_PREFIX
from .model import Entry, EntryKind, Image


class Change(enum.Enum):
    """What a layer did to a path, compared with the layers below it."""

    ADDED = "added"
    MODIFIED = "modified"
    UNMODIFIED = "unmodified"
    REMOVED = "removed"


class Cause(enum.Enum):
    """Why a path stopped being visible (only for REMOVED versions)."""

    WHITEOUT = "deleted"
    """A `.wh.` entry named this very path."""
    DIRECTORY_DELETED = "deleted with its directory"
    """A whiteout named a directory above it (`rm -rf dir`)."""
    OPAQUE = "hidden by an opaque directory"
    REPLACED = "replaced by another file type"


@dataclass(frozen=True, slots=True)
class Version:
    layer: int
    change: Change
    entry: Entry | None
    """The entry the layer wrote; None for removals."""
    cause: Cause | None = None


class FileTree:
    """All versions of all paths of an image, and the filesystem each layer leaves."""

    def __init__(self, layer_count: int) -> None:
        self.layer_count = layer_count
        self.versions: dict[str, list[Version]] = {}
        self.layer_paths: list[list[str]] = [[] for _ in range(layer_count)]
        """Per layer, the paths it touched, in the order it touched them."""
        self.live: dict[str, Entry] = {}
        """The filesystem after the last layer: path -> entry (implicit directories absent)."""
        self._kids: dict[str, set[str]] = {"": set()}
        self.whiteouts_without_target: list[tuple[int, str]] = []
        self.broken_hardlinks: list[tuple[int, str, str]] = []
        """(layer, path, target) of hardlinks to a path absent when they were written."""
        self._sealed = False
        self._clear: set[str] = {""}
        """Paths with no live non-directory at or above them (closed under parents)."""

    # -- building -------------------------------------------------------------------------
    def _record(self, path: str, version: Version) -> None:
        self.versions.setdefault(path, []).append(version)
        self.layer_paths[version.layer].append(path)

    def _link(self, path: str) -> None:
        child = path
        while child:
            parent = child.rpartition("/")[0]
            kids = self._kids.setdefault(parent, set())
            if child in kids:
                return
            kids.add(child)
            child = parent

    def exists(self, path: str) -> bool:
        if self._sealed:
            prefix = path + "/"
            return path in self.live or any(p.startswith(prefix) for p in self.live)
        return path in self.live or path in self._kids

    def _descendants(self, path: str) -> list[str]:
        out: list[str] = []
        todo = list(self._kids.get(path, ()))
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(self._kids.get(p, ()))
        return out

    def _remove(self, layer: int, path: str, cause: Cause, inner: Cause) -> None:
        for sub in self._descendants(path):
            if sub in self.live:
                self._record(sub, Version(layer, Change.REMOVED, None, inner))
                del self.live[sub]
            self._kids.pop(sub, None)
        if path in self.live:
            self._record(path, Version(layer, Change.REMOVED, None, cause))
            del self.live[path]
        self._kids.pop(path, None)
        parent = path.rpartition("/")[0]
        self._kids.get(parent, set()).discard(path)

    def apply(self, layer: int, entries: tuple[Entry, ...]) -> None:
        if self._sealed:
            raise RuntimeError("FileTree.apply after built()")
        opaque: list[str] = []
        whiteouts: list[str] = []
        writes: dict[str, Entry] = {}
        for entry in entries:
            parent, _, name = entry.path.rpartition("/")
            if name == OPAQUE_MARKER:
                opaque.append(parent)
            elif name.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
                continue  # AUFS metadata such as .wh..wh.plnk: not a whiteout (moby diff.go)
            elif name.startswith(WHITEOUT_PREFIX):
                whiteouts.append(f"{parent}/{name[4:]}" if parent else name[4:])
            else:
                writes.pop(entry.path, None)
                writes[entry.path] = entry  # duplicates in one layer: the last one wins
        for directory in opaque:
            # layer.md "Opaque Whiteout": applied first, hides every lower child recursively.
            for child in list(self._kids.get(directory, ())):
                self._remove(layer, child, Cause.OPAQUE, Cause.OPAQUE)
        for target in whiteouts:
            if self.exists(target):
                self._remove(layer, target, Cause.WHITEOUT, Cause.DIRECTORY_DELETED)
            else:
                self.whiteouts_without_target.append((layer, target))
        for path, entry in writes.items():
            self._write(layer, path, entry)

    def _write(self, layer: int, path: str, entry: Entry) -> None:
        # A file standing where a parent directory must be is replaced by that directory.
        # Directories already known clear are not walked again: apply stays linear in entries.
        parent = path.rpartition("/")[0]
        if parent not in self._clear:
            chain = []
            while parent not in self._clear:  # "" always is
                above = self.live.get(parent)
                if above is not None and above.kind is not EntryKind.DIR:
                    self._remove(layer, parent, Cause.REPLACED, Cause.REPLACED)
                chain.append(parent)
                parent = parent.rpartition("/")[0]
            self._clear.update(chain)
        target = entry.linkname
        if entry.kind is EntryKind.HARDLINK and target not in self.live:
            # Linked before this layer's whiteout removed it (tar order) is still a link.
            gone = self.versions.get(target)
            if not gone or gone[-1].layer != layer or gone[-1].change is not Change.REMOVED:
                self.broken_hardlinks.append((layer, path, target))
        old = self.live.get(path)
        existed = self.exists(path)
        is_dir = entry.kind is EntryKind.DIR
        if existed and not is_dir and (old is None or old.kind is EntryKind.DIR):
            self._remove(layer, path, Cause.REPLACED, Cause.REPLACED)
            change = Change.MODIFIED
        elif not existed:
            change = Change.ADDED
        elif old is None:
            change = Change.MODIFIED  # an implicit directory gets its attributes
        else:
            change = Change.UNMODIFIED if same_file(old, entry) else Change.MODIFIED
        if not is_dir and path in self._clear:
            self._clear = {""}  # a non-directory where a clear directory was: start again
        self.live[path] = entry
        self._link(path)
        self._record(path, Version(layer, change, entry))

    def built(self) -> None:
        """No more layers: drop the state only applying needs (the children of every
        directory: 70 MB for a million paths). `exists` still answers, from the versions."""
        self._kids = {}
        self._clear = {""}
        self._sealed = True

    # -- views ------------------------------------------------------------------------------
    def changes(self, layer: int) -> Iterator[tuple[str, Version]]:
        """This layer's own changes: (path, the version it wrote), each path once."""
        seen: set[str] = set()
        for path in self.layer_paths[layer]:
            if path in seen:
                continue
            seen.add(path)
            for v in reversed(self.versions[path]):
                if v.layer == layer:
                    yield path, v
                    break

    def state_at(self, path: str, layer: int) -> Entry | None:
        """The entry visible at `path` once layers 0..layer are applied (None: absent)."""
        current: Entry | None = None
        for v in self.versions.get(path, ()):
            if v.layer > layer:
                break
            current = v.entry
        return current

    def history(self, path: str) -> list[Version]:
        return list(self.versions.get(path, ()))


def same_file(a: Entry, b: Entry) -> bool:
    """Unmodified: same kind, content, permissions, owner and link target (mtime ignored)."""
    return (
        a.kind is b.kind
        and a.content_hash == b.content_hash
        and a.size == b.size
        and a.mode == b.mode
        and a.uid == b.uid
        and a.gid == b.gid
        and a.linkname == b.linkname
    )


def build_file_tree(image: Image) -> FileTree:
    tree = FileTree(len(image.layers))
    for layer in image.layers:
        tree.apply(layer.index, layer.entries)
    tree.built()
    check_hardlinks(image, tree)
    return tree


def check_hardlinks(image: Image, tree: FileTree) -> None:
    """A hardlink to nothing cannot be extracted (`docker load` fails on it): an error."""
    if tree.broken_hardlinks:
        index, path, target = tree.broken_hardlinks[0]
        layer = image.layers[index]
        raise CorruptLayer(
            f"{image.source}: layer {index} ({layer.tar_name}): hardlink {path!r} points to "
            f"{target!r}, which no layer has at that point"
        )
