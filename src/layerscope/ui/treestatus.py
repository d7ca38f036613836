"""The lines above and below the file tree: change counts and sort, and the cursor's row whole."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from ..filetree import Change
from ..treeview import Row, TreeView
from .fmt import CHANGE_STYLE, mode_string, owner
from .treepane import size_cell


def header_text(view: TreeView, filtering: bool, short: bool) -> Text:
    """`■ added 12  ■ removed 3 … │ sort: name │ 4 match`; `short`: `A 12 R 3 …`, the letters
    of the keys that hide each kind, for a narrow pane."""
    counts = view.counts()
    text = Text(no_wrap=True, overflow="ellipsis")
    for change in (Change.ADDED, Change.REMOVED, Change.MODIFIED, Change.UNMODIFIED):
        hidden = change in view.options.hidden
        style = CHANGE_STYLE[change] + Style(strike=hidden, dim=hidden)
        label = change.value[0].upper() if short else f"■ {change.value}"
        text.append(f"{label} {counts[change]:,}", style=style)
        text.append(" " if short else "  ")
    text.append("│ sort: ", style="dim")
    text.append("size ↓" if view.options.sort_by_size else "name", style="bold")
    if filtering:
        text.append("  │ filtering…", style="cyan")
    elif view.options.pattern is not None:
        text.append(f"  │ {view.match_count:,} match", style="cyan bold")
    return text


def status_text(row: Row | None, width: int) -> Text:
    """The cursor's row whole: change kind first, the full path (wrapped), link target and
    attributes, which move to a line of their own rather than break in two."""
    if row is None:
        return Text("nothing shown", style="dim")
    text = Text(row.change.value, style=CHANGE_STYLE[row.change] + Style(bold=True))
    text.append("  " + row.path + ("/" if row.is_dir else ""))
    entry = row.entry
    if entry is not None and entry.linkname:
        text.append((" → " if entry.kind.value == "symlink" else " ⇒ /") + entry.linkname)
    attrs = f"{mode_string(entry, row.is_dir)} {owner(entry)} {size_cell(row)}"
    last_line = len(text.plain) % width if width > 0 else 0
    text.append("\n" if last_line + 2 + len(attrs) > width else "  ")
    text.append(attrs, style="dim")
    return text
