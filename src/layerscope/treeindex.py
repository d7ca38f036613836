"""Every path of an image in one name-sorted pre-order, as flat arrays a viewer can slice.

Built once from a `FileTree`. In pre-order each directory's subtree is a contiguous range
`[i + 1, end[i])`, so "has a matching descendant", directory sizes and "under a collapsed
directory" are prefix sums over the whole array instead of walks: numpy does them in a few
milliseconds for a million paths, which is what keeps a keypress in the viewer fast.
Versions are flattened the same way: `v_start[i]:v_start[i+1]` are path i's versions in layer order.
"""

from __future__ import annotations

import bisect
import re
from array import array
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .filetree import Change, FileTree
from .model import Entry, EntryKind

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CHANGE_CODE = {Change.UNMODIFIED: 0, Change.MODIFIED: 1, Change.ADDED: 2, Change.REMOVED: 3}
CODE_CHANGE = {code: change for change, code in CHANGE_CODE.items()}
UNMODIFIED, MODIFIED, ADDED, REMOVED = 0, 1, 2, 3


def _key(path: str) -> str:
    # "/" sorts below every other character, so a directory's children follow it directly.
    return path.replace("/", "\0")


@dataclass(frozen=True, slots=True)
class Match:
    """Which paths a filter matched: a mask over the index, and how many."""

    mask: BoolArray
    count: int


class TreeIndex:
    """The paths (explicit and implicit directories), their structure and all their versions."""

    def __init__(self, tree: FileTree) -> None:
        self.layer_count = tree.layer_count
        names: set[str] = set(tree.versions)
        for path in tree.versions:
            parent = path.rpartition("/")[0]
            while parent and parent not in names:
                names.add(parent)
                parent = parent.rpartition("/")[0]
        self.paths: list[str] = sorted(names, key=_key)
        n = len(self.paths)
        self.parent = np.full(n, -1, dtype=np.int64)
        self.end = np.zeros(n, dtype=np.int64)
        self.depth = np.zeros(n, dtype=np.int64)
        self._structure()
        self._versions(tree)
        self.count = n
        self._text = "\n".join("/" + p for p in self.paths)
        self._line_start = np.zeros(n + 1, dtype=np.int64)
        if n:
            lengths = np.fromiter((len(p) + 2 for p in self.paths), dtype=np.int64, count=n)
            self._line_start[1:] = np.cumsum(lengths)
        # Built now, while loading, rather than on the first filter keystroke.
        self._utf8, self._utf8_start = self._encode()

    def _structure(self) -> None:
        stack: list[tuple[int, str]] = []
        parent, end, depth = self.parent, self.end, self.depth
        for i, path in enumerate(self.paths):
            while stack and not path.startswith(stack[-1][1]):
                end[stack.pop()[0]] = i
            if stack:
                parent[i] = stack[-1][0]
                depth[i] = len(stack)
            stack.append((i, path + "/"))
        for j, _ in stack:
            end[j] = len(self.paths)

    def _versions(self, tree: FileTree) -> None:
        # Machine-integer arrays, not lists of int objects: a million versions stay 40 MB.
        starts = array("q", [0])
        layers = array("q")
        changes = array("b")
        sizes = array("q")
        dirs = array("b")
        entries: list[Entry | None] = []
        versions = tree.versions
        for path in self.paths:
            size, is_dir = 0, False
            for v in versions.get(path, ()):
                layers.append(v.layer)
                changes.append(CHANGE_CODE[v.change])
                e = v.entry
                if e is not None:  # a removal keeps the size and kind of what it removed
                    size = e.size if e.kind is EntryKind.FILE else 0
                    is_dir = e.kind is EntryKind.DIR
                sizes.append(size)
                dirs.append(is_dir)
                entries.append(e)
            starts.append(len(layers))
        # A sentinel no path owns, so that gathers at "no version" indices stay in bounds.
        layers.append(-1)
        changes.append(CHANGE_CODE[Change.REMOVED])
        sizes.append(0)
        dirs.append(False)
        entries.append(None)
        self.v_start = np.frombuffer(starts, dtype=np.int64).copy()
        self.v_layer = np.frombuffer(layers, dtype=np.int64).copy()
        self.v_change = np.frombuffer(changes, dtype=np.int8).copy()
        self.v_size = np.frombuffer(sizes, dtype=np.int64).copy()
        self.v_dir = np.frombuffer(dirs, dtype=np.int8).astype(np.bool_)
        self.entries = entries
        # A path is a directory in the view when no version ever made it something else, or
        # when it only exists implicitly (a parent of other paths).
        self.implicit = self.v_start[1:] == self.v_start[:-1]

    # -- lookups ------------------------------------------------------------------------------
    def find(self, path: str) -> int | None:
        """The index of `path` (no leading `/`), or None."""
        path = path.strip("/")
        i = bisect.bisect_left(self.paths, _key(path), key=_key)
        return i if i < len(self.paths) and self.paths[i] == path else None

    def name(self, i: int) -> str:
        return self.paths[i].rpartition("/")[2]

    def ancestors(self, i: int) -> list[int]:
        out: list[int] = []
        p = int(self.parent[i])
        while p >= 0:
            out.append(p)
            p = int(self.parent[p])
        return out

    def versions(self, i: int) -> list[tuple[int, Change, Entry | None]]:
        lo, hi = int(self.v_start[i]), int(self.v_start[i + 1])
        return [
            (int(self.v_layer[k]), CODE_CHANGE[int(self.v_change[k])], self.entries[k])
            for k in range(lo, hi)
        ]

    def has_descendant(self, mask: BoolArray) -> BoolArray:
        """For each path: does any path strictly inside its subtree have `mask` set?"""
        cs = np.empty(self.count + 1, dtype=np.int32)
        cs[0] = 0
        np.cumsum(mask, dtype=np.int32, out=cs[1:])
        return cs[self.end] > cs[1:]

    def subtree_sum(self, values: IntArray) -> IntArray:
        """For each path: the sum of `values` over itself and its subtree."""
        cs = np.empty(self.count + 1, dtype=np.int64)
        cs[0] = 0
        np.cumsum(values, out=cs[1:])
        return cs[self.end] - cs[:-1]

    # -- filtering ----------------------------------------------------------------------------
    def match(self, pattern: re.Pattern[str]) -> Match:
        """Paths whose full path (with a leading `/`, as dive shows them) the pattern searches."""
        if pattern.search(""):
            return Match(np.ones(self.count, dtype=np.bool_), self.count)
        literal = _literal(pattern)
        if literal is not None:
            mask = self._match_literal(*literal)
            return Match(mask, int(mask.sum()))
        mask = np.zeros(self.count, dtype=np.bool_)
        if not _scan_safe(pattern.pattern):
            for i, path in enumerate(self.paths):
                if pattern.search("/" + path):
                    mask[i] = True
            return Match(mask, int(mask.sum()))
        # All paths joined by newlines, scanned once in C: with no classes, escapes or flags
        # a match cannot cross a newline, so every hit names its path exactly.
        scan = re.compile(pattern.pattern, pattern.flags | re.MULTILINE)
        hits = np.fromiter((m.start() for m in scan.finditer(self._text)), dtype=np.int64)
        mask[np.searchsorted(self._line_start, hits, side="right") - 1] = True
        return Match(mask, int(mask.sum()))

    def _encode(self) -> tuple[npt.NDArray[np.uint8], IntArray]:
        """The joined paths as UTF-8 bytes, with each line's start in bytes."""
        raw = (self._text + "\n").encode("utf-8", "surrogateescape")
        starts = self._line_start[:-1]
        if len(raw) != len(self._text) + 1:  # non-ASCII names: byte offsets differ
            lengths = [len(("/" + p).encode("utf-8", "surrogateescape")) + 1 for p in self.paths]
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        return np.frombuffer(raw, dtype=np.uint8), starts

    def _match_literal(self, needle: bytes, anchored: bool) -> BoolArray:
        """A plain substring (or `^prefix`), found with vectorised byte compares."""
        data, starts = self._utf8, self._utf8_start
        size = len(needle)
        if anchored:
            ok = starts + size <= len(data)
            for k, byte in enumerate(needle):
                ok &= data[np.minimum(starts + k, len(data) - 1)] == byte
            return ok
        n = len(data) - size + 1
        if n <= 0:
            return np.zeros(self.count, dtype=np.bool_)
        hits = np.flatnonzero(data[:n] == needle[0])
        for k in range(1, size):
            hits = hits[data[hits + k] == needle[k]]
        if len(hits) > self.count // 8:
            # Many hits: mark them and ask each line "any?", cheaper than a search per hit.
            marks = np.zeros(len(data), dtype=np.bool_)
            marks[hits] = True
            return np.logical_or.reduceat(marks, starts)
        mask = np.zeros(self.count, dtype=np.bool_)
        mask[np.searchsorted(starts, hits, side="right") - 1] = True
        return mask


_META = frozenset(".^$*+?{}[]\\|()")


def _literal(pattern: re.Pattern[str]) -> tuple[bytes, bool] | None:
    """(bytes, anchored) when the pattern is a plain substring or `^prefix`, else None."""
    if pattern.flags & ~re.UNICODE:
        return None
    text = pattern.pattern
    anchored = text.startswith("^")
    body = text[1:] if anchored else text
    if not body or any(c in _META for c in body) or "\n" in body:
        return None
    return body.encode("utf-8", "surrogateescape"), anchored


def _scan_safe(text: str) -> bool:
    return not any(token in text for token in ("\\", "[", "(?"))
