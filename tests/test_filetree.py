"""The OCI layer rules, applied to layers the tests build (image-spec layer.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerscope.filetree import Cause, Change

from helpers import analysed
from imagebuilder import OPQ, D, F, ImageDef, Layer, W, write_docker_archive


def build(tmp_path: Path, *layers: list[F]) -> Path:
    img = ImageDef(
        [Layer(list(entries), f"/bin/sh -c step{i}") for i, entries in enumerate(layers)]
    )
    return write_docker_archive(img, tmp_path / "img.tar")


def test_whiteout_removes_a_file_from_lower_layers(tmp_path: Path) -> None:
    a = analysed(build(tmp_path, [D("etc"), F("etc/a", b"1" * 100)], [D("etc"), W("etc/a")]))
    assert "etc/a" not in a.tree.live
    last = a.tree.history("etc/a")[-1]
    assert (last.layer, last.change, last.cause) == (1, Change.REMOVED, Cause.WHITEOUT)
    assert a.waste.deleted_bytes == 100


def test_whiteout_of_a_directory_removes_its_subtree_and_counts_its_bytes(tmp_path: Path) -> None:
    a = analysed(
        build(
            tmp_path, [D("d"), D("d/sub"), F("d/sub/x", b"x" * 70), F("d/y", b"y" * 30)], [W("d")]
        )
    )
    assert not any(p.startswith("d") for p in a.tree.live)
    assert a.waste.directory_deleted_bytes == 100
    # dive counts nothing for a deleted directory: its files were never leaves twice.
    assert a.dive.wasted_bytes == 0


def test_opaque_directory_hides_lower_children_but_not_its_own_layer(tmp_path: Path) -> None:
    a = analysed(
        build(
            tmp_path,
            [D("d"), F("d/old", b"o" * 50), D("d/deep"), F("d/deep/x", b"x" * 25)],
            # the marker comes after a sibling of the same layer: it still survives
            [D("d"), F("d/new", b"n" * 5), OPQ("d")],
        )
    )
    assert sorted(p for p in a.tree.live if p.startswith("d/")) == ["d/new"]
    assert a.waste.opaque_hidden_bytes == 75
    assert a.dive.wasted_bytes == 0  # dive drops opaque markers and sees no waste


def test_file_replacing_a_directory_removes_the_directory_subtree(tmp_path: Path) -> None:
    a = analysed(build(tmp_path, [D("x"), F("x/inner", b"i" * 10)], [F("x", b"file")]))
    assert a.tree.live["x"].size == 4
    assert "x/inner" not in a.tree.live
    assert a.waste.replaced_bytes == 10


def test_directory_replacing_a_file(tmp_path: Path) -> None:
    a = analysed(build(tmp_path, [F("x", b"file")], [D("x"), F("x/inner", b"i")]))
    assert a.tree.live["x"].kind.value == "dir" and "x/inner" in a.tree.live


def test_same_layer_whiteout_does_not_hide_its_own_files(tmp_path: Path) -> None:
    a = analysed(build(tmp_path, [F("keep", b"1")], [F("f", b"new"), W("f")]))
    assert "f" in a.tree.live


def test_hardlink_bytes_belong_to_one_name(tmp_path: Path) -> None:
    a = analysed(build(tmp_path, [F("a", b"data" * 10), F("b", kind="hardlink", link="a")]))
    assert a.image.layers[0].size == 40
    assert a.tree.live["b"].linkname == "a"


def test_duplicate_entries_in_one_layer_last_wins(tmp_path: Path) -> None:
    a = analysed(build(tmp_path, [F("f", b"first"), F("f", b"second!")]))
    assert a.tree.live["f"].size == 7


def test_aufs_metadata_is_not_a_whiteout(tmp_path: Path) -> None:
    a = analysed(build(tmp_path, [F("plnk", b"x")], [F(".wh..wh.plnk", mode=0)]))
    assert "plnk" in a.tree.live


def test_diff_status_of_each_change(tmp_path: Path) -> None:
    a = analysed(
        build(
            tmp_path,
            [F("same", b"s"), F("mod", b"1"), F("chmod", b"c")],
            [F("same", b"s"), F("mod", b"2"), F("chmod", b"c", mode=0o755), F("new", b"n")],
        )
    )
    changes = {p: v.change for p, v in a.tree.changes(1)}
    assert changes == {
        "same": Change.UNMODIFIED,
        "mod": Change.MODIFIED,
        "chmod": Change.MODIFIED,
        "new": Change.ADDED,
    }
    assert a.waste.identical_rewrite_bytes == 2  # "same" and "chmod" kept their content


def test_state_at_each_layer(tmp_path: Path) -> None:
    a = analysed(build(tmp_path, [F("f", b"v1")], [F("f", b"v22")], [W("f")]))
    assert [a.tree.state_at("f", i) is not None for i in range(3)] == [True, True, False]
    assert a.tree.state_at("f", 1).size == 3  # type: ignore[union-attr]


def test_bare_whiteout_is_an_error(tmp_path: Path) -> None:
    from layerscope.errors import CorruptLayer

    with pytest.raises(CorruptLayer, match="bare whiteout"):
        analysed(build(tmp_path, [F("d/.wh.", mode=0)]))
