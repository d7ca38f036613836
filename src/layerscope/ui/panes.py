"""The left column: the layer list, the selected layer's details and the image's details."""

from __future__ import annotations

import math

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from ..analysis import Analysis, WastedFile
from ..model import Layer, readable_command
from ..units import human_bytes


def _percent(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:.1f} %"


class LayerList(DataTable[Text]):
    """One row per layer: index, size, command; the highlighted row is the shown layer."""

    BINDINGS = [
        Binding("k", "cursor_up", "Up", show=False, id="up"),
        Binding("j", "cursor_down", "Down", show=False, id="down"),
        Binding("u", "page_up", "Page up", show=False, id="page-up"),
        Binding("d", "page_down", "Page down", show=False, id="page-down"),
        Binding("ctrl+l", "compare(0)", "Layer changes", id="compare-layer"),
        Binding("ctrl+a", "compare(1)", "Aggregated", id="compare-all"),
    ]

    class CompareMode(Message):
        def __init__(self, aggregated: bool) -> None:
            super().__init__()
            self.aggregated = aggregated

    def __init__(
        self, analysis: Analysis, recoverable: tuple[int, ...] = (), **kwargs: object
    ) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.analysis = analysis
        self.recoverable = recoverable
        """Per layer, the bytes the findings' fixes recover from it."""

    def on_mount(self) -> None:
        self.add_column("Idx", key="idx")
        self.add_column("Size", key="size")
        self.add_column("Waste", key="waste")
        self.add_column("Command", key="command")
        for layer in self.analysis.image.layers:
            command = readable_command(layer.history.created_by).replace("\n", " ↵ ")
            back = self.recoverable[layer.index] if layer.index < len(self.recoverable) else 0
            # Text cells: a command is data, never markup or :emoji: codes ("app:x:1000").
            self.add_row(
                Text(str(layer.index)),
                Text(f"{human_bytes(layer.size):>8}"),
                Text(f"{human_bytes(back):>8}" if back else "", style="yellow"),
                Text(command or "(no history)"),
            )

    def action_compare(self, aggregated: int) -> None:
        self.post_message(self.CompareMode(bool(aggregated)))


_MODE = {True: "aggregated changes since layer 0", False: "this layer's changes"}


def layer_details(layer: Layer, aggregated: bool, story: str = "") -> Text:
    h = layer.history
    text = Text()
    rows = [
        (
            "Layer",
            f"{layer.index}   (showing {_MODE[aggregated]})",
        ),
        ("Digest", layer.blob_digest),
        ("DiffID", layer.diff_id),
        ("Size", f"{human_bytes(layer.size)} ({layer.size:,} bytes in files)"),
        ("Stored", f"{human_bytes(layer.compressed_size)} as {layer.media_type}"),
        ("Created", h.created or "unknown"),
    ]
    if h.comment:
        rows.append(("Comment", h.comment))
    if story:
        rows.insert(1, ("Story", story))  # first: what the layer did, before its digests
    for label, value in rows:
        text.append(f"{label:>7} ", style="bold")
        text.append(value + "\n")
    text.append(" Command ", style="bold")
    text.append(h.created_by or "(none recorded)")
    return text


class LayerDetails(Static):
    """Digest, diff_id, sizes, media type, created and the full command of one layer."""


def image_summary(analysis: Analysis) -> Text:
    image, d, w = analysis.image, analysis.dive, analysis.waste
    text = Text()
    deleted = w.deleted_bytes + w.directory_deleted_bytes
    rows = [
        ("Image", f"{image.name}  ({image.format}, {image.platform or 'unknown platform'})"),
        (
            "Size",
            f"{human_bytes(image.size)} in files, {human_bytes(image.compressed_size)} stored",
        ),
        (
            "dive",
            f"efficiency score {int(100 * d.efficiency)} %, potential wasted space "
            f"{human_bytes(d.wasted_bytes)}, "
            f"user wasted {_percent(d.reported_user_wasted_percent)}",
        ),
        (
            "Waste",
            f"{human_bytes(w.reclaimable_bytes)} stored but never shipped "
            f"(efficiency {_percent(w.efficiency)}): overwritten "
            f"{human_bytes(w.overwritten_bytes)} ({human_bytes(w.identical_rewrite_bytes)} "
            f"rewritten unchanged), deleted {human_bytes(deleted)}, opaque-hidden "
            f"{human_bytes(w.opaque_hidden_bytes)}, replaced {human_bytes(w.replaced_bytes)}",
        ),
        ("Base", f"{w.base.layers} layer(s), {w.base.source}" + _named(w.base.name)),
    ]
    for label, value in rows:
        text.append(f"{label:>5} ", style="bold")
        text.append(value + "\n")
    text.rstrip()
    return text


def _named(name: str) -> str:
    return f", {name}" if name else ""


class WasteList(DataTable[Text]):
    """Inefficient files, largest reclaimable first; choosing one shows it in the file tree."""

    BINDINGS = [
        Binding("k", "cursor_up", "Up", show=False, id="up"),
        Binding("j", "cursor_down", "Down", show=False, id="down"),
    ]

    class Chosen(Message):
        def __init__(self, wasted: WastedFile) -> None:
            super().__init__()
            self.wasted = wasted

    def __init__(self, analysis: Analysis, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.wasted_files = analysis.waste.files

    def on_mount(self) -> None:
        self.add_columns("Copies", "Wasted", "Why", "Path")
        for f in self.wasted_files:
            self.add_row(
                Text(str(f.copies)),
                Text(f"{human_bytes(f.reclaimable_bytes):>8}"),
                Text(", ".join(f.causes)),
                Text(f.path),
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Chosen(self.wasted_files[event.cursor_row]))


class ImageDetails(Vertical):
    def __init__(self, analysis: Analysis, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.analysis = analysis

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(image_summary(self.analysis), id="image-summary")
        yield WasteList(self.analysis, id="waste-list")
