"""The file-tree pane: a scroll view that renders only the rows on screen.

Textual's `Tree` keeps a line per expanded node and rebuilds them on every change; with a
million paths that is seconds per keypress. Here the rows come from `TreeView` (numpy arrays,
one layer at a time) and `render_line` formats just the visible ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..filetree import Change
from ..treeview import Row, TreeView
from .fmt import CHANGE_STYLE, mode_string, owner, shorten_middle, size_text

_DIM = Style(dim=True)
_CURSOR = Style(reverse=True)
_LINK = Style(color="cyan")


class FileTreePane(ScrollView, can_focus=True):
    """Rows of `TreeView` with a cursor; the keys are dive's (ids are dive's action names)."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="down"),
        Binding("pageup,u", "page(-1)", "Page up", show=False, id="page-up"),
        Binding("pagedown,d", "page(1)", "Page down", show=False, id="page-down"),
        Binding("home,g", "jump_end(0)", "Top", show=False),
        Binding("end,G", "jump_end(1)", "Bottom", show=False),
        Binding("left,h", "left", "Collapse", show=False, id="left"),
        Binding("right,l", "right", "Expand", show=False, id="right"),
        Binding("space", "toggle_dir", "Collapse", id="toggle-collapse-dir"),
        Binding("ctrl+@,ctrl+space", "toggle_all", "Collapse all", id="toggle-collapse-all-dir"),
        Binding("ctrl+a,A", "toggle_kind('added')", "Added", id="toggle-added-files"),
        Binding("ctrl+r,R", "toggle_kind('removed')", "Removed", id="toggle-removed-files"),
        Binding("ctrl+m,M", "toggle_kind('modified')", "Modified", id="toggle-modified-files"),
        Binding(
            "ctrl+u,U", "toggle_kind('unmodified')", "Unmodified", id="toggle-unmodified-files"
        ),
        Binding(
            "ctrl+b,B", "attributes", "Attributes", show=False, id="toggle-filetree-attributes"
        ),
        Binding("ctrl+o,s", "sort", "Sort", id="toggle-sort-order"),
        Binding("enter,v", "view", "View", id="view-file"),
        Binding("i", "history", "History", id="file-history"),
        Binding("ctrl+e,x", "extract", "Extract", id="extract-file"),
    ]

    class Changed(Message):
        """The rows or the cursor changed: headers and counts need redrawing."""

    class Requested(Message):
        """The user asked to view, extract or see the history of the row under the cursor."""

        def __init__(self, what: str, row: Row) -> None:
            super().__init__()
            self.what = what
            self.row = row

    def __init__(self, tree_view: TreeView, show_attributes: bool = True, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.tree_view = tree_view
        self.cursor = 0
        self.show_attributes = show_attributes
        self._sync()

    # -- state --------------------------------------------------------------------------------
    def _sync(self, keep: int | None = None) -> None:
        """After the view changed: keep the cursor on `keep` (a node) if it is still shown."""
        if keep is not None:
            self.cursor = self.tree_view.nearest(keep)
        self.cursor = max(0, min(self.cursor, len(self.tree_view) - 1))
        self.virtual_size = Size(self._width(), len(self.tree_view))
        self._show_cursor()
        self.refresh()
        self.post_message(self.Changed())

    def _width(self) -> int:
        # Rows are cropped to the pane (no sideways scrolling); the full path is underneath.
        return self.size.width

    def current(self) -> Row | None:
        return self.tree_view.row(self.cursor) if len(self.tree_view) else None

    def current_node(self) -> int | None:
        return int(self.tree_view.rows[self.cursor]) if len(self.tree_view) else None

    def update_view(self, change: Callable[[TreeView], object], to_top: bool = False) -> None:
        """Apply one TreeView change; the cursor stays on its node (or where it stood), or
        goes to the first row (`to_top`, for a new filter)."""
        node = self.current_node()
        change(self.tree_view)
        if to_top:
            self.cursor, node = 0, None
            self.scroll_to(y=0, animate=False, immediate=True)
        self._sync(node)

    def select(self, node: int) -> None:
        if self.tree_view.position(node) is None:
            self.tree_view.expand_to(node)
        pos = self.tree_view.position(node)
        if pos is not None:
            self.cursor = pos
        self._sync()
        self.scroll_to(y=max(0, self.cursor - self.size.height // 3), animate=False)

    def _show_cursor(self) -> None:
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, immediate=True)

    def on_resize(self) -> None:
        self._sync()

    # -- actions ------------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.cursor = max(0, min(self.cursor + delta, len(self.tree_view) - 1))
        self._show_cursor()
        self.refresh()
        self.post_message(self.Changed())

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.size.height - 1))

    def action_jump_end(self, end: int) -> None:
        self.action_cursor(len(self.tree_view) if end else -len(self.tree_view))

    def action_toggle_dir(self) -> None:
        node = self.current_node()
        if node is not None and self.tree_view.is_dir(node):
            self.update_view(lambda v: v.toggle_collapse(node))

    def action_left(self) -> None:
        node = self.current_node()
        if node is None:
            return
        if self.tree_view.is_dir(node) and not self.tree_view.is_collapsed(node):
            self.update_view(lambda v: v.toggle_collapse(node))
            return
        parent = int(self.tree_view.index.parent[node])
        if parent >= 0:
            pos = self.tree_view.position(parent)
            if pos is not None:
                self.action_cursor(pos - self.cursor)

    def action_right(self) -> None:
        node = self.current_node()
        if node is not None and self.tree_view.is_dir(node) and self.tree_view.is_collapsed(node):
            self.update_view(lambda v: v.toggle_collapse(node))

    def action_toggle_all(self) -> None:
        collapse = self.tree_view.any_expanded()
        self.update_view(lambda v: v.set_all_collapsed(collapse))

    def action_toggle_kind(self, kind: str) -> None:
        self.update_view(lambda v: v.toggle_hidden(Change(kind)))

    def action_attributes(self) -> None:
        self.show_attributes = not self.show_attributes
        self._sync()

    def action_sort(self) -> None:
        self.update_view(lambda v: v.set_sort_by_size(not v.options.sort_by_size))

    def _request(self, what: str) -> None:
        row = self.current()
        if row is not None:
            self.post_message(self.Requested(what, row))

    def action_view(self) -> None:
        row = self.current()
        if row is not None and row.is_dir:
            self.action_toggle_dir()
        else:
            self._request("view")

    def action_history(self) -> None:
        self._request("history")

    def action_extract(self) -> None:
        self._request("extract")

    # -- mouse --------------------------------------------------------------------------------
    def on_click(self, event: object) -> None:
        y = getattr(event, "y", None)
        if y is None:
            return
        pos = int(y) + int(self.scroll_offset.y)
        if 0 <= pos < len(self.tree_view):
            again = pos == self.cursor
            self.cursor = pos
            self._show_cursor()
            self.refresh()
            self.post_message(self.Changed())
            if again or getattr(event, "chain", 1) == 2:
                self.action_view()

    # -- rendering ----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        pos = y + scroll_y
        width = self.size.width
        if pos >= len(self.tree_view):
            return Strip.blank(width, self.rich_style)
        row = self.tree_view.row(pos)
        segments = self._segments(row)
        strip = Strip(segments).crop(scroll_x, scroll_x + width)
        if pos == self.cursor and self.has_focus:
            strip = strip.apply_style(_CURSOR)
        elif pos == self.cursor:
            strip = strip.apply_style(Style(bgcolor="grey23"))
        return strip.extend_cell_length(width)

    def _segments(self, row: Row) -> list[Segment]:
        width = self.size.width
        attrs = self._attributes(row, self.attribute_columns(width)) if self.show_attributes else ""
        segs = [Segment(attrs, _DIM if row.change is Change.UNMODIFIED else None)] if attrs else []
        narrow = width - len(attrs) < _NARROW
        # Narrow: two-cell guides, so deep paths keep room for their names.
        bar, gap, tee, corner = ("│ ", "  ", "├ ", "└ ") if narrow else _GUIDES
        guide = "".join(bar if more else gap for more in row.guides) + (corner if row.last else tee)
        segs.append(Segment(guide, _DIM))
        style = CHANGE_STYLE[row.change]
        mark = "⊕ " if row.is_dir and row.collapsed else ""
        name = row.name + ("/" if row.is_dir else "")
        room = width - len(attrs) - len(guide) - len(mark)
        if len(name) > room:  # names give way last: cut in the middle, the end stays
            name = shorten_middle(name, max(room, 8))
        if mark:
            segs.append(Segment(mark, style))
        segs.append(Segment(name, style + Style(bold=row.is_dir)))
        entry = row.entry
        if entry is not None and entry.linkname:
            arrow = " → " if entry.kind.value == "symlink" else " ⇒ /"
            segs.append(Segment(arrow + entry.linkname, _LINK))
        return segs

    def attribute_columns(self, width: int) -> Columns:
        """Which attributes fit beside the names at this width: they shrink and then go before
        a name is cut (`ctrl+b` shows or hides them; the cursor's are under the pane)."""
        filtered = self.tree_view.options.pattern is not None or bool(self.tree_view.options.hidden)
        size_width = _SIZE_OF if filtered else _SIZE
        choices = [Columns(True, True, size_width), Columns(True, False, size_width)]
        choices.append(Columns(False, False, size_width))
        for cols in choices:
            if width - cols.width >= _NAMES:
                return cols
        small = choices[-1]
        return small if width - small.width >= _NAMES_MIN else Columns(False, False, 0)

    @staticmethod
    def _attributes(row: Row, cols: Columns) -> str:
        if not cols.width:
            return ""
        parts = []
        if cols.mode:
            parts.append(mode_string(row.entry, row.is_dir))
        if cols.owner:
            parts.append(f"{owner(row.entry):>11}")
        parts.append(f"{size_cell(row):>{cols.size}}")
        return " ".join(parts) + "  "


def size_cell(row: Row) -> str:
    """The size of what is shown, and the whole size beside it where a filter hides some."""
    shown = size_text(row.size)
    if row.size == row.total_size:
        return shown
    return f"{shown} of {size_text(row.total_size)}"


@dataclass(frozen=True, slots=True)
class Columns:
    mode: bool
    owner: bool
    size: int
    """The size column's width; 0: no attributes at all."""

    @property
    def width(self) -> int:
        if not self.size:
            return 0
        return self.size + 2 + (11 if self.mode else 0) + (12 if self.owner else 0)


_SIZE, _SIZE_OF = 9, 19
_NAMES, _NAMES_MIN, _NARROW = 36, 24, 32
"""Cells wanted for guides and names beside the attributes, the least, and below which the
tree draws two-cell guides."""
_GUIDES = ("│   ", "    ", "├── ", "└── ")
