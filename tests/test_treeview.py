"""The explorer's headless view: rows per layer and mode, filters, sort, collapse, sizes.

Each view is checked against the file tree's own answers (state_at, versions), path by path,
on real images and on images built to hit the layer rules.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from layerscope.analysis import Analysis
from layerscope.filetree import Change
from layerscope.model import EntryKind
from layerscope.treeindex import TreeIndex
from layerscope.treeview import TreeView, ViewOptions

from conftest import DIVE_DATA, REAL, require
from helpers import analysed
from imagebuilder import OPQ, D, F, ImageDef, Layer, W, write_docker_archive
from make_sample import sample_image


def quirk_image(tmp: Path) -> Path:
    return write_docker_archive(
        ImageDef(
            [
                Layer([D("a"), F("a/x", b"1" * 10), F("a/y", b"2" * 20), F("b/deep/z", b"3" * 30)]),
                Layer([W("a/x"), F("a/y", b"22" * 20), F("c", b"c")]),
                Layer([OPQ("b"), F("b/new", b"n" * 5), W("c")]),
                Layer([F("a", b"now a file"), D("c"), F("c/k", b"k" * 7)]),
            ]
        ),
        tmp / "quirks.tar",
    )


@pytest.fixture(params=["sample", "buildah", "dive", "quirks"])
def analysis(request: pytest.FixtureRequest, tmp_path: Path) -> Analysis:
    if request.param == "sample":
        return analysed(write_docker_archive(sample_image(), tmp_path / "s.tar"))
    if request.param == "buildah":
        return analysed(require(REAL / "busybox-buildah.docker-archive.tar"))
    if request.param == "dive":
        return analysed(require(DIVE_DATA / "test-docker-image.tar"))
    return analysed(quirk_image(tmp_path))


def expected_rows(a: Analysis, layer: int) -> dict[str, Change]:
    """Paths shown in "layer changes" mode, from the file tree's versions directly."""
    out: dict[str, Change] = {}
    for path, versions in a.tree.versions.items():
        here = [v for v in versions if v.layer == layer]
        present = a.tree.state_at(path, layer) is not None
        if here and here[-1].change is Change.REMOVED:
            out[path] = Change.REMOVED
        elif present:
            out[path] = here[-1].change if here else Change.UNMODIFIED
    for path in list(out):
        parent = path.rpartition("/")[0]
        while parent and parent not in out:
            out[parent] = Change.UNMODIFIED  # implicit; its colour comes from below
            parent = parent.rpartition("/")[0]
    return out


def test_every_layer_shows_exactly_what_the_tree_says(analysis: Analysis) -> None:
    view = TreeView(TreeIndex(analysis.tree))
    for layer in range(len(analysis.image.layers)):
        view.set_layer(layer)
        rows = {view.row(i).path.lstrip("/"): view.row(i) for i in range(len(view))}
        want = expected_rows(analysis, layer)
        assert set(rows) == set(want), f"layer {layer}"
        for path, row in rows.items():
            if not row.is_dir:
                assert row.change is want[path], (layer, path)
            else:
                below = [c for p, c in want.items() if p.startswith(path + "/")]
                if want[path] is Change.UNMODIFIED and any(
                    c is not Change.UNMODIFIED for c in below
                ):
                    assert row.change is Change.MODIFIED, (layer, path)
            entry = analysis.tree.state_at(path, layer)
            if entry is not None and entry.kind is EntryKind.FILE:
                assert row.size == entry.size
            if row.change is Change.REMOVED and row.entry is not None:
                assert row.is_dir == (row.entry.kind is EntryKind.DIR), path
                if row.entry.kind is EntryKind.FILE:
                    assert row.size == row.entry.size, path  # the size of what was removed


def test_rows_are_a_preorder_with_correct_guides(analysis: Analysis) -> None:
    view = TreeView(TreeIndex(analysis.tree))
    view.set_layer(len(analysis.image.layers) - 1)
    for by_size in (False, True):
        view.set_sort_by_size(by_size)
        rows = [view.row(i) for i in range(len(view))]
        stack: list[str] = []
        for i, row in enumerate(rows):
            parent = row.path.rpartition("/")[0]
            while stack and stack[-1] != parent:
                stack.pop()
            assert len(stack) == row.depth, row.path
            later = [r for r in rows[i + 1 :] if r.depth <= row.depth]
            assert row.last == (not later or later[0].depth < row.depth)
            stack.append(row.path)  # a file that replaced a directory shows its removed children
        if by_size:
            by_parent: dict[str, list[int]] = {}
            for row in rows:
                by_parent.setdefault(row.path.rpartition("/")[0], []).append(row.size)
            for sizes in by_parent.values():
                assert sizes == sorted(sizes, reverse=True)


def test_directory_sizes_sum_the_files_below(analysis: Analysis) -> None:
    view = TreeView(TreeIndex(analysis.tree))
    last = len(analysis.image.layers) - 1
    view.set_layer(last)
    for i in range(len(view)):
        row = view.row(i)
        if row.is_dir and row.change is not Change.REMOVED:
            prefix = row.path.lstrip("/") + "/"
            total = sum(
                e.size
                for p, e in analysis.tree.live.items()
                if p.startswith(prefix) and e.kind is EntryKind.FILE
            )
            assert row.size == total, row.path


@pytest.mark.parametrize(
    "pattern",
    [
        *("passwd", "/", "e", "keep/h", "^/etc", "^/data/keep/", "^/nothing", "^/"),  # literal
        *(r"\.txt$", "[0-9]", "a.*b", "blob|hello", r"\s", "(?i)README", "x*", "^.{3}$"),
    ],
)
def test_filter_matches_like_re_search_on_the_full_path(pattern: str) -> None:
    a = analysed(require(REAL / "busybox-buildah.docker-archive.tar"))
    index = TreeIndex(a.tree)
    rx = re.compile(pattern)
    got = index.match(rx)
    want = [bool(rx.search("/" + p)) for p in index.paths]
    assert list(got.mask) == want and got.count == sum(want)


def test_filter_on_names_that_are_not_ascii(tmp_path: Path) -> None:
    img = ImageDef([Layer([D("café"), F("café/naïve.txt", b"x"), F("cafe/plain", b"y")])])
    index = TreeIndex(analysed(write_docker_archive(img, tmp_path / "u.tar")).tree)
    for pattern in ("ï", "^/caf", "é/n", "e/p", "txt", "^/café/", "\\.txt"):
        rx = re.compile(pattern)
        assert list(index.match(rx).mask) == [bool(rx.search("/" + p)) for p in index.paths]


def test_filter_shows_matches_with_their_parents_and_counts_them(tmp_path: Path) -> None:
    a = analysed(write_docker_archive(sample_image(), tmp_path / "s.tar"))
    view = TreeView(TreeIndex(a.tree), ViewOptions(layer=2))
    view.set_pattern(re.compile(r"wheel[0-2]"))
    assert [view.row(i).path for i in range(len(view))] == [
        "/root",
        "/root/.cache",
        "/root/.cache/pip",
        "/root/.cache/pip/http",
        "/root/.cache/pip/http/wheel0.bin",
        "/root/.cache/pip/http/wheel1.bin",
        "/root/.cache/pip/http/wheel2.bin",
    ]
    assert view.match_count == 3
    view.set_layer(0)  # not there yet at layer 0
    assert len(view) == 0 and view.match_count == 0


def test_collapse_hides_descendants_and_keeps_the_state_across_layers(tmp_path: Path) -> None:
    a = analysed(quirk_image(tmp_path))
    index = TreeIndex(a.tree)
    view = TreeView(index)
    b = index.find("b")
    assert b is not None
    view.toggle_collapse(b)
    assert [view.row(i).path for i in range(len(view))] == ["/a", "/a/x", "/a/y", "/b"]
    assert view.row(3).collapsed
    view.set_layer(2)
    assert "/b/new" not in [view.row(i).path for i in range(len(view))]
    view.expand_to(index.find("b/new") or 0)
    assert "/b/new" in [view.row(i).path for i in range(len(view))]
    view.set_all_collapsed(True)
    assert all(view.row(i).depth == 0 for i in range(len(view)))


def test_hidden_kinds_and_aggregated_mode(tmp_path: Path) -> None:
    a = analysed(quirk_image(tmp_path))
    view = TreeView(TreeIndex(a.tree), ViewOptions(layer=1))
    changes = {view.row(i).path: view.row(i).change for i in range(len(view))}
    assert changes == {
        "/a": Change.MODIFIED,
        "/a/x": Change.REMOVED,
        "/a/y": Change.MODIFIED,
        "/b": Change.UNMODIFIED,
        "/b/deep": Change.UNMODIFIED,
        "/b/deep/z": Change.UNMODIFIED,
        "/c": Change.ADDED,
    }
    view.toggle_hidden(Change.UNMODIFIED)
    assert {view.row(i).path for i in range(len(view))} == {"/a", "/a/x", "/a/y", "/c"}
    view.toggle_hidden(Change.UNMODIFIED)
    view.set_layer(3, aggregated=True)
    agg = {view.row(i).path: view.row(i).change for i in range(len(view))}
    # since layer 0: a became a file (its children are gone), b's contents were replaced
    assert agg["/a"] is Change.MODIFIED and agg["/a/y"] is Change.REMOVED
    assert agg["/b/deep/z"] is Change.REMOVED and agg["/b/new"] is Change.ADDED
    assert agg["/c/k"] is Change.ADDED
    assert view.counts()[Change.ADDED] == 2


def test_find_and_positions(tmp_path: Path) -> None:
    a = analysed(quirk_image(tmp_path))
    index = TreeIndex(a.tree)
    assert index.find("/b/deep/z") == index.find("b/deep/z") is not None
    assert index.find("b/dee") is None and index.find("zzz") is None
    view = TreeView(index)
    node = index.find("b/deep/z")
    assert node is not None
    pos = view.position(node)
    assert pos is not None and view.row(pos).path == "/b/deep/z"
    assert [v[0] for v in index.versions(node)] == [0, 2]


def test_directory_sizes_are_of_what_is_shown(analysis: Analysis) -> None:
    """With kinds hidden or a filter, a directory's size sums the files shown below it; the
    whole size stays beside it (189 MB of /usr above one 36 kB file was the bug)."""
    ix = TreeIndex(analysis.tree)
    for layer in range(ix.layer_count):
        for hidden, pattern in (
            (frozenset({Change.UNMODIFIED}), None),
            (frozenset({Change.ADDED, Change.MODIFIED}), None),
            (frozenset(), re.compile(r"\.(py|conf|txt)$|bin")),
        ):
            full = TreeView(ix, ViewOptions(layer=layer))
            view = TreeView(ix, ViewOptions(layer=layer, hidden=hidden, pattern=pattern))
            files, removed = {}, set()
            for i in range(len(view)):
                row = view.row(i)
                if not row.is_dir:
                    files[row.path] = row.size
                    if row.change is Change.REMOVED:
                        removed.add(row.path)
            for i in range(len(view)):
                row = view.row(i)
                whole = full.row(full.position(row.node) or 0)
                assert row.total_size == whole.size
                if row.is_dir and row.change is not Change.REMOVED:
                    # a removed file counts only inside a removed directory, as in the full view
                    below = sum(
                        size
                        for path, size in files.items()
                        if path.startswith(row.path + "/") and path not in removed
                    )
                    assert row.size == below, (layer, hidden, row.path)
