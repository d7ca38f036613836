"""The explorer app: loads the image in a worker with progress, then shows the explorer screen."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding

from ..errors import LayerscopeError
from ..findings.advice import Advice, advise
from ..loader import Progress
from ..session import OpenedImage
from ..uiconfig import DEFAULT_KEYS, UIConfig
from .explorer import ExplorerScreen, Loader
from .screens import HelpScreen, LoadingScreen

__all__ = ["ExplorerScreen", "LayerscopeApp", "Loader", "help_rows"]

CSS_PATH = Path(__file__).with_name("explorer.tcss")


class LayerscopeApp(App[int]):
    """`LayerscopeApp(loaded=...)` for ready data (tests), or `loader=` to read with progress."""

    CSS_PATH = CSS_PATH
    TITLE = "layerscope"
    BINDINGS = [
        Binding("ctrl+c,q", "quit", "Quit", id="quit", priority=True),
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("ctrl+z", "suspend_process", "Suspend", show=False),
    ]

    def __init__(
        self,
        loaded: OpenedImage | None = None,
        loader: Loader | None = None,
        ui_config: UIConfig | None = None,
        what: str = "image",
    ) -> None:
        super().__init__()
        self.loaded = loaded
        self.loader = loader
        self.ui_config = ui_config or UIConfig()
        self.what = what
        self.load_error: str | None = None

    def on_mount(self) -> None:
        keymap = {action: ",".join(keys) for action, keys in self.ui_config.keys.items()}
        if keymap:
            self.set_keymap(keymap)
        if self.loaded is not None:
            self.push_screen(ExplorerScreen(self.loaded, self.ui_config))
        elif self.loader is not None:
            self.push_screen(LoadingScreen(self.what))
            self.load()

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        assert self.loader is not None

        def progress(p: Progress) -> None:
            self.call_from_thread(self._progress, p)

        try:
            loaded = self.loader(progress)
            advice = advise(loaded)  # here, off the UI thread: it reads contents where needed
        except LayerscopeError as exc:
            self.call_from_thread(self._failed, str(exc))
            return
        self.call_from_thread(self._show_explorer, loaded, advice)

    def _progress(self, p: Progress) -> None:
        if isinstance(self.screen, LoadingScreen):
            self.screen.show(p)
            if p.layers_done == p.layers_total:
                self.screen.indexing()

    def _failed(self, message: str) -> None:
        self.load_error = message
        self.exit(2, return_code=2)

    def _show_explorer(self, loaded: OpenedImage, advice: Advice) -> None:
        self.loaded = loaded
        self.switch_screen(ExplorerScreen(loaded, self.ui_config, advice))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_rows(self.ui_config)))

    def action_quit(self) -> None:  # type: ignore[override]
        self.exit(0)


_WHERE = {
    "compare-layer": "layers",
    "compare-all": "layers",
    "toggle-collapse-dir": "file tree",
    "toggle-collapse-all-dir": "file tree",
    "toggle-added-files": "file tree",
    "toggle-removed-files": "file tree",
    "toggle-modified-files": "file tree",
    "toggle-unmodified-files": "file tree",
    "toggle-filetree-attributes": "file tree",
    "toggle-sort-order": "file tree",
    "extract-file": "file tree",
    "view-file": "file tree",
    "file-history": "file tree",
    "findings": "everywhere",
}


def help_rows(config: UIConfig) -> list[tuple[str, str, str]]:
    rows = []
    for action in DEFAULT_KEYS:
        keys = config.keys.get(action, ())
        rows.append((_WHERE.get(action, "everywhere"), action, ", ".join(keys)))
    rows.append(("everywhere", "suspend", "ctrl+z"))
    rows.append(("everywhere", "mouse", "click selects, click again opens, wheel scrolls"))
    return rows
