"""What the file-tree pane shows: the rows for one layer, mode, filter, sort and collapse state.

Headless: the viewer keeps one `TreeView`, changes its options and asks for `rows` and `row`.
Only the current layer's arrays exist at any time (memory is O(paths), never layers x paths,
unlike dive's tree per layer), and every change is a handful of vectorised passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .filetree import Change
from .model import Entry
from .treeindex import (
    ADDED,
    CHANGE_CODE,
    CODE_CHANGE,
    MODIFIED,
    REMOVED,
    UNMODIFIED,
    BoolArray,
    IntArray,
    Match,
    TreeIndex,
)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the tree pane."""

    node: int
    path: str
    name: str
    depth: int
    guides: tuple[bool, ...]
    """Per ancestor level below the root: does that ancestor have a later visible sibling?"""
    last: bool
    """No later visible sibling: drawn with a corner instead of a tee."""
    change: Change
    entry: Entry | None
    """The entry shown (for a removal, the entry that was removed); None for implicit dirs."""
    is_dir: bool
    collapsed: bool
    size: int
    """File size, or for a directory the sum of the files under it that are shown (the filter
    and the hidden change kinds leave some out)."""
    total_size: int
    """The same sum over every file under it at this layer, whatever is hidden (as dive's)."""


@dataclass(slots=True)
class ViewOptions:
    layer: int = 0
    aggregated: bool = False
    """False: the layer's own changes over the layers below (dive's default "layer changes")."""
    hidden: frozenset[Change] = frozenset()
    sort_by_size: bool = False
    pattern: re.Pattern[str] | None = None


class TreeView:
    def __init__(self, index: TreeIndex, options: ViewOptions | None = None) -> None:
        self.index = index
        self.options = options or ViewOptions()
        self._collapsed = np.zeros(index.count, dtype=np.bool_)
        """Directories the user collapsed: kept across layers, filters and sorts."""
        self._layer_key: tuple[int, bool] | None = None
        self._order_key: tuple[int, bool, bool] | None = None
        self._match_key: re.Pattern[str] | None = None
        self._match: BoolArray | None = None
        self.match_count = index.count
        self.rows: IntArray = np.zeros(0, dtype=np.int64)
        self._counts: dict[Change, int] | None = None
        self.refresh()

    # -- options ------------------------------------------------------------------------------
    def set_layer(self, layer: int, aggregated: bool | None = None) -> None:
        self.options.layer = max(0, min(layer, self.index.layer_count - 1))
        if aggregated is not None:
            self.options.aggregated = aggregated
        self.refresh()

    def toggle_hidden(self, change: Change) -> None:
        self.options.hidden = self.options.hidden ^ {change}
        self.refresh()

    def set_sort_by_size(self, by_size: bool) -> None:
        self.options.sort_by_size = by_size
        self.refresh()

    def set_pattern(self, pattern: re.Pattern[str] | None, match: Match | None = None) -> None:
        """Filter by `pattern`; `match` is its result when it was computed elsewhere (a thread)."""
        self.options.pattern = pattern
        if match is not None:
            self._match, self._match_key = match.mask, pattern
        self.refresh()

    def toggle_collapse(self, node: int) -> None:
        if not self.is_dir(node):
            return
        self._collapsed[node] = not self._collapsed[node]
        self.refresh()

    def set_all_collapsed(self, collapsed: bool) -> None:
        self._collapsed[:] = self._dir & collapsed
        self.refresh()

    def expand_to(self, node: int) -> None:
        """Make `node` visible: expand its ancestors (filters and hidden kinds stay)."""
        for a in self.index.ancestors(node):
            self._collapsed[a] = False
        self.refresh()

    def any_expanded(self) -> bool:
        """Is any shown directory open? (collapse-all closes them, or else opens every one)"""
        return bool((self._dir & ~self._collapsed & self._visible).any())

    def is_dir(self, node: int) -> bool:
        return bool(self._dir[node])

    def is_collapsed(self, node: int) -> bool:
        return bool(self._collapsed[node])

    # -- computing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        o = self.options
        layer_key = (o.layer, o.aggregated)
        if layer_key != self._layer_key:
            self._compute_layer()
            self._layer_key = layer_key
            self._order_key = None
        order_key = (o.layer, o.aggregated, o.sort_by_size)
        if order_key != self._order_key:
            self._compute_order()
            self._order_key = order_key
        if o.pattern is not self._match_key:
            self._match = None if o.pattern is None else self.index.match(o.pattern).mask
            self._match_key = o.pattern
        self._compute_rows()
        self._counts = None

    def _compute_layer(self) -> None:
        ix, layer = self.index, self.options.layer
        le = ix.v_layer <= layer
        cs = np.concatenate(([0], np.cumsum(le, dtype=np.int64)))
        count_le = cs[ix.v_start[1:]] - cs[ix.v_start[:-1]]
        has = count_le > 0
        cur = np.where(has, ix.v_start[:-1] + count_le - 1, 0)
        cur_change = np.where(has, ix.v_change[cur], REMOVED)
        cur_layer = np.where(has, ix.v_layer[cur], -1)
        present = has & (cur_change != REMOVED)
        if self.options.aggregated:
            diff = self._aggregated_diff(has, cur, present, le)
        else:
            diff = np.where(cur_layer == layer, cur_change, UNMODIFIED).astype(np.int8)
        # Removed paths are shown (red) only at the layer or span that removed them.
        shown_explicit = present | (has & (diff == REMOVED))
        implicit_shown = ix.implicit & ix.has_descendant(shown_explicit)
        self._shown = shown_explicit | implicit_shown
        self._cur = np.where(has, cur, -1)
        self._dir = ix.implicit | np.where(has, ix.v_dir[cur], False)
        # dive marks a directory Modified when something below it changed.
        changed_below = ix.has_descendant(self._shown & (diff != UNMODIFIED))
        diff = np.where(self._dir & (diff == UNMODIFIED) & changed_below, MODIFIED, diff)
        self._diff = diff.astype(np.int8)
        file_size = np.where(has, ix.v_size[cur], 0)
        # A removed file's bytes count only inside a directory that is itself removed.
        self._file_size = file_size
        self._size = self._sizes(self._shown)

    def _sizes(self, counted: BoolArray) -> IntArray:
        """Per path: the bytes of the `counted` files in its subtree."""
        ix, file_size = self.index, self._file_size
        # A removed file's bytes count only inside a directory that is itself removed.
        removed = self._diff == REMOVED
        size = ix.subtree_sum(np.where(counted & ~removed, file_size, 0))
        if removed.any():  # a removed file or directory shows the size of what it removed
            every = ix.subtree_sum(np.where(counted, file_size, 0))
            size[removed] = every[removed]
        return size

    def _aggregated_diff(
        self, has: BoolArray, cur: IntArray, present: BoolArray, le: BoolArray
    ) -> IntArray:
        """Changes since layer 0: dive's "aggregated" compare mode (0, 0, 1, layer)."""
        ix = self.index
        first = ix.v_start[:-1]
        base_has = (ix.v_start[1:] > first) & (ix.v_layer[first] == 0)
        base_present = base_has & (ix.v_change[first] != REMOVED)
        later = le & (ix.v_layer > 0) & (ix.v_change != UNMODIFIED)
        cs = np.concatenate(([0], np.cumsum(later, dtype=np.int64)))
        touched = (cs[ix.v_start[1:]] - cs[first]) > 0
        diff = np.full(ix.count, UNMODIFIED, dtype=np.int64)
        diff[present & ~base_present] = ADDED
        diff[present & base_present & touched] = MODIFIED
        diff[~present & base_present & has] = REMOVED
        return diff

    def _compute_order(self) -> None:
        ix = self.index
        if not self.options.sort_by_size:
            self._perm = np.arange(ix.count, dtype=np.int64)
            self._dpos = self._perm
            return
        idx = np.arange(ix.count, dtype=np.int64)
        # Siblings by size, largest first, ties by name: sorted within each parent group...
        order = np.lexsort((idx, -self._size, ix.parent))
        count = ix.end - idx
        csum = np.cumsum(count[order])
        parents = ix.parent[order]
        group_start = np.ones(len(order), dtype=np.bool_)
        group_start[1:] = parents[1:] != parents[:-1]
        base = np.maximum.accumulate(np.where(group_start, csum - count[order], 0))
        offset = np.empty(ix.count, dtype=np.int64)
        offset[order] = csum - count[order] - base
        # ...then a child's position is its parent's position + 1 + the sizes of earlier siblings.
        dpos = np.empty(ix.count, dtype=np.int64)
        for d in range(int(ix.depth.max(initial=0)) + 1):
            at = np.flatnonzero(ix.depth == d)
            if d == 0:
                dpos[at] = offset[at]
            else:
                dpos[at] = dpos[ix.parent[at]] + 1 + offset[at]
        self._dpos = dpos
        self._perm = np.empty(ix.count, dtype=np.int64)
        self._perm[dpos] = idx

    def _compute_rows(self) -> None:
        ix = self.index
        hidden_codes = [CHANGE_CODE[c] for c in self.options.hidden]
        visible = self._shown & ~np.isin(self._diff, hidden_codes)
        if self._match is not None:
            visible &= self._match
        self.match_count = int(visible.sum())
        filtered = self._match is not None or bool(hidden_codes)
        self._shown_size = self._sizes(visible) if filtered else self._size
        visible = visible | ix.has_descendant(visible)
        marks = np.zeros(ix.count + 1, dtype=np.int64)
        starts = np.flatnonzero(self._collapsed & visible)
        np.add.at(marks, starts + 1, 1)
        np.add.at(marks, ix.end[starts], -1)
        inside = np.cumsum(marks[:-1]) > 0
        visible &= ~inside
        self._visible = visible
        self.rows = self._perm[visible[self._perm]]
        self._row_dpos = self._dpos[self.rows]

    # -- rows ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    def position(self, node: int) -> int | None:
        """The row showing `node`, or None if it is not visible."""
        if not self._visible[node]:
            return None
        return int(np.searchsorted(self._row_dpos, self._dpos[node]))

    def nearest(self, node: int) -> int:
        """The row showing `node`, or else the row that now stands where it would be."""
        pos = int(np.searchsorted(self._row_dpos, self._dpos[node]))
        return max(0, min(pos, len(self.rows) - 1))

    def _has_next_sibling(self, node: int) -> bool:
        ix = self.index
        after = self._dpos[node] + (ix.end[node] - node)
        k = int(np.searchsorted(self._row_dpos, after))
        return k < len(self.rows) and bool(ix.parent[self.rows[k]] == ix.parent[node])

    def row(self, position: int) -> Row:
        ix = self.index
        node = int(self.rows[position])
        ancestors = ix.ancestors(node)
        guides = tuple(self._has_next_sibling(a) for a in reversed(ancestors))
        path = ix.paths[node]
        return Row(
            node=node,
            path="/" + path,
            name=path.rpartition("/")[2],
            depth=len(ancestors),
            guides=guides,
            last=not self._has_next_sibling(node),
            change=CODE_CHANGE[int(self._diff[node])],
            entry=self.entry(node),
            is_dir=bool(self._dir[node]),
            collapsed=bool(self._collapsed[node]),
            size=int(self._shown_size[node]),
            total_size=int(self._size[node]),
        )

    def entry(self, node: int) -> Entry | None:
        """The entry at the current layer; for a removal, the last entry before it."""
        k = int(self._cur[node])
        lo = int(self.index.v_start[node])
        while k >= lo:
            e = self.index.entries[k]
            if e is not None:
                return e
            k -= 1
        return None

    def counts(self) -> dict[Change, int]:
        """How many shown non-directory paths each change kind has at this layer."""
        if self._counts is None:
            files = self._shown & ~self._dir
            codes = np.bincount(self._diff[files], minlength=4)
            self._counts = {CODE_CHANGE[c]: int(codes[c]) for c in range(4)}
        return self._counts
