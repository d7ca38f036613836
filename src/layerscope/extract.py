"""Copy a file or directory, as it is at one layer, out of the image to a local directory.

Safe by construction: everything is created relative to directory descriptors opened with
O_NOFOLLOW, files with O_EXCL, so nothing is written outside the destination and no link (in
the image or planted on disk) is followed. The copy is built in a hidden temporary directory
inside the destination and renamed into place at the end, so a failure leaves nothing behind.
Modes keep the permission bits only (no setuid, setgid or sticky); owners are not changed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .content import origin, read_members
from .errors import ContentError, OutputError
from .filetree import FileTree
from .model import BlobRef, Entry, EntryKind

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW


@dataclass(slots=True)
class Extracted:
    """What an extraction wrote."""

    target: Path
    files: int = 0
    directories: int = 0
    links: int = 0
    skipped: list[str] = field(default_factory=list)
    """Device nodes and fifos, which are not recreated."""


def _snapshot(tree: FileTree, root: str, layer: int) -> list[tuple[str, Entry | None]]:
    """`root` and every path under it visible at `layer`, parents before children."""
    prefix = root + "/" if root else ""
    out: list[tuple[str, Entry | None]] = []
    for path in tree.versions:
        if path == root or path.startswith(prefix):
            entry = tree.state_at(path, layer)
            if entry is not None:
                out.append((path, entry))
    if not out:
        raise ContentError(f"/{root} does not exist at layer {layer}")
    known = {p for p, _ in out}
    for path, _ in list(out):
        parent = path.rpartition("/")[0]
        while parent.startswith(prefix) and parent and parent not in known:
            known.add(parent)
            out.append((parent, None))  # an implicit directory
            parent = parent.rpartition("/")[0]
    out.sort(key=lambda item: item[0].count("/"))
    return out


def extract(
    blobs: tuple[BlobRef, ...], tree: FileTree, path: str, layer: int, dest: Path
) -> Extracted:
    """Write `/path` as it is at `layer` to `dest/<its name>`; `dest` is created if missing."""
    path = path.strip("/")
    items = _snapshot(tree, path, layer)
    name = path.rpartition("/")[2] or "root"
    try:
        dest.mkdir(parents=False, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{dest}: cannot create the destination ({exc.strerror})") from None
    target = dest / name
    if os.path.lexists(target):
        raise OutputError(f"{target} already exists; choose another destination")
    staging = Path(tempfile.mkdtemp(prefix=".layerscope-", dir=dest))
    try:
        result = _write(blobs, tree, path, layer, items=items, staging=staging)
        os.rename(staging / name, target)
    except OSError as exc:
        raise OutputError(f"{target}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result.target = target
    return result


def _write(
    blobs: tuple[BlobRef, ...],
    tree: FileTree,
    root: str,
    layer: int,
    *,
    items: list[tuple[str, Entry | None]],
    staging: Path,
) -> Extracted:
    name = root.rpartition("/")[2] or "root"
    result = Extracted(staging / name)
    base = os.open(staging, _DIR_FLAGS)
    dirs: dict[str, int] = {}
    cut = len(root) + 1 if root else 0
    modes: list[tuple[int, str, int]] = []
    pending: dict[int, dict[str, list[str]]] = {}
    try:
        for path, entry in items:
            rel = name if path == root else name + "/" + path[cut:]
            parent_rel, _, leaf = rel.rpartition("/")
            parent_fd = dirs[parent_rel] if parent_rel else base
            kind = EntryKind.DIR if entry is None else entry.kind
            if kind is EntryKind.DIR:
                os.mkdir(leaf, 0o700, dir_fd=parent_fd)
                dirs[rel] = os.open(leaf, _DIR_FLAGS, dir_fd=parent_fd)
                modes.append((dirs[rel], "", _perm(entry, 0o755) | 0o700))
                result.directories += 1
            elif kind is EntryKind.SYMLINK:
                assert entry is not None
                os.symlink(entry.linkname, leaf, dir_fd=parent_fd)
                result.links += 1
            elif kind in (EntryKind.FILE, EntryKind.HARDLINK):
                where = origin(tree, path, layer)
                fd = os.open(leaf, _FILE_FLAGS, 0o600, dir_fd=parent_fd)
                os.close(fd)
                modes.append((parent_fd, leaf, _perm(where.entry, 0o644)))
                pending.setdefault(where.layer, {}).setdefault(where.path, []).append(rel)
                result.files += 1
            else:
                result.skipped.append("/" + path)
        for index, wanted in pending.items():
            _fill(blobs[index], wanted, base)
        for fd, leaf, mode in reversed(modes):
            if leaf:
                os.chmod(leaf, mode, dir_fd=fd, follow_symlinks=False)
            else:
                os.fchmod(fd, mode)
    finally:
        for fd in dirs.values():
            os.close(fd)
        os.close(base)
    return result


def _perm(entry: Entry | None, default: int) -> int:
    return default if entry is None else entry.mode & 0o777


def _fill(ref: BlobRef, wanted: dict[str, list[str]], base: int) -> None:
    def consume(member: str, chunks: Iterator[bytes]) -> None:
        targets = wanted[member]
        fds = [
            os.open(rel, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW, dir_fd=base) for rel in targets
        ]
        try:
            for chunk in chunks:
                for fd in fds:
                    _write_all(fd, chunk)
        finally:
            for fd in fds:
                os.close(fd)

    read_members(ref, set(wanted), consume)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
