"""The explorer over a comparison: A's final filesystem as layer 0, what B changes as layer 1.

The explorer's panes then show the merged tree coloured by A-vs-B change with no new widget:
layer 1's own changes are exactly the paths B adds (green), removes (red) or changes (yellow).
Contents are not viewable here (each path's bytes live in one of two images); open A or B alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from rich.text import Text
from textual.widgets import Static

from ..analysis import analyse
from ..errors import ContentError
from ..filetree import Change, same_file
from ..layer import WHITEOUT_PREFIX
from ..model import BlobRef, Entry, EntryKind, HistoryEntry, Image, Layer
from ..oci import ImageConfig
from ..session import OpenedImage
from ..sources.spec import ImageSpec
from ..uiconfig import UIConfig
from .app import LayerscopeApp
from .panes import LayerList


def _no_content() -> Iterator[bytes]:
    raise ContentError("a comparison shows no file contents: open A or B on its own to view it")


def _whiteout(path: str) -> Entry:
    parent, _, name = path.rpartition("/")
    wh = f"{parent}/{WHITEOUT_PREFIX}{name}" if parent else WHITEOUT_PREFIX + name
    return Entry(wh, EntryKind.FILE, 48, 0, 0o644, 0, 0, 0)


def _changes(a: OpenedImage, b: OpenedImage) -> tuple[Entry, ...]:
    live_a, live_b, tree_b = a.analysis.tree.live, b.analysis.tree.live, b.analysis.tree
    removed = {
        p
        for p, e in live_a.items()
        if p not in live_b and not (e.kind is EntryKind.DIR and tree_b.exists(p))
    }
    out = [_whiteout(p) for p in sorted(removed) if p.rpartition("/")[0] not in removed]
    for path in sorted(live_b):
        old, new = live_a.get(path), live_b[path]
        if old is None or not same_file(old, new):
            out.append(new)
    return tuple(out)


def _layer(index: int, label: str, entries: tuple[Entry, ...]) -> Layer:
    size = sum(e.size for e in entries if e.kind is EntryKind.FILE)
    return Layer(index, "", "", "", 0, size, "", HistoryEntry(created_by=label), entries)


def merged_image(a: OpenedImage, b: OpenedImage) -> Image:
    name_a, name_b = a.image.name, b.image.name
    base = tuple(a.analysis.tree.live[p] for p in sorted(a.analysis.tree.live))
    layers = (
        _layer(0, f"A: {name_a} (its final filesystem)", base),
        _layer(1, f"B: {name_b} (what differs from A)", _changes(a, b)),
    )
    return Image(
        source=f"{a.image.source} -> {b.image.source}",
        format="comparison",
        name=f"{name_a} -> {name_b}",
        config_digest="",
        platform=b.image.platform,
        layers=layers,
        history=tuple(layer.history for layer in layers),
    )


def merged_opened(a: OpenedImage, b: OpenedImage) -> OpenedImage:
    """An opened image the explorer can show; its layer 1 is B's difference from A."""
    image = merged_image(a, b)
    blobs = tuple(
        BlobRef(f"comparison layer {i}", "", None, None, None, None, _no_content) for i in (0, 1)
    )
    config = ImageConfig(("", ""), image.history, image.platform, "")
    spec = ImageSpec(image.source, image.format, image.name, "", config, blobs)
    opened = OpenedImage(spec, analyse(image))
    opened.index  # noqa: B018  (built before the first frame)
    return opened


class DiffApp(LayerscopeApp):
    """The explorer over `merged_opened(a, b)`, opened at layer 1 (what B changes from A) with
    unchanged paths hidden, and the comparison's summary where the image's figures would be."""

    TITLE = "layerscope diff"

    def __init__(
        self, loaded: OpenedImage, summary: str, ui_config: UIConfig | None = None
    ) -> None:
        config = ui_config or UIConfig()
        config = replace(config, hidden=config.hidden | {Change.UNMODIFIED})
        super().__init__(loaded=loaded, ui_config=config, what=loaded.image.name)
        self.summary = summary

    def on_mount(self) -> None:
        super().on_mount()
        self.call_after_refresh(self._select_b)

    def _select_b(self) -> None:
        layers = self.screen.query(LayerList)
        if layers:
            layers.first().move_cursor(row=1)
        # The figures of the synthetic two-layer stack mean nothing; the comparison's do.
        for widget in self.screen.query("#image-summary").results(Static):
            widget.update(Text(self.summary))
