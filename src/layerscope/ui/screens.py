"""Screens over the explorer: loading, help, a file's history, its content, and prompts."""

from __future__ import annotations

from collections.abc import Callable

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Label, ProgressBar, Static

from ..content import read_file
from ..errors import LayerscopeError
from ..filetree import Change, FileTree
from ..loader import Progress
from ..model import BlobRef, Image
from ..treeindex import TreeIndex
from ..uiconfig import CONFIG_PLACES
from ..units import human_bytes
from .fmt import CHANGE_STYLE, command_text, mode_string, owner

_SYNTAX_LIMIT = 256 * 1024


class LoadingScreen(Screen[None]):
    """Real progress while the layers are read: layers, bytes and files so far."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="loading"):
            yield Label(Text(f"Reading {self.what}"), id="loading-title")
            yield ProgressBar(total=None, show_eta=False, id="loading-bar")
            yield Label("opening…", id="loading-status")

    def show(self, p: Progress) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=p.layers_total, progress=p.layers_done)
        self.query_one("#loading-status", Label).update(
            f"layers {p.layers_done}/{p.layers_total}, {human_bytes(p.bytes_read)} read, "
            f"{p.entries:,} files"
        )

    def indexing(self) -> None:
        self.query_one("#loading-status", Label).update("indexing the file tree…")


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.help_rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(f"Keys  (change them in {CONFIG_PLACES})"), id="help-title")
            table: DataTable[Text] = DataTable(cursor_type="row", id="help-table")
            yield table
            yield Label("esc closes", classes="hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Where", "Action", "Keys")
        for where, action, keys in self.help_rows:
            table.add_row(Text(where), Text(action), Text(keys))
        self.set_focus(table)


class HistoryScreen(ModalScreen[int | None]):
    """Every layer that added, changed or deleted a path, with sizes and the command; choosing a
    row returns its layer (the explorer goes there, with the cursor on the path)."""

    BINDINGS = [Binding("escape,q,i", "close", "Close")]

    def __init__(self, image: Image, index: TreeIndex, node: int) -> None:
        super().__init__()
        self.image = image
        self.index = index
        self.node_index = node

    def compose(self) -> ComposeResult:
        path = "/" + self.index.paths[self.node_index]
        with Vertical(id="dialog"):
            yield Label(Text.assemble(("History of ", "bold"), path), id="history-title")
            yield DataTable(cursor_type="row", id="history-table")
            yield Label("enter goes to that layer, esc closes", classes="hint")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        table.add_columns("Layer", "Change", "Size", "Mode", "Owner", "Command")
        versions = self.index.versions(self.node_index)
        self.version_layers = [layer for layer, _, _ in versions]
        if not versions:
            table.add_row(*map(Text, ("", "implicit", "", "", "", "a directory no layer wrote")))
        for layer, change, entry in versions:
            cmd = command_text(self.image.layers[layer].history.created_by, whole=False)
            label = "deleted" if change is Change.REMOVED else change.value
            if change is Change.UNMODIFIED:
                label = "rewritten, same"
            table.add_row(
                Text(str(layer)),
                Text(label, style=CHANGE_STYLE[change]),
                Text(human_bytes(entry.size) if entry else ""),
                Text(mode_string(entry, False) if entry else ""),
                Text(owner(entry)),
                Text(cmd.replace("\n", " ↵ ")),
            )
        self.set_focus(table)
        if self.version_layers:
            table.move_cursor(row=len(self.version_layers) - 1)  # the latest change first in view

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.cursor_row < len(self.version_layers):
            self.dismiss(self.version_layers[event.cursor_row])

    def action_close(self) -> None:
        self.dismiss(None)


def hexdump(data: bytes) -> str:
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        hexpart = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:08x}  {hexpart:<47}  {text}")
    return "\n".join(lines)


def is_binary(data: bytes) -> bool:
    if b"\0" in data[:8192]:
        return True
    try:
        data[:8192].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(data[:8192]) - 4  # a cut multi-byte character at the end is fine
    return False


class ViewerScreen(ModalScreen[None]):
    """A file's content at the selected layer: highlighted text, or hex for binary data."""

    BINDINGS = [Binding("escape,q,v", "dismiss", "Close")]

    def __init__(
        self, blobs: tuple[BlobRef, ...], file_tree: FileTree, path: str, layer: int, note: str = ""
    ) -> None:
        super().__init__()
        self.note = note
        self.blobs = blobs
        self.file_tree = file_tree
        self.file_path = path
        self.layer_index = layer
        self.body_text = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            title = f"/{self.file_path} at layer {self.layer_index}{self.note}"
            yield Label(Text(title), id="viewer-title")
            with VerticalScroll(id="viewer-body"):
                yield Static("reading…", id="viewer-content")
            yield Label("esc closes", classes="hint", id="viewer-status")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#viewer-body"))
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        try:
            data, size = read_file(self.blobs, self.file_tree, self.file_path, self.layer_index)
        except LayerscopeError as exc:
            self.app.call_from_thread(self._show, Text(str(exc), style="red"), "")
            return
        note = f"{human_bytes(size)}"
        if len(data) < size:
            note += f", showing the first {human_bytes(len(data))}"
        if is_binary(data):
            body: Text | Syntax = Text(hexdump(data))
            note += ", binary (hex)"
        else:
            text = data.decode("utf-8", errors="replace")
            if len(text) <= _SYNTAX_LIMIT:
                lexer = Syntax.guess_lexer(self.file_path, text)
                body = Syntax(text, lexer, line_numbers=True, word_wrap=False, theme="ansi_dark")
            else:
                body = Text(text)
        self.app.call_from_thread(self._show, body, note)

    def _show(self, body: Text | Syntax, note: str) -> None:
        self.body_text = body.code if isinstance(body, Syntax) else body.plain
        self.query_one("#viewer-content", Static).update(body)
        self.query_one("#viewer-status", Label).update(Text(f"{note}   esc closes"))


class PromptScreen(ModalScreen[str | None]):
    """One line of input: a destination directory, or a path to jump to."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str, value: str = "", check: Callable[[str], str | None] | None = None
    ):
        super().__init__()
        self.title_text = title
        self.initial = value
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Label(Text(self.title_text))
            yield Input(value=self.initial, id="prompt-input")
            yield Label("enter accepts, esc cancels", classes="hint", id="prompt-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        problem = self.check(event.value) if self.check else None
        if problem:
            self.query_one("#prompt-hint", Label).update(Text(problem, style="red"))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
