"""The explorer over a comparison (`layerscope diff A B` on a terminal), with the pilot."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from layerscope.compare.diff import compare
from layerscope.compare.model import PathChange
from layerscope.filetree import Change
from layerscope.ui.diffview import DiffApp, merged_opened
from layerscope.ui.panes import LayerList
from layerscope.ui.treepane import FileTreePane

from helpers import opened
from imagebuilder import D, F, ImageDef, Layer, write_docker_archive, write_oci_layout

BASE = Layer([D("etc"), F("etc/hosts", b"127.0.0.1 localhost\n"), F("bin/sh", b"s" * 900)])
A = Layer(
    [D("app"), F("app/a.py", b"a"), F("app/gone.py", b"g" * 50), D("app/old"), F("app/old/x", b"x")]
)
B = Layer([D("app"), F("app/a.py", b"a2"), F("app/new.py", b"n" * 70)])


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("uidiff")
    return (
        write_docker_archive(ImageDef([BASE, A], tag="t/app:1"), tmp / "a.tar"),
        write_oci_layout([ImageDef([BASE, B], tag="t/app:2")], tmp / "b", compression="zstd"),
    )


def test_merged_image_colours_every_change_as_the_comparison_does(pair: tuple[Path, Path]) -> None:
    with opened(pair[0]) as a, opened(pair[1]) as b:
        d = compare(a, b)
        merged = merged_opened(a, b)
    tree = merged.analysis.tree
    change = {"/" + p: v.change for p, v in tree.changes(1)}
    expected = {PathChange.ADDED: Change.ADDED, PathChange.REMOVED: Change.REMOVED}
    for p in d.paths:
        assert change[p.path] is expected.get(p.change, Change.MODIFIED), p.path
    # Nothing else is marked in layer 1: unchanged paths are not rewritten.
    assert set(change) == {p.path for p in d.paths}
    assert merged.image.layers[0].history.created_by.startswith("A: t/app:1")


def test_explorer_opens_on_b_with_changes_only(pair: tuple[Path, Path]) -> None:
    asyncio.run(_explore(pair))


async def _explore(pair: tuple[Path, Path]) -> None:
    with opened(pair[0]) as a, opened(pair[1]) as b:
        app = DiffApp(merged_opened(a, b), "The image grew by 19 B")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.pause()
            assert app.screen.query_one(LayerList).cursor_row == 1
            view = app.screen.tree_view  # type: ignore[attr-defined]
            assert view.options.layer == 1 and Change.UNMODIFIED in view.options.hidden
            counts = view.counts()
            assert (counts[Change.ADDED], counts[Change.REMOVED], counts[Change.MODIFIED]) == (
                1,
                2,
                1,
            )
            pane = app.screen.query_one(FileTreePane)
            shown = {view.row(i).path for i in range(len(view))}
            assert shown == {
                "/app",
                "/app/a.py",
                "/app/gone.py",
                "/app/new.py",
                "/app/old",
                "/app/old/x",
            }
            summary = app.screen.query_one("#image-summary")
            assert "grew by 19 B" in str(summary.render())
            # Contents are not readable in a comparison: a clear message, not a crash.
            pane.focus()
            await pilot.press("down", "down", "down")  # /app/new.py
            await pilot.press("v")
            await pilot.pause(0.3)
            assert "open A or B" in str(app.screen.query_one("#viewer-content").render())
