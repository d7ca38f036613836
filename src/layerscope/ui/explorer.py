"""The explorer screen: layers, details and the file tree, and the keys that move between them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import get_current_worker

from ..analysis import Analysis
from ..errors import LayerscopeError
from ..extract import extract
from ..filetree import Change
from ..findings.advice import Advice, advise
from ..findings.engine import FindingOptions
from ..findings.secure import secure
from ..loader import ProgressFn
from ..session import OpenedImage
from ..treeindex import Match
from ..treeview import TreeView, ViewOptions
from ..uiconfig import UIConfig
from .findings_view import FindingsScreen, Target
from .fmt import CHANGE_STYLE
from .panes import ImageDetails, LayerDetails, LayerList, WasteList, layer_details
from .screens import HistoryScreen, PromptScreen, ViewerScreen
from .treepane import FileTreePane

Loader = Callable[[ProgressFn], OpenedImage]
"""Reads the image (in a worker thread) and builds its tree index before the first frame."""


class ExplorerScreen(Screen[None]):
    BINDINGS = [
        # Priority: checked before the key reaches the focused widget. A key that bubbled up
        # instead would race the keys typed right after it ("/hello" would send "hello" to
        # the tree before the filter took the focus).
        Binding("tab", "cycle(1)", "Switch pane", id="toggle-view", priority=True),
        Binding("shift+tab", "cycle(-1)", "Back", show=False, priority=True),
        Binding(
            "ctrl+f,ctrl+underscore,slash", "filter", "Filter", id="filter-files", priority=True
        ),
        Binding(
            "escape",
            "close_filter",
            "Close filter",
            show=False,
            id="close-filter-files",
            priority=True,
        ),
        Binding("ctrl+g,colon", "jump", "Go to path", id="jump-to-path", priority=True),
        Binding("f", "findings", "Findings", id="findings"),
    ]

    def __init__(
        self, loaded: OpenedImage, ui_config: UIConfig, advice: Advice | None = None
    ) -> None:
        super().__init__()
        self.loaded = loaded
        self.advice = advice if advice is not None else advise(loaded)
        self.ui_config = ui_config
        self._filtering = False
        options = ViewOptions(layer=0, aggregated=ui_config.aggregated, hidden=ui_config.hidden)
        self.tree_view = TreeView(loaded.index, options)
        if ui_config.collapse_dirs:
            self.tree_view.set_all_collapsed(True)

    @property
    def analysis(self) -> Analysis:
        return self.loaded.analysis

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                layers = LayerList(self.analysis, self.advice.layer_recoverable, id="layers")
                layers.border_title = "Layers"
                yield layers
                details = LayerDetails(id="layer-details")
                details.border_title = "Layer details"
                yield details
                image = ImageDetails(self.analysis, id="image-details")
                image.border_title = "Image details"
                yield image
            with Vertical(id="right"):
                yield Static(id="tree-header")
                # Always there (one line): focusing a hidden input would lose the keys typed
                # right after "/" while it appears.
                yield Input(
                    placeholder="/ or ctrl+f: filter, a regex on the full path", id="filter"
                )
                pane = FileTreePane(self.tree_view, self.ui_config.show_attributes, id="file-tree")
                pane.border_title = "Current layer contents"
                yield pane
        yield Footer()

    def on_mount(self) -> None:
        self.set_focus(self.query_one(LayerList))
        self._show_layer(0)

    def action_cycle(self, step: int) -> None:
        """dive's tab toggles layers and file tree; the waste list is the third stop."""
        panes = [self.query_one(LayerList), self.query_one(FileTreePane), self.query_one(WasteList)]
        now = next((i for i, p in enumerate(panes) if p.has_focus), -1)
        # set_focus now, not focus() (deferred): keys typed right after tab reach the new pane.
        self.set_focus(panes[(now + step) % len(panes)])

    # -- layers -------------------------------------------------------------------------------
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if isinstance(event.data_table, LayerList):
            self._show_layer(event.cursor_row)

    def on_layer_list_compare_mode(self, event: LayerList.CompareMode) -> None:
        self.tree_view.options.aggregated = event.aggregated
        self._show_layer(self.tree_view.options.layer)

    def _show_layer(self, layer: int) -> None:
        pane = self.query_one(FileTreePane)
        pane.update_view(lambda v: v.set_layer(layer))
        image_layer = self.analysis.image.layers[self.tree_view.options.layer]
        story = self.advice.stories[image_layer.index]
        self.query_one(LayerDetails).update(
            layer_details(image_layer, self.tree_view.options.aggregated, story)
        )
        pane.border_title = (
            "Aggregated layer contents"
            if self.tree_view.options.aggregated
            else "Current layer contents"
        )

    # -- tree header --------------------------------------------------------------------------
    def on_file_tree_pane_changed(self, _: FileTreePane.Changed) -> None:
        self._header()

    def _header(self) -> None:
        v = self.tree_view
        counts = v.counts()
        text = Text(no_wrap=True, overflow="ellipsis")
        for change in (Change.ADDED, Change.REMOVED, Change.MODIFIED, Change.UNMODIFIED):
            hidden = change in v.options.hidden
            style = CHANGE_STYLE[change] + Style(strike=hidden, dim=hidden)
            text.append(f"■ {change.value} {counts[change]:,}", style=style)
            text.append("  ")
        text.append("│ sort: ", style="dim")
        text.append("size ↓" if v.options.sort_by_size else "name", style="bold")
        if self._filtering:
            text.append("  │ filtering…", style="cyan")
        elif v.options.pattern is not None:
            text.append(f"  │ {v.match_count:,} match", style="cyan bold")
        self.query_one("#tree-header", Static).update(text)
        pane = self.query_one(FileTreePane)
        row = pane.current()
        where = f"{pane.cursor + 1:,}/{len(v):,}"
        pane.border_subtitle = f"{row.path}  {row.change.value}  {where}" if row else "empty"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the filter is being typed, "/" and ":" are characters of the regex.
        return not (action in ("filter", "jump") and self._typing_filter())

    def _typing_filter(self) -> bool:
        return bool(self.is_mounted and self.query_one("#filter", Input).has_focus)

    # -- filter -------------------------------------------------------------------------------
    def action_filter(self) -> None:
        self.set_focus(self.query_one("#filter", Input))

    def action_close_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value or box.has_focus:
            box.value = ""
            self.set_focus(self.query_one(FileTreePane))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return
        text = event.value
        try:
            pattern = re.compile(text) if text else None
        except re.error:
            event.input.add_class("-invalid")
            return  # as dive: an invalid regex is ignored while it is being typed
        event.input.remove_class("-invalid")
        if pattern is None:
            self._filtering = False
            self.query_one(FileTreePane).update_view(lambda v: v.set_pattern(None), to_top=True)
            return
        self._filtering = True
        self._header()
        self.match_paths(pattern)

    @work(thread=True, exclusive=True, group="filter")
    def match_paths(self, pattern: re.Pattern[str]) -> None:
        """Match off the UI thread: typing never waits for a broad pattern over many paths."""
        match = self.loaded.index.match(pattern)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._apply_match, pattern, match)

    def _apply_match(self, pattern: re.Pattern[str], match: Match) -> None:
        box = self.query_one("#filter", Input)
        if box.value != pattern.pattern:
            return  # the user typed on; a newer match is coming
        self._filtering = False
        self.query_one(FileTreePane).update_view(
            lambda v: v.set_pattern(pattern, match), to_top=True
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.set_focus(self.query_one(FileTreePane))

    # -- jumping and choosing -----------------------------------------------------------------
    def show_path(self, path: str) -> bool:
        node = self.loaded.index.find(path)
        if node is None:
            return False
        pane = self.query_one(FileTreePane)
        if self.tree_view.position(node) is None:
            self.tree_view.expand_to(node)
        versions = self.loaded.index.versions(node)
        if self.tree_view.position(node) is None and versions:
            # Not at this layer: the last layer that wrote or deleted it (the layer list's own
            # highlight event follows later and finds the view already there).
            self._show_layer(versions[-1][0])
            self.query_one(LayerList).move_cursor(row=versions[-1][0])
        pane.select(node)
        self.set_focus(pane)
        return True

    def action_jump(self) -> None:
        def check(text: str) -> str | None:
            return None if self.loaded.index.find(text) is not None else f"{text}: no such path"

        def done(text: str | None) -> None:
            if text:
                self.show_path(text)

        self.app.push_screen(PromptScreen("Go to path", "/", check), done)

    def action_findings(self) -> None:
        def done(chosen: Target | None) -> None:
            if chosen is not None:
                self.show_at(*chosen)

        self.app.push_screen(FindingsScreen(self.advice, self.scan_secrets), done)

    def scan_secrets(self) -> None:
        """Scan every layer's file contents for secrets (on demand: it reads every layer)."""
        self.notify("Scanning file contents for secrets …", timeout=3)
        self._scan()

    @work(thread=True, exclusive=True, group="scan")
    def _scan(self) -> None:
        try:
            redacted, _ = secure(self.loaded, contents=True)
            advice = advise(self.loaded, FindingOptions(security_contents=True))
        except LayerscopeError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._scanned, redacted, advice)

    def _scanned(self, redacted: Analysis, advice: Advice) -> None:
        # Secrets found in contents are now redacted wherever the analysis is shown.
        self.loaded.analysis = redacted
        self.advice = advice
        self.action_findings()

    def show_at(self, path: str, layer: int) -> None:
        """Show `path` in the tree at `layer` (where a finding's bytes are stored)."""
        if self.loaded.index.find(path) is None:
            return
        self._show_layer(layer)
        self.query_one(LayerList).move_cursor(row=layer)
        self.show_path(path)

    def on_waste_list_chosen(self, event: WasteList.Chosen) -> None:
        self.show_path(event.wasted.path)

    def on_file_tree_pane_requested(self, event: FileTreePane.Requested) -> None:
        row, layer = event.row, self.tree_view.options.layer
        path = row.path.lstrip("/")
        if event.what == "history":
            self.app.push_screen(HistoryScreen(self.analysis.image, self.loaded.index, row.node))
        elif event.what == "view":
            self.app.push_screen(ViewerScreen(self.loaded.blobs, self.analysis.tree, path, layer))
        elif event.what == "extract":
            self._extract(path, layer)

    def _extract(self, path: str, layer: int) -> None:
        def done(dest: str | None) -> None:
            if dest:
                self.run_extract(path, layer, Path(dest).expanduser())

        title = f"Extract /{path} (as at layer {layer}) into directory:"
        self.app.push_screen(PromptScreen(title, str(Path.cwd())), done)

    @work(thread=True, exclusive=True, group="extract")
    def run_extract(self, path: str, layer: int, dest: Path) -> None:
        try:
            result = extract(self.loaded.blobs, self.analysis.tree, path, layer, dest)
        except LayerscopeError as exc:
            self.app.call_from_thread(
                self.notify, str(exc), title="Extract failed", severity="error", markup=False
            )
            return
        message = (
            f"{result.target}: {result.files} files, "
            f"{result.directories} dirs, {result.links} links"
        )
        if result.skipped:
            message += f"; skipped {len(result.skipped)} devices/fifos"
        self.app.call_from_thread(self.notify, message, title="Extracted", markup=False)
