"""The packages view: the image's packages by bytes in the final image; enter filters the tree to
a package's files at the layer that installed it. The layer details list each layer's package
changes.

The package report is analysed once, in a thread worker, the first time it is needed: when the
view is first opened, or when the user moves to another layer than the first one shown (the
first screen never waits for it, nor shares the machine with it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from ..errors import LayerscopeError
from ..units import human_bytes

# The package analysis is imported where it runs (in the worker, or once its report is there):
# the explorer's first screen does not pay for loading it.
if TYPE_CHECKING:
    from ..packages.analyse import PackageReport
    from ..packages.attribution import PackageChange, PackageUsage
    from ..session import OpenedImage

_KINDS = ("added", "upgraded", "removed")
"""ChangeKind's values, in the order the layer details count them."""
CHANGE_STYLE = {"added": "green", "upgraded": "yellow", "removed": "red"}
_SIGN = {"added": "+", "upgraded": "~", "removed": "-"}
DETAIL_CHANGES = 5
"""Package changes the layer details name (the largest); the view lists every package."""


class PackageData:
    """The image's package report, analysed once off the UI thread; callers wait with `need`."""

    def __init__(self, node: DOMNode, opened: OpenedImage) -> None:
        self.node = node
        """Runs the worker (the explorer screen: it lives as long as the report is wanted)."""
        self.opened = opened
        self.report: PackageReport | None = None
        self.error: str | None = None
        self._waiting: list[Callable[[], None]] = []
        self._refresh: Callable[[], None] | None = None
        self._started = False
        self._first_layer: int | None = None

    @property
    def started(self) -> bool:
        """The analysis was asked for (it runs, or it ran)."""
        return self._started

    @property
    def ready(self) -> bool:
        return self.report is not None or self.error is not None

    def need(self, then: Callable[[], None] | None = None) -> None:
        """Call `then` (on the UI thread) once the report or its error is there."""
        if self.ready:
            if then is not None:
                then()
            return
        if then is not None:
            self._waiting.append(then)
        if not self._started:
            self._started = True
            self.node.run_worker(self._analyse, thread=True, group="packages", name="packages")

    def _analyse(self) -> None:
        from ..packages.analyse import analyse_packages  # noqa: PLC0415

        try:
            report, error = analyse_packages(self.opened), None
        except LayerscopeError as exc:
            report, error = None, str(exc)
        self.node.app.call_from_thread(self._done, report, error)

    def _done(self, report: PackageReport | None, error: str | None) -> None:
        self.report, self.error = report, error
        waiting, self._waiting = self._waiting, []
        if self._refresh is not None:
            waiting.append(self._refresh)
        for then in waiting:
            then()

    def layer_line(self, layer: int, refresh: Callable[[], None]) -> Text | None:
        """The layer details' package changes, or None while there is nothing to show. The
        first layer shown (the first screen) does not start the analysis; any other does, and
        `refresh` redraws the details when it ends."""
        if self.report is not None:
            return changes_line(self.report, layer)
        if self.error is not None:
            return Text(self.error, style="red")
        if self._first_layer is None:
            self._first_layer = layer
        elif layer != self._first_layer or self._started:
            self._refresh = refresh
            self.need()
            return Text("reading package databases …", style="dim")
        return None


def changes_line(report: PackageReport, layer: int) -> Text | None:
    """`+2 ~1 -1: + libc6 2.36-9 1.2 MB, ~ curl 7 -> 8 300 kB, - gcc-12 … still stored`."""
    changes = report.attribution.changes_in(layer)
    if not changes:
        return None
    text = Text()
    for kind in _KINDS:
        n = sum(1 for c in changes if c.kind == kind)
        if n:
            text.append(f"{_SIGN[kind]}{n} ", style=CHANGE_STYLE[kind])
    text.append(f"({human_bytes(sum(c.bytes for c in changes))}): ")
    big = sorted(changes, key=lambda c: (-c.bytes, c.package.name))
    for i, c in enumerate(big[:DETAIL_CHANGES]):
        text.append(", " if i else "")
        text.append(change_text(c), style=CHANGE_STYLE[c.kind])
    if len(big) > DETAIL_CHANGES:
        text.append(f", … {len(big) - DETAIL_CHANGES} more (p lists every package)", style="dim")
    return text


def change_text(c: PackageChange) -> str:
    p = c.package
    version = f"{c.previous_version} -> {p.version}" if c.kind == "upgraded" else p.version
    note = " still stored" if c.kind == "removed" else ""
    return f"{_SIGN[c.kind]} {p.label} {version} {human_bytes(c.bytes)}{note}"


@dataclass(frozen=True, slots=True)
class PackageTarget:
    """What enter on a package shows: the tree at `layer`, filtered by `pattern`."""

    name: str
    layer: int
    pattern: str


def files_pattern(paths: tuple[str, ...]) -> str:
    """A regex matching exactly these paths (clean, as `/`-led full paths), as a trie of path
    components: compact, and quick to match over every path of the tree."""
    trie = _Trie()
    for path in paths:
        node = trie
        for part in path.split("/"):
            node = node.setdefault(part, _Trie())
    return "^/" + _alternatives(trie) + "$"


class _Trie(dict[str, "_Trie"]):
    """Path components, each to the components below it."""


def _alternatives(node: _Trie) -> str:
    items = []
    for name in sorted(node):
        child = node[name]
        items.append(re.escape(name) + ("/" + _alternatives(child) if child else ""))
    return items[0] if len(items) == 1 else "(?:" + "|".join(items) + ")"


def target(u: PackageUsage) -> PackageTarget | None:
    if not u.files:
        return None
    return PackageTarget(u.package.label, u.installed_in, files_pattern(u.files))


def _reach_cell(report: PackageReport, u: PackageUsage) -> Text:
    if not u.present:
        return Text("")
    reached = report.reached(u)
    if reached is None:
        return Text("?", style="dim")
    return Text("reached", style="green") if reached else Text("not reached", style="yellow")


def title(report: PackageReport) -> Text:
    from ..packages.reach import LABEL  # noqa: PLC0415

    a = report.attribution
    present = sum(1 for u in a.usages if u.present)
    text = Text.assemble(
        ("Packages ", "bold"),
        f"{present} in the final image: {human_bytes(a.owned_bytes)} owned, "
        f"{human_bytes(a.unowned_bytes)} unowned, of {human_bytes(a.total_bytes)} file bytes",
    )
    if report.reach is not None:
        text.append(
            f"\nnot reached from the entrypoint: {len(report.unreached)} packages, "
            f"{human_bytes(report.unreached_bytes)} ({LABEL})",
            style="yellow",
        )
    for notice in a.notices:
        text.append(f"\nnote: {notice}", style="dim")
    return text


def describe(report: PackageReport, u: PackageUsage) -> Text:
    p = u.package
    where = f"installed in layer {u.installed_in}"
    if u.touched_in:
        where += ", touched in " + ", ".join(str(n) for n in u.touched_in)
    if u.removed_in is not None:
        where += f", removed in layer {u.removed_in} (its bytes are still stored)"
    sizes = report.attribution.file_sizes
    largest = max(u.files, key=lambda f: sizes.get(f, 0), default="")
    rows = [
        ("Package", f"{p.label} {p.version}  [{p.ecosystem}]  /{p.database}"),
        ("Layers", where),
        (
            "Bytes",
            f"{human_bytes(u.final_bytes)} in the final image, {human_bytes(u.stored_bytes)} "
            f"stored across the layers, {len(u.files):,} files"
            + (f", largest /{largest}" if largest and u.present else ""),
        ),
    ]
    if p.installer:
        rows.append(("Installer", p.installer))
    if p.requires:
        rows.append(("Requires", ", ".join(p.requires)))
    text = Text()
    for label, value in rows:
        text.append(f"{label:>9} ", style="bold")
        text.append(value + "\n")
    text.rstrip()
    return text


class PackagesScreen(ModalScreen[PackageTarget | None]):
    """Every package, largest in the final image first (removed ones last, by stored bytes);
    enter closes the view and filters the tree to the package's files."""

    BINDINGS = [Binding("escape,q,p", "dismiss", "Close")]
    DEFAULT_CSS = """
    #packages-table { height: 1fr; }
    #package-detail { height: auto; max-height: 7; }
    """

    def __init__(self, data: PackageData) -> None:
        super().__init__()
        self.data = data
        self.usages: tuple[PackageUsage, ...] = ()
        self._closed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text("Packages: reading the package databases …"), id="packages-title")
            yield DataTable(cursor_type="row", id="packages-table")
            yield Static(id="package-detail")
            yield Label(
                "enter filters the tree to the package's files at the layer that installed it "
                "(esc there clears the filter), esc closes",
                classes="hint",
            )

    def on_mount(self) -> None:
        self.set_focus(self.query_one(DataTable))
        self.data.need(self._fill)

    def on_unmount(self) -> None:
        self._closed = True

    def _fill(self) -> None:
        if self._closed:  # closed before the analysis ended
            return
        report = self.data.report
        heading = self.query_one("#packages-title", Label)
        if report is None:
            heading.update(Text(f"Packages: {self.data.error}", style="red"))
            return
        heading.update(title(report))
        table: DataTable[Text] = self.query_one(DataTable)
        table.add_columns(
            "Package", "Version", "Database", "Layer", "Final", "Stored", "Entrypoint (guess)"
        )
        self.usages = report.attribution.usages
        for u in self.usages:
            p = u.package
            layer = str(u.installed_in)
            if u.removed_in is not None:
                layer += f", rm {u.removed_in}"
            table.add_row(
                Text(p.label, style="" if u.present else "red"),
                Text(p.version),
                Text(p.ecosystem.value),
                Text(layer),
                Text(f"{human_bytes(u.final_bytes):>8}" if u.present else "removed"),
                Text(f"{human_bytes(u.stored_bytes):>8}"),
                _reach_cell(report, u),
            )
        if not self.usages:
            table.add_row(*(Text("") for _ in range(6)), Text("no package database found"))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        report = self.data.report
        if report is not None and event.cursor_row < len(self.usages):
            self.query_one("#package-detail", Static).update(
                describe(report, self.usages[event.cursor_row])
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.cursor_row < len(self.usages):
            chosen = target(self.usages[event.cursor_row])
            if chosen is None:
                self.notify("this package has no regular files", timeout=3)
                return
            self.dismiss(chosen)
