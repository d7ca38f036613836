"""Image details: dive's figures, the waste model, and the waste by directory and by file."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from ..analysis import Analysis
from ..report import layers_text
from ..units import human_bytes
from ..wastedirs import waste_by_directory
from .fmt import shorten_middle


def _percent(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:.1f} %"


def _sizes(analysis: Analysis) -> str:
    image = analysis.image
    return f"{human_bytes(image.size)} in files, {human_bytes(image.compressed_size)} stored"


def image_summary(analysis: Analysis) -> Text:
    image, d, w = analysis.image, analysis.dive, analysis.waste
    base_layers = "1 layer" if w.base.layers == 1 else f"{w.base.layers} layers"
    rows = [
        ("Image", image.name),
        ("", f"{image.format}, {image.platform or 'unknown platform'}"),
        ("Size", _sizes(analysis)),
        (
            "dive",
            f"efficiency {int(100 * d.efficiency)} %, wasted {human_bytes(d.wasted_bytes)}, "
            f"user wasted {_percent(d.reported_user_wasted_percent)}",
        ),
        (
            "Waste",
            f"{human_bytes(w.reclaimable_bytes)} stored but never shipped "
            f"(efficiency {_percent(w.efficiency)})",
        ),
        (
            "",
            f"overwritten {human_bytes(w.overwritten_bytes)} "
            f"({human_bytes(w.identical_rewrite_bytes)} rewritten unchanged), "
            f"deleted {human_bytes(w.deleted_bytes)}, with their directory "
            f"{human_bytes(w.directory_deleted_bytes)}, opaque-hidden "
            f"{human_bytes(w.opaque_hidden_bytes)}, replaced {human_bytes(w.replaced_bytes)}",
        ),
        ("Base", f"{base_layers}, {w.base.source}" + (f", {w.base.name}" if w.base.name else "")),
    ]
    text = Text()
    for label, value in rows:
        text.append(f"{label:>5} ", style="bold")
        text.append(value + "\n")
    text.rstrip()
    return text


class ImageSummary(VerticalScroll, can_focus=True):
    """The figures; focus it (tab) to scroll them where the pane is short."""

    ALLOW_MAXIMIZE = True  # `z` gives the screen to the image details around it
    BINDINGS = [
        Binding("k", "scroll_up", "Up", show=False),
        Binding("j", "scroll_down", "Down", show=False),
    ]

    def __init__(self, analysis: Analysis, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.analysis = analysis

    def compose(self) -> ComposeResult:
        yield Static(image_summary(self.analysis), id="image-summary-text")

    def update(self, text: Text) -> None:
        """Other figures in place of the image's (a comparison shows its own)."""
        self.query_one("#image-summary-text", Static).update(text)


_WHY = 40
"""Cells kept for the causes and layers where the pane is wide enough to show them too."""


class WasteList(DataTable[Text]):
    """Waste by directory (bold, ending in `/`), then file by file, largest first; choosing a
    row shows that path in the file tree. Paths are cut in the middle to fit."""

    BINDINGS = [
        Binding("k", "cursor_up", "Up", show=False, id="up"),
        Binding("j", "cursor_down", "Down", show=False, id="down"),
    ]

    class Chosen(Message):
        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    def __init__(self, analysis: Analysis, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        dirs = waste_by_directory(analysis.waste.files)
        self.entries: list[tuple[str, int, str, str, bool]] = [
            (d.path, d.reclaimable_bytes, ", ".join(d.causes), layers_text(d.layers), True)
            for d in dirs
        ]
        self.entries += [
            (f.path, f.reclaimable_bytes, ", ".join(f.causes), layers_text(f.layers), False)
            for f in analysis.waste.files
        ]
        self._path_width = 0

    def on_mount(self) -> None:
        self.add_columns("Wasted", "Path", "Why", "Layers")

    def on_resize(self) -> None:
        self._fill()  # the first layout too: the rows are cut to the width they get

    def _fill(self) -> None:
        # The path comes right after the size and gets the width that is left: cut in the
        # middle, so six files under one cache directory still read apart.
        width = self.size.width - 13
        width = max(12, width - _WHY if width - _WHY >= 48 else width)
        if width == self._path_width and self.row_count:
            return
        self._path_width = width
        cursor = self.cursor_row
        self.clear()
        for path, size, why, layers, is_dir in self.entries:
            self.add_row(
                Text(f"{human_bytes(size):>8}"),
                Text(shorten_middle(path, width), style="bold" if is_dir else ""),
                Text(why),
                Text(layers),
            )
        if self.row_count:
            self.move_cursor(row=min(cursor, self.row_count - 1))

    def path_at(self, row: int) -> str:
        return self.entries[row][0]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Chosen(self.path_at(event.cursor_row)))

    def status(self) -> Text:
        """The highlighted row whole: its full path, causes and layers."""
        if not self.entries:
            return Text("no waste", style="dim")
        path, _, why, layers, _ = self.entries[min(self.cursor_row, len(self.entries) - 1)]
        return Text.assemble(path, (f"  {why}; {layers}", "dim"))


class ImageDetails(Vertical):
    """The image's figures above its waste list; `z` gives it the whole screen."""

    ALLOW_MAXIMIZE = True

    def __init__(self, analysis: Analysis, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.analysis = analysis

    def compose(self) -> ComposeResult:
        yield ImageSummary(self.analysis, id="image-summary")
        yield WasteList(self.analysis, id="waste-list")
        yield Static(id="waste-status")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.query_one("#waste-status", Static).update(self.query_one(WasteList).status())
