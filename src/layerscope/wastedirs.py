"""Waste by directory: where the reclaimable bytes gather, so a cache is one line, not 1,891.

Every wasted file's reclaimable bytes are added to each of its directories. The report starts
from the directories two levels down (`/var/lib`, `/var/cache`: a top-level directory alone says
little) and walks down while one subdirectory holds nearly all of a directory's waste
(`/root/.cache` -> `/root/.cache/pip`), stopping where the waste spreads out; those directories
are ranked by bytes; files directly in `/` or a top-level directory count for it alone. Each
directory names its causes, largest first, and the layers that hold the wasted copies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .analysis import WasteCause, WastedFile

DOMINANT = 0.9
"""A subdirectory holding at least this share of its parent's waste stands for its parent."""


@dataclass(frozen=True, slots=True)
class WastedDirectory:
    path: str
    """With a leading and trailing `/` (`/root/.cache/pip/`); `/` for files at the root."""
    reclaimable_bytes: int
    files: int
    """Wasted files below it."""
    causes: tuple[WasteCause, ...]
    """Largest first, by the bytes each cause wasted."""
    layers: tuple[int, ...]
    """The layers holding a copy of a wasted file below it."""


@dataclass(slots=True)
class _Node:
    bytes: int = 0
    files: int = 0
    causes: dict[WasteCause, int] = field(default_factory=dict)
    layers: set[int] = field(default_factory=set)
    children: dict[str, _Node] = field(default_factory=dict)
    direct: list[WastedFile] = field(default_factory=list)


def _tree(files: Iterable[WastedFile]) -> _Node:
    root = _Node()
    for f in files:
        parts = f.path.strip("/").split("/")[:-1]
        node = root
        for part in ["", *parts]:
            if part:
                node = node.children.setdefault(part, _Node())
            node.bytes += f.reclaimable_bytes
            node.files += 1
            node.layers.update(f.layers)
            for cause, size in _cause_bytes(f):
                node.causes[cause] = node.causes.get(cause, 0) + size
        node.direct.append(f)
    return root


def _cause_bytes(f: WastedFile) -> list[tuple[WasteCause, int]]:
    if f.wasted:
        return [(copy.cause, copy.size) for copy in f.wasted]
    return [(cause, f.reclaimable_bytes) for cause in f.causes]  # no per-copy record


def _descend(path: str, node: _Node) -> tuple[str, _Node]:
    while node.children:
        name, child = max(node.children.items(), key=lambda kv: (kv[1].bytes, kv[0]))
        if child.bytes < DOMINANT * node.bytes:
            break
        path, node = f"{path}{name}/", child
    return path, node


def _entry(path: str, node: _Node) -> WastedDirectory:
    causes = sorted(node.causes, key=lambda c: (-node.causes[c], c))
    return WastedDirectory(path, node.bytes, node.files, tuple(causes), tuple(sorted(node.layers)))


def _collect(path: str, node: _Node) -> list[WastedDirectory]:
    if path.count("/") > 2:  # below a top-level directory
        return [_entry(*_descend(path, node))]
    found = [d for name, child in node.children.items() for d in _collect(f"{path}{name}/", child)]
    if node.direct:
        found.append(_entry(path, _tree(node.direct)))
    return found


def waste_by_directory(files: Iterable[WastedFile], limit: int = 10) -> tuple[WastedDirectory, ...]:
    """The directories where the reclaimable bytes gather, largest first, at most `limit`."""
    found = _collect("/", _tree(files))
    found.sort(key=lambda d: (-d.reclaimable_bytes, d.path))
    return tuple(found[:limit])
