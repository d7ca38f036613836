"""The explorer, driven headless with Textual's pilot on the bundled sample image."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from layerscope.filetree import Change
from layerscope.session import OpenedImage
from layerscope.ui.app import ExplorerScreen, LayerscopeApp
from layerscope.ui.findings_view import FindingsScreen
from layerscope.ui.panes import LayerDetails, LayerList, WasteList
from layerscope.ui.screens import HelpScreen, HistoryScreen, PromptScreen, ViewerScreen
from layerscope.ui.treepane import FileTreePane
from layerscope.uiconfig import UIConfig, load_ui_config

from helpers import explorer_data
from imagebuilder import write_docker_archive
from make_sample import sample_image

SIZE = (160, 45)


def pilot(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async pilot test in its own event loop (no pytest plugin needed)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> OpenedImage:
    path = write_docker_archive(sample_image(), tmp_path_factory.mktemp("ui") / "sample.tar")
    loaded = explorer_data(path)
    assert isinstance(loaded, OpenedImage)
    return loaded


def tree(app: LayerscopeApp) -> FileTreePane:
    return app.screen.query_one(FileTreePane)


def shown(app: LayerscopeApp) -> list[str]:
    pane = tree(app)
    return [pane.tree_view.row(i).path for i in range(len(pane.tree_view))]


@pilot
async def test_opens_on_layer_zero_with_layers_focused(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ExplorerScreen)
        assert isinstance(app.focused, LayerList)
        pane = tree(app)
        assert pane.tree_view.options.layer == 0
        assert "/etc/passwd" in shown(app)
        assert pane.tree_view.row(0).change is Change.ADDED


@pilot
async def test_layer_keys_move_and_show_the_layer_changes(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down")
        pane = tree(app)
        assert pane.tree_view.options.layer == 1
        changes = {
            pane.tree_view.row(i).path: pane.tree_view.row(i).change
            for i in range(len(pane.tree_view))
        }
        # useradd: the files it rewrote are modified, the rest of the base is unmodified
        assert changes["/etc/passwd"] is Change.MODIFIED
        assert changes["/etc/shadow"] is Change.MODIFIED
        assert changes["/home/app"] is Change.ADDED
        assert changes["/bin/busybox"] is Change.UNMODIFIED
        await pilot.press("j", "j", "j")
        assert pane.tree_view.options.layer == 4
        removed = [
            p
            for p, c in (
                (pane.tree_view.row(i).path, pane.tree_view.row(i).change)
                for i in range(len(pane.tree_view))
            )
            if c is Change.REMOVED
        ]
        assert "/tmp/build.log" in removed and "/root/.cache/pip/http/wheel0.bin" in removed
        await pilot.press("k")
        assert pane.tree_view.options.layer == 3


@pilot
async def test_aggregated_and_layer_modes(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down", "down")  # layer 3: COPY /app
        pane = tree(app)
        assert "/etc/passwd" in shown(app)
        await pilot.press("ctrl+a")
        assert pane.tree_view.options.aggregated
        assert pane.border_title == "Aggregated layer contents"
        row = pane.tree_view.row(
            pane.tree_view.position(pane.tree_view.index.find("etc/passwd")) or 0
        )
        assert row.change is Change.MODIFIED  # changed by useradd, since layer 0
        await pilot.press("ctrl+l")
        assert not pane.tree_view.options.aggregated
        assert pane.border_title == "Current layer contents"


@pilot
async def test_tab_moves_between_panes_and_tree_keys_work(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        assert isinstance(app.focused, FileTreePane)
        pane = tree(app)
        await pilot.press("j", "j", "down")
        assert pane.cursor == 3
        await pilot.press("k")
        assert pane.cursor == 2
        await pilot.press("pagedown")
        assert pane.cursor > 10
        await pilot.press("home")
        assert pane.cursor == 0
        await pilot.press("tab")
        assert isinstance(app.focused, WasteList)


@pilot
async def test_collapse_expand_one_and_all(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        pane = tree(app)
        pane.select(pane.tree_view.index.find("etc") or 0)
        before = len(pane.tree_view)
        await pilot.press("space")
        assert "/etc/passwd" not in shown(app) and "/etc" in shown(app)
        assert len(pane.tree_view) == before - 7
        await pilot.press("space")
        assert "/etc/passwd" in shown(app)
        await pilot.press("h")  # left collapses
        assert "/etc/passwd" not in shown(app)
        await pilot.press("l")  # right expands
        assert "/etc/passwd" in shown(app)
        await pilot.press("ctrl+@")  # ctrl+space as terminals send it
        assert all(p.count("/") == 1 for p in shown(app))
        await pilot.press("ctrl+@")
        assert "/usr/lib/python3.11/mod00.py" in shown(app)


@pilot
async def test_diff_kind_toggles_hide_and_show(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "tab")  # layer 1 (useradd), tree focused
        pane = tree(app)
        await pilot.press("ctrl+u")
        paths = shown(app)
        assert "/bin/busybox" not in paths and "/etc/passwd" in paths and "/home/app" in paths
        await pilot.press("ctrl+m")
        assert "/etc/passwd" not in shown(app)
        await pilot.press("M")  # terminals send enter for ctrl+m; M is the same action
        assert "/etc/passwd" in shown(app)
        await pilot.press("M")
        await pilot.press("ctrl+a")
        assert "/home/app" not in shown(app)
        await pilot.press("ctrl+a", "M", "ctrl+u")
        assert "/bin/busybox" in shown(app)
        await pilot.press("down", "down")  # layer keys do not reach the layer list from here
        assert pane.tree_view.options.layer == 1


@pilot
async def test_removed_toggle(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down", "down", "down", "tab")  # layer 4: rm -rf
        assert "/tmp/build.log" in shown(app)
        await pilot.press("ctrl+r")
        assert "/tmp/build.log" not in shown(app)


@pilot
async def test_attributes_and_sort_by_size(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        pane = tree(app)
        assert pane.show_attributes
        await pilot.press("ctrl+b")
        assert not pane.show_attributes
        await pilot.press("ctrl+o")
        assert pane.tree_view.options.sort_by_size
        top = [
            pane.tree_view.row(i)
            for i in range(len(pane.tree_view))
            if pane.tree_view.row(i).depth == 0
        ]
        assert [r.size for r in top] == sorted((r.size for r in top), reverse=True)
        assert top[0].path == "/bin"
        header = str(app.screen.query_one("#tree-header").render())
        assert "sort: size" in header
        await pilot.press("s")
        assert not pane.tree_view.options.sort_by_size


@pilot
async def test_filter_is_live_counts_and_closes(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+f")
        await pilot.press(*"passwd")
        await app.workers.wait_for_complete()
        await pilot.pause()
        pane = tree(app)
        paths = shown(app)
        assert set(paths) == {
            "/etc",
            "/etc/passwd",
            "/etc/passwd-",
            "/usr",
            "/usr/bin",
            "/usr/bin/passwd",
        }
        assert pane.tree_view.match_count == 3
        header = str(app.screen.query_one("#tree-header").render())
        assert "3 match" in header
        await pilot.press("[")  # invalid regex while typing: ignored
        assert len(shown(app)) == 6
        await pilot.press("backspace", "$")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "/etc/passwd-" not in shown(app)
        await pilot.press("enter")
        assert isinstance(app.focused, FileTreePane)
        await pilot.press("escape")  # esc clears the filter, wherever the focus is
        assert pane.tree_view.options.pattern is None
        assert isinstance(app.focused, FileTreePane)
        await pilot.press("slash", *"bin/pa")  # inside the filter, "/" is a character
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert shown(app) == ["/usr", "/usr/bin", "/usr/bin/passwd"]


@pilot
async def test_file_history_explains_the_useradd(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        pane = tree(app)
        pane.select(pane.tree_view.index.find("etc/shadow") or 0)
        await pilot.press("i")
        assert isinstance(app.screen, HistoryScreen)
        from textual.widgets import DataTable

        table = app.screen.query_one(DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [r[0] for r in rows] == ["0", "1"]
        assert rows[1][1] == "modified" and "useradd" in rows[1][5]
        await pilot.press("escape")
        assert isinstance(app.screen, ExplorerScreen)


@pilot
async def test_viewer_shows_text_and_hex(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "tab")
        pane = tree(app)
        pane.select(pane.tree_view.index.find("etc/group") or 0)
        await pilot.press("enter")
        assert isinstance(app.screen, ViewerScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ViewerScreen)
        assert "app:x:1000:" in app.screen.body_text
        await pilot.press("escape")
        pane.select(pane.tree_view.index.find("bin/busybox") or 0)
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ViewerScreen)
        assert app.screen.body_text.startswith("00000000  ")


@pilot
async def test_extract_writes_the_file_as_at_the_layer(sample: OpenedImage, tmp_path: Path) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        pane = tree(app)
        pane.select(pane.tree_view.index.find("etc") or 0)
        await pilot.press("ctrl+e")
        assert isinstance(app.screen, PromptScreen)
        box = app.screen.query_one("#prompt-input")
        box.value = str(tmp_path / "out")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert (tmp_path / "out" / "etc" / "passwd").read_text().startswith("root:")
    assert "app:" not in (tmp_path / "out" / "etc" / "passwd").read_text()  # layer 0's copy


@pilot
async def test_waste_list_choice_shows_the_file(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "tab")
        assert isinstance(app.focused, WasteList)
        await pilot.press("enter")
        pane = tree(app)
        row = pane.current()
        assert row is not None and row.path == sample.analysis.waste.files[0].path
        assert row.change is Change.REMOVED
        assert isinstance(app.focused, FileTreePane)


@pilot
async def test_jump_to_path(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+g")
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one("#prompt-input").value = "/nope"  # type: ignore[attr-defined]
        await pilot.press("enter")
        assert isinstance(app.screen, PromptScreen)  # refused, with a message
        app.screen.query_one("#prompt-input").value = "/app/mysite/settings.py"  # type: ignore[attr-defined]
        await pilot.press("enter")
        row = tree(app).current()
        assert row is not None and row.path == "/app/mysite/settings.py"
        assert tree(app).tree_view.options.layer == 6  # the last layer that wrote it


@pilot
async def test_help_lists_every_binding(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        from textual.widgets import DataTable

        table = app.screen.query_one(DataTable)
        actions = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert {
            "quit",
            "toggle-sort-order",
            "extract-file",
            "file-history",
            "filter-files",
        } <= actions
        await pilot.press("escape")
        assert isinstance(app.screen, ExplorerScreen)


@pilot
async def test_quit_with_q_and_mouse_click(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click(FileTreePane, offset=(40, 3))
        pane = tree(app)
        assert isinstance(app.focused, FileTreePane)
        assert pane.cursor == 3 + int(pane.scroll_offset.y)
        await pilot.press("q")
    assert app.return_code == 0


@pilot
async def test_config_keys_and_defaults(sample: OpenedImage, tmp_path: Path) -> None:
    cfg = tmp_path / "dive.yaml"
    cfg.write_text(
        "keybinding:\n  toggle-sort-order: ctrl+t\n  quit: ctrl+x\n"
        "diff:\n  hide: [unmodified]\nfiletree:\n  collapse-dir: true\n  show-attributes: false\n"
        "layer:\n  show-aggregated-changes: true\n"
    )
    config = load_ui_config(cfg)
    app = LayerscopeApp(loaded=sample, ui_config=config)
    async with app.run_test(size=SIZE) as pilot:
        pane = tree(app)
        assert pane.tree_view.options.aggregated and not pane.show_attributes
        assert Change.UNMODIFIED in pane.tree_view.options.hidden
        assert all(p.count("/") == 1 for p in shown(app))
        await pilot.press("tab", "ctrl+t")
        assert pane.tree_view.options.sort_by_size
        await pilot.press("q")  # q is no longer quit
        assert app.is_running
        await pilot.press("ctrl+x")
    assert app.return_code == 0


@pilot
async def test_loader_reports_progress_then_error(tmp_path: Path) -> None:
    from layerscope.errors import CorruptLayer

    def failing(progress):  # type: ignore[no-untyped-def]
        raise CorruptLayer("img.tar: layer 1: truncated")

    app = LayerscopeApp(loader=failing, ui_config=UIConfig())
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.return_code == 2
    assert app.load_error == "img.tar: layer 1: truncated"


@pilot
async def test_findings_view_ranks_and_jumps_to_the_layer_and_path(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        layers = app.screen.query_one(LayerList)
        waste = [str(layers.get_cell_at(Coordinate(r, 2))).strip() for r in range(layers.row_count)]
        assert waste[2] == "2.4 MB"  # the pip cache and the build log of layer 2
        details = str(app.screen.query_one(LayerDetails).render())
        assert "Story" in details and "login logs written" in details.lower()
        await pilot.press("f")
        assert isinstance(app.screen, FindingsScreen)
        table = app.screen.query_one("#findings-table", DataTable)
        rules = [str(table.get_cell_at(Coordinate(r, 2))) for r in range(table.row_count)]
        assert rules[:2] == ["LS-W003", "LS-W011"]  # largest first
        detail = str(app.screen.query_one("#finding-detail", Static).render())
        assert "--no-cache-dir" in detail and "hidden" in detail
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ExplorerScreen)
        assert layers.cursor_row == 2
        row = tree(app).current()
        assert row is not None and row.path == "/tmp/build.log"
        assert isinstance(app.focused, FileTreePane)
