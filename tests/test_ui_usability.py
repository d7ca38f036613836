"""The explorer as a new user meets it: small terminals, whole paths and commands, history that
acts, filtered sizes, and a crash that never exits 0 or 1 (pilot, on real archives)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import DataTable, Static

from layerscope.errors import ExitCode
from layerscope.filetree import Change
from layerscope.session import OpenedImage
from layerscope.ui.app import ExplorerScreen, LayerscopeApp
from layerscope.ui.fmt import shorten_middle
from layerscope.ui.imagepane import ImageDetails, WasteList
from layerscope.ui.panes import LayerDetails, LayerList
from layerscope.ui.screens import HelpScreen, HistoryScreen, ViewerScreen
from layerscope.ui.treepane import FileTreePane
from layerscope.uiconfig import CONFIG_PLACES

from conftest import ROOT
from helpers import explorer_data
from imagebuilder import D, F, ImageDef, Layer, write_docker_archive
from make_sample import sample_image

SMALL = (80, 24)
BUILD_ARGS = (
    "|3 PIP_INDEX_URL=https://pypi.example.org/simple VERSION=1.2.3 "
    "API_TOKEN=tok_live_0123456789abcdef /bin/sh -c "
    + " && ".join(f"echo step {i} of a long build that goes on and on" for i in range(12))
)


def pilot(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> OpenedImage:
    path = write_docker_archive(sample_image(), tmp_path_factory.mktemp("ux") / "sample.tar")
    return explorer_data(path)


@pytest.fixture(scope="module")
def build_args(tmp_path_factory: pytest.TempPathFactory) -> OpenedImage:
    img = ImageDef(
        [
            Layer([D("etc"), F("etc/hostname", b"box\n")], "/bin/sh -c #(nop) ADD file:1 in /"),
            Layer([D("srv"), F("srv/app.py", b"print(1)\n")], BUILD_ARGS),
        ]
    )
    path = write_docker_archive(img, tmp_path_factory.mktemp("ux") / "args.tar")
    return explorer_data(path)


def tree(app: LayerscopeApp) -> FileTreePane:
    return app.screen.query_one(FileTreePane)


def line_text(widget: Any, y: int) -> str:
    return "".join(segment.text for segment in widget.render_line(y))


def status(app: LayerscopeApp) -> str:
    content = app.screen.query_one("#tree-status", Static).content
    assert isinstance(content, Text)
    return content.plain


# -- 1: a crash ---------------------------------------------------------------------------------
class Broken(Static):
    def render(self) -> str:
        raise RuntimeError("a widget that breaks")


@pilot
async def test_an_exception_inside_the_explorer_is_kept_and_exits_internal(
    sample: OpenedImage,
) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SMALL) as pilot:
        await app.screen.mount(Broken())
        await pilot.pause()
    assert app.return_code == ExitCode.INTERNAL  # never 0, never 1 (a failed CI rule)
    assert isinstance(app.crash, RuntimeError) and str(app.crash) == "a widget that breaks"
    assert app.crash.__traceback__ is not None  # the caller writes it to the crash log


@pilot
async def test_an_exception_in_a_worker_is_the_original_error(sample: OpenedImage) -> None:
    def loader(progress: Any) -> OpenedImage:
        raise KeyError("not a LayerscopeError")

    app = LayerscopeApp(loader=loader)
    async with app.run_test(size=SMALL) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.return_code == ExitCode.INTERNAL
    assert isinstance(app.crash, KeyError)


# -- 2 and 3: names first, paths whole or cut in the middle -------------------------------------
@pytest.mark.parametrize("size", [SMALL, (120, 40), (200, 60)])
@pilot
async def test_names_come_first_at_every_size(sample: OpenedImage, size: tuple[int, int]) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=size) as pilot:
        await pilot.press("down", "down", "tab")  # layer 2: pip install, deep paths
        pane = tree(app)
        pane.select(pane.tree_view.index.find("root/.cache/pip/http/wheel5.bin") or 0)
        await pilot.pause()
        start = int(pane.scroll_offset.y)
        for y in range(min(pane.size.height, len(pane.tree_view) - start)):
            row = pane.tree_view.row(start + y)
            name = row.name + ("/" if row.is_dir else "")
            assert name in line_text(pane, y), (size, row.path)
        # the image details stay on screen, with the waste list in it
        details = app.screen.query_one(ImageDetails)
        assert details.region.height >= 5 and app.screen.query_one(WasteList).region.height >= 1
        assert status(app).startswith("added  /root/.cache/pip/http/wheel5.bin")


@pilot
async def test_attributes_shrink_before_names_and_ctrl_b_brings_them(
    sample: OpenedImage,
) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("tab")
        pane = tree(app)
        cols = pane.attribute_columns(pane.size.width)
        assert not cols.mode and not cols.owner and cols.size  # the size alone at 80 columns
        assert "drwxr-xr-x 0:0" in status(app)  # the rest is under the pane for the cursor's row
        await pilot.press("z")  # the tree on the whole screen: every attribute fits
        await pilot.pause()
        cols = pane.attribute_columns(pane.size.width)
        assert cols.mode and cols.owner
        assert "rwx" in line_text(pane, 0)
        await pilot.press("z")
        await pilot.pause()
        assert pane.size.width < 60


def test_paths_are_cut_in_the_middle() -> None:
    path = "/root/.cache/pip/http/a/b/c/wheel0.bin"
    assert shorten_middle(path, 60) == path
    assert shorten_middle(path, 25) == "/root/…/a/b/c/wheel0.bin"
    assert shorten_middle(path, 14) == "…/c/wheel0.bin"  # the file name before the top dir
    for width in range(1, 40):
        assert len(shorten_middle(path, width)) <= width


@pytest.mark.parametrize("size", [SMALL, (120, 40)])
@pilot
async def test_waste_rows_read_apart(sample: OpenedImage, size: tuple[int, int]) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=size) as pilot:
        waste = app.screen.query_one(WasteList)
        wheels = [i for i, e in enumerate(waste.entries) if "wheel" in e[0]]
        assert len(wheels) == 6
        shown = set()
        for i in wheels:
            waste.move_cursor(row=i)
            await pilot.pause()
            y = i - int(waste.scroll_offset.y) + 1  # below the header row
            text = line_text(waste, y)
            assert f"wheel{wheels.index(i)}.bin" in text
            assert "/root/" in text or size == SMALL  # the top directory too, where it fits
            shown.add(text)
            # the highlighted row whole, under the list
            whole = app.screen.query_one("#waste-status", Static).content
            assert isinstance(whole, Text) and waste.entries[i][0] in whole.plain
        assert len(shown) == 6
        if size == SMALL:  # the causes and layers beyond the pane's edge are a key away
            waste.focus()
            await pilot.press("right", "right")
            assert waste.scroll_x > 0


# -- 4: the whole command -----------------------------------------------------------------------
@pilot
async def test_layer_details_show_the_whole_command_focusable_and_scrollable(
    build_args: OpenedImage,
) -> None:
    app = LayerscopeApp(loaded=build_args)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("down")
        details = app.screen.query_one(LayerDetails)
        assert BUILD_ARGS in details.text.replace("\n", "")  # the build arguments too
        # the layer list trims them, the details do not
        row = app.screen.query_one(LayerList).get_row_at(1)
        assert "API_TOKEN" not in str(row[2])
        await pilot.press("tab", "tab")
        assert app.focused is details
        assert details.max_scroll_y > 0  # longer than the pane: wrapped, not cut at the edge
        await pilot.press("j", "j", "down")
        assert details.scroll_y > 0


# -- 5: history that acts -----------------------------------------------------------------------
@pilot
async def test_history_row_goes_to_its_layer_and_enter_opens_that_version(
    sample: OpenedImage,
) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("down", "down", "down", "down", "tab")  # layer 4 deleted the log
        pane = tree(app)
        pane.select(pane.tree_view.index.find("tmp/build.log") or 0)
        await pilot.pause()
        assert pane.current() is not None and pane.current().change is Change.REMOVED  # type: ignore[union-attr]
        await pilot.press("i")
        assert isinstance(app.screen, HistoryScreen)
        table = app.screen.query_one(DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["2", "4"]
        table.move_cursor(row=0)
        await pilot.press("enter")  # the layer that wrote it
        await pilot.pause()
        assert isinstance(app.screen, ExplorerScreen)
        assert pane.tree_view.options.layer == 2
        assert app.screen.query_one(LayerList).cursor_row == 2
        row = pane.current()
        assert row is not None and row.path == "/tmp/build.log" and row.change is Change.ADDED
        assert app.focused is pane
        await pilot.press("enter")  # that version in the viewer
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ViewerScreen) and app.screen.layer_index == 2
        assert app.screen.body_text == "x" * 40_000


@pilot
async def test_viewing_a_deleted_file_shows_what_was_deleted(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("down", "down", "down", "down", "tab")
        pane = tree(app)
        pane.select(pane.tree_view.index.find("tmp/build.log") or 0)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ViewerScreen)
        assert app.screen.layer_index == 3 and "deleted at layer 4" in app.screen.note
        assert app.screen.body_text == "x" * 40_000


# -- 6: sizes of what is shown ------------------------------------------------------------------
@pilot
async def test_directory_sizes_follow_the_filters(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("down", "down", "tab")  # layer 2 adds site-packages beside layer 0's
        pane = tree(app)
        node = pane.tree_view.index.find("usr/lib/python3.11") or 0
        pane.select(node)
        whole = pane.current()
        assert whole is not None and whole.size == whole.total_size
        await pilot.press("U")  # hide unmodified: the base's 40 modules go
        pane.select(node)
        row = pane.current()
        assert row is not None and row.total_size == whole.total_size
        added = sum(
            pane.tree_view.row(i).size
            for i in range(len(pane.tree_view))
            if pane.tree_view.row(i).path.startswith("/usr/lib/python3.11/site-packages/")
            and not pane.tree_view.row(i).is_dir
        )
        assert row.size == added < row.total_size
        text = line_text(pane, pane.cursor - int(pane.scroll_offset.y))
        assert " of " in text  # the shown size and the whole size beside it


# -- 8: the help names the config places the README names ----------------------------------------
@pilot
async def test_help_names_the_config_places_the_readme_names(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        title = app.screen.query_one("#help-title", Static).content
        assert isinstance(title, Text) and CONFIG_PLACES in title.plain
    readme = (ROOT / "README.md").read_text().replace("`", "").replace("\n", " ")
    assert CONFIG_PLACES in readme


@pilot
async def test_a_history_row_hidden_by_the_filter_says_so(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("down", "tab", "A")  # layer 1 with added files hidden
        pane = tree(app)
        pane.select(pane.tree_view.index.find("etc/shadow") or 0)
        await pilot.press("i")
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=0)  # layer 0 added it: hidden there
        await pilot.press("enter")
        await pilot.pause()
        assert pane.tree_view.options.layer == 0
        notes = [n.message for n in app._notifications]
        assert any("/etc/shadow is not shown" in m and "added" in m for m in notes)


@pilot
async def test_z_gives_each_pane_the_screen_and_back(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SMALL) as pilot:
        zoomed = []
        for _ in range(5):  # layers, tree, layer details, image summary, waste list
            await pilot.press("z")
            maximized = app.screen.maximized
            assert maximized is not None and maximized.region.width == SMALL[0]
            zoomed.append(maximized.id)
            await pilot.press("z")
            assert app.screen.maximized is None
            await pilot.press("tab")
        assert zoomed == ["layers", "right", "layer-details", "image-details", "image-details"]
        await pilot.press("z", "escape")  # esc gives the screen back too
        assert app.screen.maximized is None


@pilot
async def test_leaving_a_zoomed_pane_focuses_the_next_one(sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("tab", "z", "tab")  # zoomed tree -> layer details
        await pilot.pause()
        assert app.screen.maximized is None and isinstance(app.focused, LayerDetails)
        await pilot.press("shift+tab", "z", "slash")  # the filter, from a zoomed layer list
        await pilot.pause()
        assert app.screen.maximized is None and app.focused is app.screen.query_one("#filter")
        await pilot.press("escape", "shift+tab", "shift+tab", "z", "enter")  # waste, zoomed
        await pilot.pause()
        assert app.screen.maximized is None and isinstance(app.focused, FileTreePane)
