"""The explorer's packages view on an image built here with real dpkg databases (a status file
and `info/*.list` per layer, as dpkg writes them): the list by final bytes, enter filtering the
tree to a package's files, the layer details' package changes, and the analysis running in a
worker only once it is needed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from layerscope.session import OpenedImage
from layerscope.ui.app import ExplorerScreen, LayerscopeApp
from layerscope.ui.packages_view import PackagesScreen, files_pattern
from layerscope.ui.panes import LayerDetails
from layerscope.ui.treepane import FileTreePane
from test_packages_image import _tree
from test_packages_parsers import pip_target, rpm_root

from helpers import explorer_data
from imagebuilder import D, F, ImageDef, Layer, Step, W, write_docker_archive

LIB = "usr/lib/x86_64-linux-gnu"
PIP = "usr/lib/python3/dist-packages/pip"
Snap = Callable[..., bool]


def _stanza(name: str, version: str, arch: str = "amd64") -> str:
    return (
        f"Package: {name}\nStatus: install ok installed\nArchitecture: {arch}\nVersion: {version}\n"
    )


def _status(*stanzas: str) -> bytes:
    return "\n".join(stanzas).encode()


def _list(*paths: str) -> bytes:
    return ("/.\n" + "".join(f"/{p}\n" for p in paths)).encode()


def image_def() -> ImageDef:
    libc, coreutils9_1, gcc = (
        _stanza("libc6", "2.36-9"),
        _stanza("coreutils", "9.1-1"),
        _stanza("gcc-12", "12.2.0-14"),
    )
    coreutils9_4, pip = (
        _stanza("coreutils", "9.4-3"),
        _stanza("python3-pip", "23.0.1+dfsg-1", "all"),
    )
    base = [
        D("usr"),
        D("usr/bin"),
        D("usr/lib"),
        D(LIB),
        F(f"{LIB}/libc.so.6", b"c" * 40_000, 0o755),
        F(f"{LIB}/ld-linux-x86-64.so.2", b"l" * 8_000, 0o755),
        F("usr/bin/true", b"t" * 3_000, 0o755),
        F("usr/bin/gcc-12", b"g" * 50_000, 0o755),
        D("var"),
        D("var/lib"),
        D("var/lib/dpkg"),
        D("var/lib/dpkg/info"),
        F("var/lib/dpkg/status", _status(libc, coreutils9_1, gcc)),
        F(
            "var/lib/dpkg/info/libc6:amd64.list",
            _list(f"{LIB}/libc.so.6", f"{LIB}/ld-linux-x86-64.so.2"),
        ),
        F("var/lib/dpkg/info/coreutils.list", _list("usr/bin/true")),
        F("var/lib/dpkg/info/gcc-12.list", _list("usr/bin/gcc-12")),
    ]
    install = [
        F("usr/bin/true", b"T" * 3_500, 0o755),
        D("usr/lib/python3"),
        D("usr/lib/python3/dist-packages"),
        D(PIP),
        F(f"{PIP}/__init__.py", b"p" * 20_000),
        F(f"{PIP}/__main__.py", b"m" * 10_000),
        F("var/lib/dpkg/status", _status(libc, coreutils9_4, gcc, pip)),
        F("var/lib/dpkg/info/python3-pip.list", _list(f"{PIP}/__init__.py", f"{PIP}/__main__.py")),
        D("var/cache"),
        D("var/cache/apt"),
        F("var/cache/apt/pkgcache.bin", b"a" * 7_000),
    ]
    purge = [
        F("var/lib/dpkg/status", _status(libc, coreutils9_4)),
        W("var/lib/dpkg/info/gcc-12.list"),
        W("var/lib/dpkg/info/python3-pip.list"),
        W("usr/bin/gcc-12"),
        W("usr/lib/python3"),
    ]
    return ImageDef(
        [
            Layer(base, "ADD rootfs.tar /"),
            Layer(install, "RUN apt-get install -y python3-pip && apt-get upgrade -y"),
            Layer(purge, "RUN apt-get purge -y gcc-12 python3-pip"),
            Step('CMD ["/usr/bin/true"]'),
        ],
        extra_config={"config": {"Env": ["PATH=/usr/bin"], "Cmd": ["/usr/bin/true"]}},
    )


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> OpenedImage:
    path = write_docker_archive(image_def(), tmp_path_factory.mktemp("uipkg") / "img.tar")
    return explorer_data(path)


def _cells(table: DataTable[Any], column: int) -> list[str]:
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


async def _open_view(pilot: Pilot[Any]) -> DataTable[Any]:
    await pilot.press("p")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, PackagesScreen)
    return screen.query_one("#packages-table", DataTable)


def test_view_lists_packages_by_final_bytes(image: OpenedImage) -> None:
    async def drive() -> tuple[list[list[str]], str, str]:
        app = LayerscopeApp(loaded=image)
        async with app.run_test(size=(180, 45)) as pilot:
            await pilot.pause()
            explorer = app.screen
            # The first screen never starts the package analysis.
            assert isinstance(explorer, ExplorerScreen)
            assert explorer.packages.report is None and not explorer.packages.started
            table = await _open_view(pilot)
            rows = [_cells(table, c) for c in range(7)]
            title = str(app.screen.query_one("#packages-title").render())
            detail = str(app.screen.query_one("#package-detail").render())
        return rows, title, detail

    rows, title, detail = asyncio.run(drive())
    names, versions, dbs, layers, final, stored, reach = rows
    # final packages by final bytes, then the removed ones by stored bytes
    assert names == ["libc6:amd64", "coreutils:amd64", "gcc-12:amd64", "python3-pip:all"]
    assert versions[:2] == ["2.36-9", "9.4-3"]
    assert set(dbs) == {"dpkg"}
    assert layers == ["0", "0", "0, rm 2", "1, rm 2"]
    assert [f.strip() for f in final] == ["48 kB", "3.5 kB", "removed", "removed"]
    # coreutils: both copies of /usr/bin/true stay stored; pip's 30 kB too, after its purge
    assert [s.strip() for s in stored] == ["48 kB", "6.5 kB", "50 kB", "30 kB"]
    assert reach[:2] == ["not reached", "reached"] and reach[2:] == ["", ""]
    assert "2 in the final image" in title and "a static guess" in title
    assert "52 kB owned" in title and "1 packages, 48 kB" in title  # libc6 is not reached
    assert "installed in layer 0" in detail and "/usr/lib/x86_64-linux-gnu/libc.so.6" in detail


def test_enter_filters_the_tree_to_the_package_files(image: OpenedImage) -> None:
    async def drive() -> tuple[str, int, list[str], bool]:
        app = LayerscopeApp(loaded=image)
        async with app.run_test(size=(180, 45)) as pilot:
            await pilot.pause()
            await _open_view(pilot)
            await pilot.press("down", "down", "down", "enter")  # python3-pip, purged later
            await app.workers.wait_for_complete()
            await pilot.pause()
            pane = app.screen.query_one(FileTreePane)
            view = pane.tree_view
            shown = [r.path for r in (view.row(i) for i in range(len(view)))]
            value = app.screen.query_one("#filter", Input).value
            return value, view.options.layer, shown, pane.has_focus

    value, layer, shown, focused = asyncio.run(drive())
    assert layer == 1 and focused  # the layer that installed it
    assert value == files_pattern((f"{PIP}/__init__.py", f"{PIP}/__main__.py"))
    files = [p for p in shown if p.endswith(".py")]
    assert files == [f"/{PIP}/__init__.py", f"/{PIP}/__main__.py"]
    assert not any("gcc" in p or "pkgcache" in p for p in shown)


def test_view_opened_after_the_layer_details_read_the_packages(image: OpenedImage) -> None:
    async def drive() -> list[str]:
        app = LayerscopeApp(loaded=image)
        async with app.run_test(size=(180, 45)) as pilot:
            await pilot.pause()
            await pilot.press("down")  # the layer details start the analysis
            await app.workers.wait_for_complete()
            await pilot.pause()
            return _cells(await _open_view(pilot), 0)

    assert asyncio.run(drive())[:2] == ["libc6:amd64", "coreutils:amd64"]


def test_view_closed_before_the_analysis_ends(image: OpenedImage) -> None:
    async def drive() -> tuple[bool, bool]:
        app = LayerscopeApp(loaded=image)
        async with app.run_test(size=(180, 45)) as pilot:
            await pilot.pause()
            await pilot.press("p", "escape")
            await app.workers.wait_for_complete()
            await pilot.pause()
            explorer = app.screen
            assert isinstance(explorer, ExplorerScreen)
            return explorer.packages.report is not None, app.is_running

    assert asyncio.run(drive()) == (True, True)


def test_files_pattern_matches_exactly_its_paths() -> None:
    import re

    paths = ("usr/bin/a+b", "usr/bin/c", "usr/lib/x.so.6", "etc/x")
    pattern = re.compile(files_pattern(paths))
    assert all(pattern.search("/" + p) for p in paths)
    for other in ("/usr/bin/a+bc", "/usr/bin", "/usr/bin/aab", "/usr/lib/xxso.6", "/x/etc/x"):
        assert not pattern.search(other)


def test_layer_details_list_the_package_changes(image: OpenedImage) -> None:
    async def drive() -> tuple[str, str, str, str]:
        app = LayerscopeApp(loaded=image)
        async with app.run_test(size=(200, 50)) as pilot:
            await pilot.pause()
            first = app.screen.query_one(LayerDetails).text
            await pilot.press("down")  # another layer: the details need the packages now
            await app.workers.wait_for_complete()
            await pilot.pause()
            one = app.screen.query_one(LayerDetails).text
            await pilot.press("down")
            await pilot.pause()
            two = app.screen.query_one(LayerDetails).text
            await pilot.press("up", "up")
            await pilot.pause()
            zero = app.screen.query_one(LayerDetails).text
        return first, one, two, zero

    first, one, two, zero = asyncio.run(drive())
    assert "+3 " in zero and "+ libc6:amd64 2.36-9 48 kB" in zero  # once read, layer 0 too
    assert "Pkgs" not in first  # the first screen did not wait for the analysis
    assert "+1 ~1 " in one
    assert "+ python3-pip:all 23.0.1+dfsg-1 30 kB" in one
    assert "~ coreutils:amd64 9.1-1 -> 9.4-3 3.5 kB" in one
    assert "-2 " in two
    assert "- gcc-12:amd64 12.2.0-14 50 kB still stored" in two
    assert "- python3-pip:all 23.0.1+dfsg-1 30 kB still stored" in two


def test_rpm_and_python_packages_made_by_their_tools(tmp_path: Path) -> None:
    """rpm's sqlite database written by `rpm -i` and distributions installed by pip, each in
    its own layer: the view names their databases and layers; enter shows the rpm's file."""
    rroot = rpm_root(tmp_path, [("ls-tool", "1.0", 3000)])
    site = pip_target(tmp_path, "itsdangerous")
    img = ImageDef(
        [
            Layer(_tree(rroot, ""), "RUN rpm -i ls-tool.rpm"),
            Layer(_tree(site, "usr/lib/python3/site-packages"), "RUN pip install itsdangerous"),
        ]
    )
    image = explorer_data(write_docker_archive(img, tmp_path / "img.tar"))

    async def drive() -> tuple[dict[str, tuple[str, str]], str, list[str]]:
        app = LayerscopeApp(loaded=image)
        async with app.run_test(size=(180, 45)) as pilot:
            await pilot.pause()
            table = await _open_view(pilot)
            names = _cells(table, 0)
            rows = dict(
                zip(names, zip(_cells(table, 2), _cells(table, 3), strict=True), strict=True)
            )
            await pilot.press(
                *["down"]
                * names.index("ls-tool:noarch" if "ls-tool:noarch" in names else "ls-tool"),
                "enter",
            )
            await app.workers.wait_for_complete()
            await pilot.pause()
            view = app.screen.query_one(FileTreePane).tree_view
            shown = [r.path for r in map(view.row, range(len(view))) if not r.is_dir]
            return rows, app.screen.query_one("#filter", Input).value, shown

    with image:
        rows, pattern, shown = asyncio.run(drive())
    label = next(n for n in rows if n.startswith("ls-tool"))
    assert rows[label] == ("rpm", "0")
    assert rows["itsdangerous"] == ("python", "1")
    assert pattern == r"^/usr/share/ls\-tool/(?:data\.bin|readme)$"
    assert shown == ["/usr/share/ls-tool/data.bin", "/usr/share/ls-tool/readme"]


def test_packages_view_snapshot(snap_compare: Snap, image: OpenedImage) -> None:
    async def opened(pilot: Pilot[Any]) -> None:
        await _open_view(pilot)
        await pilot.press("down")

    app = LayerscopeApp(loaded=image)
    assert snap_compare(app, run_before=opened, terminal_size=(150, 42))


def test_the_explorer_loads_no_package_analysis_until_it_is_needed() -> None:
    import subprocess
    import sys

    code = (
        "import sys, layerscope.ui.app; "
        "print(sorted(m for m in sys.modules if m.startswith('layerscope.packages')))"
    )
    run = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert run.stdout.strip() == "[]"


def test_p_typed_in_the_filter_is_a_character(image: OpenedImage) -> None:
    async def drive() -> tuple[str, bool, bool]:
        app = LayerscopeApp(loaded=image)
        async with app.run_test(size=(180, 45)) as pilot:
            await pilot.pause()
            await pilot.press("slash", *"pip")
            await app.workers.wait_for_complete()
            await pilot.pause()
            explorer = app.screen
            assert isinstance(explorer, ExplorerScreen)
            value = explorer.query_one("#filter", Input).value
            return value, isinstance(app.screen, PackagesScreen), explorer.packages.started

    assert asyncio.run(drive()) == ("pip", False, False)
