"""The layer list and the selected layer's details."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from ..analysis import Analysis
from ..model import Layer
from ..units import human_bytes
from .fmt import command_text


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
            command = command_text(layer.history.created_by, whole=False).replace("\n", " ↵ ")
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


_MODE = {True: "changes since layer 0", False: "this layer's changes"}


def layer_details(
    layer: Layer, aggregated: bool, story: str = "", packages: Text | None = None
) -> Text:
    """Everything about one layer: first its whole command, build arguments included, and
    its story (what it did, from the findings), its package changes, then digests and sizes."""
    h = layer.history
    text = Text()
    text.append("Layer ", style="bold")
    text.append(f"{layer.index}, {_MODE[aggregated]}\n")
    text.append(command_text(h.created_by) if h.created_by else "(no command recorded)")
    text.append("\n")
    rows: list[tuple[str, str | Text]] = [
        ("Digest", layer.blob_digest),
        ("DiffID", layer.diff_id),
        ("Size", f"{human_bytes(layer.size)} ({layer.size:,} bytes in files)"),
        ("Stored", f"{human_bytes(layer.compressed_size)} as {layer.media_type}"),
        ("Created", h.created or "unknown"),
    ]
    if h.comment:
        rows.append(("Comment", h.comment))
    if packages is not None:
        rows.insert(0, ("Pkgs", packages))  # the layer's package changes, after the story
    if story:
        rows.insert(0, ("Story", story))  # what the layer did, before its digests
    for label, value in rows:
        text.append(f"\n{label:>7} ", style="bold")
        text.append(value)
    return text


class LayerDetails(VerticalScroll, can_focus=True):
    """Digest, diff_id, sizes, media type, created and the whole command of one layer, wrapped;
    focus it (tab) to scroll a long command, `z` to give it the screen."""

    ALLOW_MAXIMIZE = True
    BINDINGS = [
        Binding("k", "scroll_up", "Up", show=False),
        Binding("j", "scroll_down", "Down", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="layer-details-text")

    def update(self, text: Text) -> None:
        self.query_one("#layer-details-text", Static).update(text)
        self.scroll_home(animate=False)

    @property
    def text(self) -> str:
        """What the pane shows, as plain text."""
        content = self.query_one("#layer-details-text", Static).content
        return content.plain if isinstance(content, Text) else str(content)
