"""Snapshots of the explorer's main screens on the bundled sample, at a fixed terminal size.

Update after an intended change with `pytest tests/test_ui_snapshots.py --snapshot-update`,
then look at the SVGs in the report before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from layerscope.session import OpenedImage
from layerscope.ui.app import LayerscopeApp
from layerscope.ui.treepane import FileTreePane

from helpers import explorer_data
from imagebuilder import write_docker_archive
from make_sample import sample_image

SIZE = (150, 42)
Snap = Callable[..., bool]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> OpenedImage:
    path = write_docker_archive(sample_image(), tmp_path_factory.mktemp("snap") / "sample.tar")
    loaded = explorer_data(path)
    assert isinstance(loaded, OpenedImage)
    return loaded


def _select(path: str) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        pane = pilot.app.screen.query_one(FileTreePane)
        pane.focus()
        pane.select(pane.tree_view.index.find(path) or 0)
        await pilot.pause()

    return run


def test_first_screen(snap_compare: Snap, sample: OpenedImage) -> None:
    assert snap_compare(LayerscopeApp(loaded=sample), terminal_size=SIZE)


def test_useradd_layer_in_the_tree(snap_compare: Snap, sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    assert snap_compare(app, press=["down", "tab"], terminal_size=SIZE)


def test_cleanup_layer_shows_deleted_files(snap_compare: Snap, sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    assert snap_compare(app, press=["down"] * 4 + ["tab", "ctrl+u"], terminal_size=SIZE)


def test_filter_and_size_sort(snap_compare: Snap, sample: OpenedImage) -> None:
    async def filtered(pilot: Pilot[Any]) -> None:
        await pilot.press("down", "down", "tab", "ctrl+o", "ctrl+f", *"py")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(LayerscopeApp(loaded=sample), run_before=filtered, terminal_size=SIZE)


def test_file_history(snap_compare: Snap, sample: OpenedImage) -> None:
    app = LayerscopeApp(loaded=sample)
    assert snap_compare(
        app, press=["i"], run_before=_select("app/mysite/settings.py"), terminal_size=SIZE
    )


def test_viewer(snap_compare: Snap, sample: OpenedImage) -> None:
    async def open_viewer(pilot: Pilot[Any]) -> None:
        await _select("etc/passwd")(pilot)
        await pilot.press("v")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(LayerscopeApp(loaded=sample), run_before=open_viewer, terminal_size=SIZE)


def test_help(snap_compare: Snap, sample: OpenedImage) -> None:
    assert snap_compare(LayerscopeApp(loaded=sample), press=["question_mark"], terminal_size=SIZE)


def test_findings_view(snap_compare: Snap, sample: OpenedImage) -> None:
    assert snap_compare(LayerscopeApp(loaded=sample), press=["f"], terminal_size=SIZE)


def test_snapshots_are_committed() -> None:
    folder = Path(__file__).parent / "__snapshots__" / "test_ui_snapshots"
    assert folder.is_dir() and len(list(folder.glob("*.svg"))) >= 7
