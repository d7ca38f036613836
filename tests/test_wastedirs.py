"""Waste by directory: where reclaimable bytes gather, from the analysis's wasted files."""

from __future__ import annotations

from pathlib import Path

from layerscope.analysis import WasteCause, WastedCopy, WastedFile
from layerscope.wastedirs import waste_by_directory

from helpers import analysed
from imagebuilder import D, F, ImageDef, Layer, W, write_docker_archive

DELETED, OVERWRITTEN = WasteCause.DELETED, WasteCause.OVERWRITTEN


def wasted(
    path: str, size: int, cause: WasteCause = DELETED, layers: tuple[int, ...] = (1,)
) -> WastedFile:
    copies = tuple(WastedCopy(layer, size, cause, layer + 1) for layer in layers[:1])
    return WastedFile(path, len(layers), size * len(layers), size, (cause,), layers, copies)


def test_a_cache_is_one_line_at_the_directory_that_holds_it() -> None:
    files = [
        wasted(f"/root/.cache/pip/http/{c}/{i}.whl", 1000, layers=(2,))
        for c in "abc"
        for i in range(5)
    ]
    files.append(wasted("/root/.profile", 10, OVERWRITTEN, (0, 3)))
    (top, *rest) = waste_by_directory(files)
    # below /root, .cache holds nearly all of it; below .cache, pip does; pip/http too; then
    # the waste spreads over a, b and c: that is the line
    assert top.path == "/root/.cache/pip/http/" and top.reclaimable_bytes == 15_000
    assert top.files == 15 and top.causes == (DELETED,) and top.layers == (2,)
    assert [d.path for d in rest] == ["/root/"]  # /root's own file, for itself alone
    assert rest[0].reclaimable_bytes == 10 and rest[0].layers == (0, 3)


def test_top_level_directories_split_and_causes_rank_by_bytes() -> None:
    files = [
        wasted("/var/lib/apt/lists/main", 80),
        wasted("/var/lib/apt/lists/i18n", 30),
        wasted("/var/cache/apt/pkgcache.bin", 70, OVERWRITTEN, (1, 9)),
        wasted("/var/cache/apt/srcpkgcache.bin", 60, OVERWRITTEN, (1, 9)),
        wasted("/var/cache/apt/archives/x.deb", 5, WasteCause.REWRITTEN_UNCHANGED, (1, 7)),
        wasted("/big", 500, WasteCause.REPLACED, (4,)),
    ]
    dirs = waste_by_directory(files)
    assert [(d.path, d.reclaimable_bytes) for d in dirs] == [
        ("/", 500),
        ("/var/cache/apt/", 135),
        ("/var/lib/apt/lists/", 110),
    ]
    apt = dirs[1]
    assert apt.causes == (OVERWRITTEN, WasteCause.REWRITTEN_UNCHANGED) and apt.layers == (1, 7, 9)
    assert waste_by_directory(files, limit=1) == dirs[:1]
    assert waste_by_directory([]) == ()


def test_causes_are_weighed_copy_by_copy_on_a_real_analysis(tmp_path: Path) -> None:
    # one file, two wasted copies: 100 bytes overwritten, then 300 deleted
    img = ImageDef(
        [
            Layer([D("srv/app/cache"), F("srv/app/cache/blob", b"a" * 100)]),
            Layer([F("srv/app/cache/blob", b"b" * 300)]),
            Layer([W("srv/app/cache/blob")]),
        ]
    )
    analysis = analysed(write_docker_archive(img, tmp_path / "i.tar"))
    (only,) = waste_by_directory(analysis.waste.files)
    assert only.path == "/srv/app/cache/" and only.reclaimable_bytes == 400
    assert only.causes == (DELETED, OVERWRITTEN) and only.layers == (0, 1)
