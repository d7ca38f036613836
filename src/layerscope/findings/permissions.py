"""Permissions in the final filesystem: setuid/setgid files, world-writable paths, and PATH
executables the runtime user can rewrite.

Only what ships counts here (a deleted setuid file cannot be run). Each path is attributed to the
layer that wrote its final version, so the base image's files are listed apart from the ones the
image's own layers added or changed.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass

from ..analysis import Analysis
from ..model import Entry, EntryKind

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_OS_RELEASE = ("etc/os-release", "usr/lib/os-release")


@dataclass(frozen=True, slots=True)
class PathPerm:
    path: str
    """Absolute path."""
    layer: int
    """The layer that wrote the version that ships."""
    size: int
    mode: int
    was_special: bool = False
    """For setuid/setgid: a lower layer already shipped this path with the same special bits."""


def security_base(analysis: Analysis) -> int:
    """How many bottom layers are the base image, for telling its files from the image's own.

    The analysis' base where it knows one; an image built `FROM scratch` whose first layer is a
    whole OS root filesystem (it holds os-release) counts that layer as its base.
    """
    base = analysis.waste.base.layers
    if base == 0 and analysis.image.layers:
        first = {e.path for e in analysis.image.layers[0].entries}
        if any(p in first for p in _OS_RELEASE):
            return 1
    return base


def _shipped_by(analysis: Analysis, path: str) -> int:
    """The layer that wrote the version of `path` in the final filesystem."""
    return analysis.tree.versions[path][-1].layer


_SPECIAL = stat.S_ISUID | stat.S_ISGID


def setuid_files(analysis: Analysis) -> list[PathPerm]:
    # One comprehension over the final filesystem, the mode test first: ~0.1 s per 1M paths.
    found = [
        (p, e)
        for p, e in analysis.tree.live.items()
        if e.mode & _SPECIAL and e.kind is EntryKind.FILE
    ]
    out = []
    for path, entry in found:
        layer = _shipped_by(analysis, path)
        special = entry.mode & _SPECIAL
        below = analysis.tree.state_at(path, layer - 1) if layer else None
        was = below is not None and below.kind is EntryKind.FILE and below.mode & special == special
        out.append(PathPerm("/" + path, layer, entry.size, entry.mode, was))
    return sorted(out, key=lambda p: (p.layer, p.path))


def world_writable(analysis: Analysis) -> list[PathPerm]:
    """Files and directories anyone may write, directories without the sticky bit."""
    found = [
        (p, e)
        for p, e in analysis.tree.live.items()
        if e.mode & stat.S_IWOTH
        and (e.kind is EntryKind.FILE or (e.kind is EntryKind.DIR and not e.mode & stat.S_ISVTX))
    ]
    out = [PathPerm("/" + p, _shipped_by(analysis, p), e.size, e.mode) for p, e in found]
    return sorted(out, key=lambda p: (p.layer, p.path))


@dataclass(frozen=True, slots=True)
class RuntimeUser:
    uid: int
    gid: int | None
    name: str


def runtime_user(user: str, passwd: Callable[[], str]) -> RuntimeUser | None:
    """`USER` as ids, names looked up in /etc/passwd (read only when needed); None if unknown."""
    name, _, group = user.strip().partition(":")
    uid: int | None = int(name) if name.isdigit() else None
    gid: int | None = int(group) if group.isdigit() else None
    if uid is None or (gid is None and not group):
        for line in passwd().splitlines():
            fields = line.split(":")
            if len(fields) < 4 or not fields[2].isdigit() or not fields[3].isdigit():
                continue
            if fields[0] == name or (uid is not None and int(fields[2]) == uid):
                uid = int(fields[2])
                gid = gid if gid is not None else int(fields[3])
                break
    return None if uid is None else RuntimeUser(uid, gid, name)


def _writable_by(entry: Entry, user: RuntimeUser) -> bool:
    if entry.mode & stat.S_IWOTH:
        return True
    if entry.uid == user.uid and entry.mode & stat.S_IWUSR:
        return True
    return user.gid is not None and entry.gid == user.gid and bool(entry.mode & stat.S_IWGRP)


def _resolve_dir(analysis: Analysis, path: str) -> str:
    """`path` (clean) with symlinked directories followed (`bin` -> `usr/bin`), a few hops."""
    parts = [p for p in path.split("/") if p]
    out: list[str] = []
    hops = 0
    while parts:
        out.append(parts.pop(0))
        entry = analysis.tree.live.get("/".join(out))
        if entry is not None and entry.kind is EntryKind.SYMLINK and hops < 8:
            hops += 1
            target = entry.linkname
            out.pop()
            if target.startswith("/"):
                out = []
            parts = [p for p in target.split("/") if p] + parts
            while ".." in parts[:1] or "." in parts[:1]:
                if parts.pop(0) == ".." and out:
                    out.pop()
    return "/".join(out)


def path_dirs(env: tuple[str, ...]) -> list[str]:
    value = next((e.partition("=")[2] for e in env if e.startswith("PATH=")), DEFAULT_PATH)
    return [d for d in value.split(":") if d.startswith("/")]


def writable_path_entries(analysis: Analysis, user: RuntimeUser) -> list[PathPerm]:
    """PATH directories, and executables directly in them, that `user` can write."""
    dirs = {_resolve_dir(analysis, d) for d in path_dirs(analysis.image.env)}
    uid, gid = user.uid, user.gid
    maybe = [
        (p, e)
        for p, e in analysis.tree.live.items()
        if (e.mode & stat.S_IWOTH or e.uid == uid or e.gid == gid) and _writable_by(e, user)
    ]
    out = []
    for path, entry in maybe:
        parent = path.rpartition("/")[0]
        is_dir = path in dirs and entry.kind is EntryKind.DIR
        is_exe = parent in dirs and entry.kind is EntryKind.FILE and bool(entry.mode & 0o111)
        if is_dir or is_exe:
            out.append(PathPerm("/" + path, _shipped_by(analysis, path), entry.size, entry.mode))
    return sorted(out, key=lambda p: (p.layer, p.path))
