"""The story of a layer: its changes grouped by what they are, in one or two plain sentences.

`GROUPS` is a table of well-known paths (first match wins); add a row to teach it a new kind of
change. Paths outside every group are told by their top directories.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase, translate

from ..filetree import Change, FileTree, Version
from ..model import EntryKind
from ..units import human_bytes


@dataclass(frozen=True, slots=True)
class Group:
    """A kind of change, recognised by path patterns (fnmatch, clean paths, `*` crosses `/`)."""

    name: str
    written: str
    """What writing these paths means, e.g. `apt lists downloaded`."""
    removed: str
    patterns: tuple[str, ...]
    count_by: str = ""
    """A pattern naming the unit to count instead of files (e.g. one `*.dist-info` per package)."""
    unit: str = "file"
    event: bool = True
    """Always told, however small (`ldconfig cache rebuilt`); bulk groups (programs, libraries,
    docs) are told only when among the largest changes."""


def _g(
    name: str,
    written: str,
    removed: str,
    *patterns: str,
    count_by: str = "",
    unit: str = "file",
    event: bool = True,
) -> Group:
    return Group(name, written, removed, patterns, count_by, unit, event)


GROUPS: tuple[Group, ...] = (
    _g(
        "accounts",
        "account databases rewritten: passwd, shadow, group, gshadow and their - backups",
        "account databases removed",
        "etc/passwd",
        "etc/passwd-",
        "etc/shadow",
        "etc/shadow-",
        "etc/group",
        "etc/group-",
        "etc/gshadow",
        "etc/gshadow-",
        "etc/subuid",
        "etc/subuid-",
        "etc/subgid",
        "etc/subgid-",
    ),
    _g(
        "login-logs",
        "login logs written: lastlog, faillog",
        "login logs removed",
        "var/log/lastlog",
        "var/log/faillog",
        "var/log/wtmp",
        "var/log/btmp",
    ),
    _g("apt-lists", "apt lists downloaded", "apt lists deleted", "var/lib/apt/lists/*"),
    _g("apt-cache", "apt caches and archives written", "apt caches deleted", "var/cache/apt/*"),
    _g(
        "dpkg",
        "dpkg database updated",
        "dpkg database entries removed",
        "var/lib/dpkg/*",
        count_by="var/lib/dpkg/info/*.list",
        unit="package",
    ),
    _g("debconf", "debconf database updated", "debconf entries removed", "var/cache/debconf/*"),
    _g(
        "pkg-logs",
        "package tool logs written",
        "package tool logs removed",
        "var/log/apt/*",
        "var/log/dpkg.log",
        "var/log/alternatives.log",
        "var/log/dnf*",
        "var/log/yum.log",
    ),
    _g(
        "pip-cache",
        "pip cache filled",
        "pip cache deleted",
        "root/.cache/pip/*",
        "home/*/.cache/pip/*",
    ),
    _g(
        "bytecode",
        "bytecode compiled",
        "bytecode removed",
        "*.pyc",
        unit="`.pyc` file",
    ),
    _g(
        "python-packages",
        "Python packages installed",
        "Python packages removed",
        "usr/lib/python3*/site-packages/*",
        "usr/lib/python3/dist-packages/*",
        "usr/local/lib/python3*/site-packages/*",
        "usr/local/lib/python3*/dist-packages/*",
        "*/venv/lib/python3*/site-packages/*",
        "*/.venv/lib/python3*/site-packages/*",
        count_by="*.dist-info",
        unit="package",
    ),
    _g(
        "node-modules",
        "npm packages installed",
        "npm packages removed",
        "*/node_modules/*",
        count_by="*/node_modules/*/package.json",
        unit="package",
    ),
    _g("homes", "a home directory created", "a home directory removed", "home/*"),
    _g(
        "certificates",
        "certificates regenerated",
        "certificates removed",
        "etc/ssl/certs/*",
        "usr/share/ca-certificates/*",
        "etc/ca-certificates.conf",
    ),
    _g("ldconfig", "ldconfig cache rebuilt", "ldconfig cache removed", "etc/ld.so.cache"),
    _g(
        "docs",
        "docs, man pages and locales installed",
        "docs, man pages and locales removed",
        "usr/share/doc/*",
        "usr/share/man/*",
        "usr/share/info/*",
        "usr/share/locale/*",
        event=False,
    ),
    _g(
        "libraries",
        "shared libraries installed",
        "shared libraries removed",
        "usr/lib/*.so*",
        "lib/*.so*",
        "usr/lib64/*.so*",
        "lib64/*.so*",
        "usr/local/lib/*.so*",
        event=False,
    ),
    _g(
        "programs",
        "programs installed",
        "programs removed",
        "usr/bin/*",
        "usr/sbin/*",
        "bin/*",
        "sbin/*",
        "usr/local/bin/*",
        "usr/local/sbin/*",
        event=False,
    ),
)


_QUIET_EMPTY = {"apt-lists", "apt-cache"}


def _table(groups: tuple[Group, ...]) -> re.Pattern[str]:
    """One regex for the whole table: alternatives are tried in order, so the first group whose
    pattern matches wins, as in the table (one match per path instead of one per pattern)."""
    parts = [
        f"(?P<g{i}>{'|'.join(translate(p) for p in g.patterns)})" for i, g in enumerate(groups)
    ]
    return re.compile("|".join(parts))


_TABLE = _table(GROUPS)


def group_of(path: str) -> Group | None:
    """The first group whose patterns match `path` (clean, no leading /)."""
    m = _TABLE.match(path)
    if m is None or m.lastgroup is None:
        return None
    return GROUPS[int(m.lastgroup[1:])]


@dataclass(slots=True)
class _Tally:
    files: int = 0
    bytes: int = 0
    units: set[str] = field(default_factory=set)
    samples: list[str] = field(default_factory=list)


def _top(path: str) -> str:
    parts = path.split("/")
    return "/" + "/".join(parts[:2]) if len(parts) > 2 else "/" + parts[0]


def _phrase(label: str, tally: _Tally, unit: str) -> str:
    count = len(tally.units) if tally.units else tally.files
    noun = unit if count == 1 else unit + "s"
    size = f", {human_bytes(tally.bytes)}" if tally.bytes else ""
    if label.startswith("a home"):
        return f"{label} ({', '.join(tally.samples[:2])})"
    return f"{label} ({count} {noun}{size})"


def _rewritten(version: Version, tree: FileTree, path: str) -> bool:
    entry = version.entry
    if version.change is not Change.MODIFIED or entry is None or entry.kind is not EntryKind.FILE:
        return False
    before = tree.state_at(path, version.layer - 1)
    return (
        before is not None
        and before.content_hash == entry.content_hash
        and (before.size == entry.size)
    )


def _tally(tree: FileTree, layer: int) -> dict[tuple[str, str, str], _Tally]:
    tallies: dict[tuple[str, str, str], _Tally] = {}
    for path, version in tree.changes(layer):
        entry = version.entry
        if version.change is Change.UNMODIFIED:
            continue
        group = group_of(path)
        shown = entry if entry is not None else tree.state_at(path, layer - 1)
        if version.change is Change.REMOVED and shown is not None and shown.kind is EntryKind.DIR:
            continue  # its files are told; the directory itself is not news
        if group is not None and group.name in _QUIET_EMPTY and (shown is None or not shown.size):
            continue  # apt's lock files and partial/ directories are not news
        if version.change is Change.REMOVED:
            key = (
                (group.removed, group.unit, group.name)
                if group
                else (f"files deleted under {_top(path)}", "file", "")
            )
        elif _rewritten(version, tree, path) and (group is None or group.name != "accounts"):
            key = (
                f"same content stored again, only owner or mode changed, under {_top(path)}",
                "file",
                "",
            )
        elif group is not None:
            key = (group.written, group.unit, group.name)
        elif entry is not None and entry.kind is EntryKind.DIR:
            continue
        else:
            key = (f"files written under {_top(path)}", "file", "")
        t = tallies.setdefault(key, _Tally())
        t.files += 1
        if shown is not None and shown.kind is EntryKind.FILE:
            t.bytes += shown.size
        if group is not None and group.count_by:
            unit = _unit(path, group.count_by)
            if unit:
                t.units.add(unit)
        sample = "/" + "/".join(path.split("/")[:2])
        if group is None or group.name != "homes":
            sample = "/" + path
        if len(t.samples) < 3 and sample not in t.samples:
            t.samples.append(sample)
    return tallies


def _unit(path: str, pattern: str) -> str:
    parts = path.split("/")
    for i in range(len(parts), 0, -1):
        head = "/".join(parts[:i])
        if fnmatchcase(head, pattern):
            return head
    return ""


def layer_story(tree: FileTree, layer: int, bulk: int = 3) -> str:
    """One or two sentences: first what happened (every well-known event, however small,
    largest first), then the largest bulk changes and how many more."""
    tallies = _tally(tree, layer)
    if not tallies:
        return "No file changes (metadata only)."
    ranked = sorted(tallies.items(), key=lambda kv: (-kv[1].bytes, -kv[1].files, kv[0][0]))
    events = [kv for kv in ranked if kv[0][2] in _EVENTS]
    others = [kv for kv in ranked if kv[0][2] not in _EVENTS]
    shown, rest = others[: bulk if events else bulk + 2], others[bulk if events else bulk + 2 :]
    sentences = [
        "; ".join(_phrase(label, t, unit) for (label, unit, _), t in part)
        for part in (events, shown)
        if part
    ]
    if rest:
        files = sum(t.files for _, t in rest)
        size = sum(t.bytes for _, t in rest)
        sentences[-1] += f"; {files} more changes ({human_bytes(size)})"
    return ". ".join(x[0].upper() + x[1:] for x in sentences) + "."


_EVENTS = {g.name for g in GROUPS if g.event}


def stories(tree: FileTree) -> tuple[str, ...]:
    return tuple(layer_story(tree, i) for i in range(tree.layer_count))


def groups_in(paths: Iterable[str]) -> list[str]:
    """The names of the groups the paths fall in, each once (for tests and reports)."""
    seen: list[str] = []
    for p in paths:
        g = group_of(p)
        if g is not None and g.name not in seen:
            seen.append(g.name)
    return seen
