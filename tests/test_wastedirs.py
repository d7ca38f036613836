"""Waste by directory: where reclaimable bytes gather, from the analysis's wasted files."""

from __future__ import annotations

from layerscope.analysis import WastedFile
from layerscope.wastedirs import waste_by_directory


def wasted(
    path: str, size: int, cause: str = "deleted", layers: tuple[int, ...] = (1,)
) -> WastedFile:
    return WastedFile(path, len(layers), size * len(layers), size, (cause,), layers)


def test_a_cache_is_one_line_at_the_directory_that_holds_it() -> None:
    files = [
        wasted(f"/root/.cache/pip/http/{c}/{i}.whl", 1000, layers=(2,))
        for c in "abc"
        for i in range(5)
    ]
    files.append(wasted("/root/.profile", 10, "overwritten", (0, 3)))
    (top, *rest) = waste_by_directory(files)
    # below /root, .cache holds nearly all of it; below .cache, pip does; pip/http too; then
    # the waste spreads over a, b and c: that is the line
    assert top.path == "/root/.cache/pip/http/" and top.reclaimable_bytes == 15_000
    assert top.files == 15 and top.causes == ("deleted",) and top.layers == (2,)
    assert [d.path for d in rest] == ["/root/"]  # /root's own file, for itself alone
    assert rest[0].reclaimable_bytes == 10 and rest[0].layers == (0, 3)


def test_top_level_directories_split_and_causes_rank_by_bytes() -> None:
    files = [
        wasted("/var/lib/apt/lists/main", 80, "deleted"),
        wasted("/var/lib/apt/lists/i18n", 30, "deleted"),
        wasted("/var/cache/apt/pkgcache.bin", 70, "overwritten", (1, 9)),
        wasted("/var/cache/apt/srcpkgcache.bin", 60, "overwritten", (1, 9)),
        wasted("/var/cache/apt/archives/x.deb", 5, "rewritten unchanged", (1, 7)),
        wasted("/big", 500, "replaced", (4,)),
    ]
    dirs = waste_by_directory(files)
    assert [(d.path, d.reclaimable_bytes) for d in dirs] == [
        ("/", 500),
        ("/var/cache/apt/", 135),
        ("/var/lib/apt/lists/", 110),
    ]
    apt = dirs[1]
    assert apt.causes == ("overwritten", "rewritten unchanged") and apt.layers == (1, 7, 9)
    assert waste_by_directory(files, limit=1) == dirs[:1]
    assert waste_by_directory([]) == ()
