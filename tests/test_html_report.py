"""The HTML report in a real browser: Debian's Chromium through chromedriver, headless, offline.

Screenshots are saved as artifacts under pytest's temporary directory (the path is printed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from layerscope.export import to_document
from layerscope.html.report import image_report, write_html
from layerscope.html.tree import finding_paths, image_tree

from conftest import REAL, require
from helpers import analysed
from imagebuilder import D, F, ImageDef, Layer, write_docker_archive

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="layerscope-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1800",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.implicitly_wait(5)  # the treemap is drawn on the first animation frame
    # The page must need no network at all: the browser has none.
    driver.set_network_conditions(
        offline=True, latency=0, download_throughput=0, upload_throughput=0
    )
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def layerscope(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "layerscope", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


APP = Layer(
    [
        D("srv"),
        D("srv/app"),
        F("srv/app/main.py", b"print('hi')\n" * 300),
        F("srv/app/data.bin", b"d" * 400_000),
        D("srv/app/static"),
        F("srv/app/static/site.css", b"c" * 90_000),
        F("srv/app/build-cache.tar", b"t" * 250_000),
    ],
    "COPY app /srv/app",
)
CLEAN = Layer([F("srv/app/.wh.build-cache.tar", b"", mode=0)], "RUN rm build-cache.tar")
BASE = Layer(
    [
        D("usr"),
        D("usr/bin"),
        F("usr/bin/tool", b"x" * 300_000),
        D("etc"),
        F("etc/os-release", b"ID=t\n"),
    ],
    "ADD rootfs.tar /",
)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("reports")
    old = Layer([F("usr/bin/old", b"o" * 50_000), F("etc/os-release", b"ID=old\n")], "RUN old")
    a = write_docker_archive(ImageDef([BASE, old], tag="demo/app:1"), tmp / "a.tar")
    b = write_docker_archive(ImageDef([BASE, APP, CLEAN], tag="demo/app:2"), tmp / "b.tar")
    out = {"image": tmp / "image.html", "diff": tmp / "diff.html", "busybox": tmp / "busybox.html"}
    analysis = analysed(b)
    findings = [
        {
            "ruleId": "LS-S001",
            "severity": "high",
            "title": "a secret",
            "paths": ["/srv/app/main.py"],
        }
    ]
    doc = to_document(analysis, extensions={"findings": findings})
    out["findings"] = tmp / "findings.html"
    write_html(image_report(doc, image_tree(analysis, finding_paths(doc))), str(out["findings"]))
    for args in (
        [str(b), "--html", str(out["image"]), "--json", str(tmp / "image.json")],
        [str(require(REAL / "busybox-buildah.docker-archive.tar")), "--html", str(out["busybox"])],
        ["diff", str(a), str(b), "--html", str(out["diff"]), "--json", str(tmp / "diff.json")],
    ):
        proc = layerscope(*args)
        assert proc.returncode == 0, proc.stderr
    return out


def _open(browser: Any, page: Path) -> None:
    browser.get(page.as_uri())
    browser.find_element("css selector", "#treemap .tm")  # drawn


def _shot(browser: Any, page: Path, name: str) -> Path:
    path = page.parent / f"{name}.png"
    browser.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def _errors(browser: Any) -> list[dict[str, Any]]:
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def _shown_dirs(browser: Any) -> int:
    """How many child directories (with bytes) the tree has where the treemap stands now."""
    script = (
        "const t = JSON.parse(document.getElementById('report-data').textContent).tree;"
        "let n = t; for (const name of arguments[0]) n = n[5].find(k => k[0] === name);"
        "return n[5].filter(k => Array.isArray(k[5]) && k[1] > 0).length;"
    )
    here = [b.text for b in browser.find_elements("css selector", "#crumbs button")][1:]
    return int(browser.execute_script(script, here))


def test_self_contained_and_no_console_errors(browser: Any, reports: dict[str, Path]) -> None:
    for name, page in reports.items():
        html = page.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), name
        assert "<script src" not in html and "<link" not in html
        _open(browser, page)
        assert _errors(browser) == [], name
        # Nothing was fetched: no resource at all beyond the page itself.
        assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
        assert browser.find_element("css selector", "#facts").is_displayed()
        _shot(browser, page, f"{name}-overview")


def test_one_rectangle_per_directory_and_click_zooms(
    browser: Any, reports: dict[str, Path]
) -> None:
    page = reports["image"]
    _open(browser, page)
    rects = browser.find_elements("css selector", "#treemap > .tm[data-kind='dir']")
    assert len(rects) == _shown_dirs(browser) == 3  # srv, usr, etc
    crumbs = browser.find_element("css selector", "#crumbs").text
    srv = browser.find_element("css selector", "#treemap > .tm[data-path='/srv']")
    srv.click()
    here = browser.find_element("css selector", "#crumbs button.here").text
    assert here == "srv" and browser.find_element("css selector", "#crumbs").text != crumbs
    assert len(browser.find_elements("css selector", "#treemap > .tm[data-kind='dir']")) == 1
    browser.find_element("css selector", "#treemap > .tm[data-path='/srv/app']").click()
    assert browser.find_element("css selector", "#crumbs button.here").text == "app"
    names = {
        e.get_attribute("data-path")
        for e in browser.find_elements("css selector", "#treemap > .tm")
    }
    assert names == {"/srv/app/data.bin", "/srv/app/static", "/srv/app/main.py"}
    assert len(
        browser.find_elements("css selector", "#treemap > .tm[data-kind='dir']")
    ) == _shown_dirs(browser)
    _shot(browser, page, "image-zoomed")
    browser.find_element("css selector", "#crumbs button[data-depth='0']").click()
    assert browser.find_element("css selector", "#crumbs button.here").text == "/ (root)"
    assert len(browser.find_elements("css selector", "#treemap > .tm[data-kind='dir']")) == 3
    assert _errors(browser) == []


def test_search_finds_a_path_and_shows_it(browser: Any, reports: dict[str, Path]) -> None:
    page = reports["image"]
    _open(browser, page)
    box = browser.find_element("css selector", "#search")
    box.send_keys("site.css")
    hit = browser.find_element(
        "css selector", "#search-results li[data-path='/srv/app/static/site.css']"
    )
    assert hit.is_displayed()
    _shot(browser, page, "image-search")
    hit.click()
    assert browser.find_element("css selector", "#crumbs button.here").text == "static"
    rect = browser.find_element(
        "css selector", "#treemap .tm[data-path='/srv/app/static/site.css']"
    )
    assert "hit" in rect.get_attribute("class").split()
    box.clear()
    box.send_keys("no-such-thing")
    assert browser.find_element("css selector", "#search-results li.none").text == "No path matches"


def test_colour_toggle_and_layers_chart(browser: Any, reports: dict[str, Path]) -> None:
    page = reports["image"]
    _open(browser, page)
    bars = browser.find_elements("css selector", "#layer-bars .fill")
    assert len(bars) == 3
    assert "COPY app /srv/app" in browser.find_element("css selector", "#layer-bars").text

    def colours() -> dict[str, str]:
        return {
            e.get_attribute("data-path"): e.get_attribute("data-colour")
            for e in browser.find_elements("css selector", "#treemap > .tm")
        }

    by_layer = colours()
    assert by_layer["/srv"] != by_layer["/usr"]  # written by different layers
    browser.find_element("css selector", "#colour-modes button[data-mode='waste']").click()
    by_waste = colours()
    # build-cache.tar was deleted by a later layer: /srv holds waste, /usr and /etc none.
    assert by_waste["/usr"] == by_waste["/etc"] == "#dfe3e8" != by_waste["/srv"]
    legend = browser.find_element("css selector", "#legend").text
    assert "no waste" in legend
    # No findings in this image: no findings colouring to offer.
    modes = browser.find_elements("css selector", "#colour-modes button")
    assert [b.get_attribute("data-mode") for b in modes] == ["layer", "waste"]
    _shot(browser, page, "image-waste")


def test_findings_colouring_and_table(browser: Any, reports: dict[str, Path]) -> None:
    page = reports["findings"]
    _open(browser, page)
    browser.find_element("css selector", "#colour-modes button[data-mode='findings']").click()
    rect = browser.find_element("css selector", "#treemap > .tm[data-path='/srv']")
    assert rect.get_attribute("data-colour") == "#b42318"
    other = browser.find_element("css selector", "#treemap > .tm[data-path='/usr']")
    assert other.get_attribute("data-colour") == "#dfe3e8"
    tables = browser.find_elements("css selector", "section.panel h2")
    assert any(t.text.startswith("Findings") for t in tables)
    assert "a secret" in browser.find_element("css selector", "body").text
    assert _errors(browser) == []
    _shot(browser, page, "image-findings")


def test_diff_report_colours_by_change(browser: Any, reports: dict[str, Path]) -> None:
    page = reports["diff"]
    _open(browser, page)
    doc = json.loads((page.parent / "diff.json").read_text())["layerscope"]["diff"]
    assert browser.find_element("css selector", "#headline").text == doc["headline"]
    same, changed, added, removed = "#c9ced6", "#f0b429", "#3fb872", "#e5574b"

    def colour(path: str) -> str:
        rect = browser.find_element("css selector", f"#treemap > .tm[data-path='{path}']")
        return str(rect.get_attribute("data-colour"))

    assert colour("/srv") == added  # every byte under it is new
    assert colour("/etc") == changed  # os-release changed
    assert colour("/usr") == same  # most of its bytes did not change
    browser.find_element("css selector", "#treemap > .tm[data-path='/usr']").click()
    browser.find_element("css selector", "#treemap > .tm[data-path='/usr/bin']").click()
    assert colour("/usr/bin/old") == removed and colour("/usr/bin/tool") == same
    legend = browser.find_element("css selector", "#legend").text
    assert all(word in legend for word in ("unchanged", "changed", "added", "removed"))
    _shot(browser, page, "diff-zoomed")
    browser.find_element("css selector", "#crumbs button[data-depth='0']").click()
    assert len(browser.find_elements("css selector", "#treemap > .tm[data-kind='dir']")) == 3
    assert _errors(browser) == []
