"""`layerscope diff`: the comparison of real archives built here and of the real fixtures."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from layerscope.compare.diff import Extras, compare, finding_key
from layerscope.compare.document import to_document
from layerscope.compare.gate import Growth, evaluate, parse_growth, passed
from layerscope.compare.markdown import COMMENT_LIMIT, render_markdown
from layerscope.compare.model import (
    Aspect,
    FindingChange,
    LayerSide,
    PackageChange,
    PathChange,
)
from layerscope.compare.summary import key_directories
from layerscope.compare.text import render_text
from layerscope.errors import ConfigError
from layerscope.findings.model import Category, Finding, FindingSet, PathRef, PathState, Rule
from layerscope.findings.model import Severity as Sev

from conftest import REAL, require
from helpers import opened
from imagebuilder import D, F, ImageDef, Layer, write_docker_archive, write_oci_layout

BASE = Layer([D("etc"), F("etc/os-release", b"ID=test\n"), D("bin"), F("bin/sh", b"x" * 5000)])
APP_A = Layer(
    [
        D("app"),
        F("app/main.py", b"print('a')\n"),
        F("app/old.py", b"old" * 100),
        F("app/run", b"#!/bin/sh\n", mode=0o644),
        F("app/owned", b"o", uid=0),
        F("app/link", kind="symlink", link="main.py"),
        F("app/thing", b"file"),
        D("app/cache"),
        F("app/cache/a.bin", b"a" * 3000),
        F("app/cache/b.bin", b"b" * 4000),
    ],
    "COPY app /app",
)
APP_B = Layer(
    [
        D("app"),
        F("app/main.py", b"print('b, longer')\n"),
        F("app/run", b"#!/bin/sh\n", mode=0o755),
        F("app/owned", b"o", uid=1000, gid=1000),
        F("app/link", kind="symlink", link="run"),
        D("app/thing"),
        F("app/new.txt", b"n" * 20_000),
    ],
    "COPY app /app",
)
CONFIG = Layer([F("etc/app.conf", b"k=v\n")], "RUN configure")


def _images(tmp: Path) -> tuple[Path, Path]:
    a = ImageDef([BASE, APP_A, CONFIG], tag="test/app:1")
    b = ImageDef([BASE, APP_B, CONFIG], tag="test/app:2")
    return (
        write_docker_archive(a, tmp / "a.tar"),
        write_oci_layout([b], tmp / "b-oci", compression="gzip"),
    )


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _images(tmp_path_factory.mktemp("pair"))


def test_docker_archive_and_oci_twins_do_not_differ() -> None:
    docker = require(REAL / "busybox-buildah.docker-archive.tar")
    oci = require(REAL / "busybox-buildah.oci-archive.tar")
    with opened(docker) as a, opened(oci) as b:
        d = compare(a, b)
    assert d.identical
    assert d.paths == () and d.directories == ()
    assert {r.side for r in d.layers.rows} == {LayerSide.SHARED}
    assert d.layers.shared_prefix == d.a.layers == d.b.layers == 9
    assert d.layers.pull_bytes == 0 and d.layers.pull_layers == 0
    assert d.growth == 0 and d.a.files == d.b.files
    # The stored sizes differ (tar vs gzip): the comparison says so without calling it a change.
    assert d.a.compressed_size != d.b.compressed_size
    assert render_text(d).splitlines()[3].startswith("No difference")


def test_paths_added_removed_changed_with_aspects(pair: tuple[Path, Path]) -> None:
    with opened(pair[0]) as a, opened(pair[1]) as b:
        d = compare(a, b)
    by_path = {p.path: p for p in d.paths}
    assert by_path["/app/new.txt"].change is PathChange.ADDED
    assert by_path["/app/new.txt"].delta == 20_000
    for gone in ("/app/old.py", "/app/cache", "/app/cache/a.bin", "/app/cache/b.bin"):
        assert by_path[gone].change is PathChange.REMOVED, gone
    assert by_path["/app/main.py"].aspects == (Aspect.CONTENT,)
    assert by_path["/app/run"].aspects == (Aspect.MODE,)
    assert by_path["/app/owned"].aspects == (Aspect.OWNER,)
    assert by_path["/app/link"].aspects == (Aspect.LINK,)
    assert by_path["/app/thing"].aspects == (Aspect.TYPE,)
    # Unchanged paths (the base, etc/app.conf, directories whose attributes match) are absent.
    assert "/etc/app.conf" not in by_path and "/bin/sh" not in by_path and "/app" not in by_path
    # Largest byte change first.
    assert d.paths[0].path == "/app/new.txt"
    assert [abs(p.delta) for p in d.paths] == sorted((abs(p.delta) for p in d.paths), reverse=True)
    assert d.count(PathChange.ADDED) == 1 and d.count(PathChange.REMOVED) == 4
    # Directory summaries: /app carries every change; its byte delta is the sum.
    app = next(x for x in d.directories if x.path == "/app")
    assert app.delta == sum(p.delta for p in d.paths)
    assert (app.added, app.removed, app.changed) == (1, 4, 5)
    cache = next(x for x in d.directories if x.path == "/app/cache")
    assert cache.delta == -7000 and cache.size_a == 7000 and cache.size_b == 0
    assert d.b.files - d.a.files == 1 + 0 - 3 - 1  # new.txt; old.py, a.bin, b.bin, thing->dir


def test_layers_shared_prefix_reuse_and_pull_bytes(pair: tuple[Path, Path]) -> None:
    with opened(pair[0]) as a, opened(pair[1]) as b:
        d = compare(a, b)
    sides = [(r.side, r.index_a, r.index_b) for r in d.layers.rows]
    assert sides == [
        (LayerSide.SHARED, 0, 0),
        (LayerSide.ONLY_A, 1, None),
        (LayerSide.ONLY_B, None, 1),
        (LayerSide.REUSED, 2, 2),  # same content at the same height above a new layer
    ]
    assert d.layers.shared_prefix == 1
    # Only B's app layer must be pulled: its gzip blob size, as the OCI layout records it.
    assert d.layers.pull_layers == 1
    assert d.layers.pull_bytes == b.image.layers[1].compressed_size
    assert d.layers.pull_compressed
    # The other way round, A's layers are plain tar: the figure says it is not compressed.
    with opened(pair[1]) as b2, opened(pair[0]) as a2:
        back = compare(b2, a2)
    assert back.layers.pull_bytes == a2.image.layers[1].compressed_size
    assert not back.layers.pull_compressed


def test_directory_summary_skips_root_and_single_child_chains(tmp_path: Path) -> None:
    deep = Layer([F("usr/lib/python3/site/pkg/mod.py", b"m" * 999)])
    a = write_docker_archive(ImageDef([BASE]), tmp_path / "a.tar")
    b = write_docker_archive(ImageDef([BASE, deep]), tmp_path / "b.tar")
    with opened(a) as ia, opened(b) as ib:
        d = compare(ia, ib)
    assert [x.path for x in key_directories(d, 10)] == ["/usr/lib/python3/site/pkg"]


def _rule(rid: str, sev: Sev) -> Rule:
    return Rule(rid, Category.SECURITY, sev, f"rule {rid}", "fix it")


def _finding(rid: str, sev: Sev, path: str, layer: int) -> Finding:
    ref = PathRef(path, layer, 10, PathState.PRESENT)
    return Finding(
        _rule(rid, sev), f"{rid} at {path} in layer {layer}", (layer,), "RUN x", "fix", (ref,)
    )


@dataclass(frozen=True)
class Pkg:
    name: str
    version: str
    ecosystem: str


def test_findings_new_and_fixed_by_rule_and_path_not_layer(pair: tuple[Path, Path]) -> None:
    fa = FindingSet.of(
        [_finding("LS-S001", Sev.HIGH, "/app/.env", 3), _finding("LS-S002", Sev.LOW, "/x", 1)]
    )
    fb = FindingSet.of(
        [_finding("LS-S001", Sev.HIGH, "/app/.env", 7), _finding("LS-S003", Sev.CRITICAL, "/k", 2)]
    )
    assert finding_key(fa.findings[0]) == finding_key(fb.findings[1])
    with opened(pair[0]) as a, opened(pair[1]) as b:
        d = compare(a, b, Extras(findings=fa), Extras(findings=fb))
        plain = compare(a, b)
    assert d.findings is not None and plain.findings is None
    assert [(x.change, x.finding.rule.id) for x in d.findings] == [
        (FindingChange.NEW, "LS-S003"),
        (FindingChange.FIXED, "LS-S002"),
    ]
    assert not passed(evaluate(d, None, Sev.HIGH))  # LS-S003 is new and critical
    assert not passed(evaluate(d, None, Sev.CRITICAL))
    only_low = compare(a.analysis, b.analysis, Extras(findings=fb), Extras(findings=fa))
    assert passed(evaluate(only_low, None, Sev.MEDIUM))
    with pytest.raises(ConfigError, match="no findings"):
        evaluate(plain, None, Sev.HIGH)
    doc = to_document(d)["layerscope"]["diff"]
    assert doc["findings"][0]["change"] == "new" and doc["findings"][0]["ruleId"] == "LS-S003"
    text = render_text(d)
    assert "Findings: 1 new, 1 fixed" in text


def test_packages_added_removed_upgraded(pair: tuple[Path, Path]) -> None:
    pa = (Pkg("libssl3", "3.0.1", "deb"), Pkg("pip", "23.0", "deb"), Pkg("flask", "2.0", "pypi"))
    pb = (
        Pkg("libssl3", "3.0.2", "deb"),
        Pkg("flask", "2.0", "pypi"),
        Pkg("gunicorn", "22", "pypi"),
    )
    with opened(pair[0]) as a, opened(pair[1]) as b:
        d = compare(a, b, Extras(packages=pa), Extras(packages=pb))
    assert d.packages is not None
    assert [(p.change, p.name, p.version_a, p.version_b) for p in d.packages] == [
        (PackageChange.ADDED, "gunicorn", "", "22"),
        (PackageChange.UPGRADED, "libssl3", "3.0.1", "3.0.2"),
        (PackageChange.REMOVED, "pip", "23.0", ""),
    ]
    md = render_markdown(d)
    assert "Packages: 1 added, 1 removed, 1 upgraded" in md


def test_growth_gate_bytes_and_percent(pair: tuple[Path, Path]) -> None:
    with opened(pair[0]) as a, opened(pair[1]) as b:
        d = compare(a, b)
    assert d.growth > 0
    assert parse_growth("5%") == Growth(limit_ratio=0.05)
    assert parse_growth("10MB") == Growth(limit_bytes=10_000_000)
    assert passed(evaluate(d, Growth(limit_bytes=d.growth), None))  # strictly above fails
    assert not passed(evaluate(d, Growth(limit_bytes=d.growth - 1), None))
    ratio = d.growth / d.a.size
    assert passed(evaluate(d, Growth(limit_ratio=ratio * 1.01), None))
    assert not passed(evaluate(d, Growth(limit_ratio=ratio * 0.99), None))
    for bad in ("ten", "-5%", "5%%", "12XB"):
        with pytest.raises(ConfigError, match="--max-growth"):
            parse_growth(bad)


def test_markdown_renders_headline_tables_and_details(pair: tuple[Path, Path]) -> None:
    with opened(pair[0]) as a, opened(pair[1]) as b:
        d = compare(a, b)
    md = render_markdown(d)
    parser = MarkdownIt("commonmark").enable("table")
    tokens = parser.parse(md)
    assert tokens[0].type == "heading_open" and tokens[0].tag == "h2"
    assert sum(1 for t in tokens if t.type == "table_open") == 4  # summary, layers, dirs, paths
    html = parser.render(md)
    assert html.count("<details>") == 2 and html.count("</details>") == 2
    # Tables inside <details> are still tables (a blank line after <summary>).
    assert html.index("<details>") < html.index("<table>", html.index("<details>"))
    # Every row of a table has as many cells as its header: no cell was split by a "|".
    for table in html.split("<table>")[1:]:
        body = table.split("</table>")[0]
        header = len(re.findall(r"<th[ >]", body.split("</thead>")[0]))
        for row in body.split("</thead>")[1].split("<tr>")[1:]:
            assert len(re.findall(r"<td[ >]", row)) == header
    assert "`/app/new.txt`" in md and "<code>/app/new.txt</code>" in html


def test_markdown_escapes_pipes_and_backticks_in_paths(tmp_path: Path) -> None:
    odd = Layer([F("srv/a|b`c.txt", b"z" * 10)])
    a = write_docker_archive(ImageDef([BASE]), tmp_path / "a.tar")
    b = write_docker_archive(ImageDef([BASE, odd]), tmp_path / "b.tar")
    with opened(a) as ia, opened(b) as ib:
        md = render_markdown(compare(ia, ib))
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert "<code>/srv/a|b`c.txt</code>" in html


def test_markdown_stays_under_the_comment_limit(tmp_path: Path) -> None:
    many = Layer(
        [F(f"data/{'d' * 40}/{i:05d}-{'n' * 60}.bin", b"x" * (i + 1)) for i in range(3000)]
    )
    a = write_docker_archive(ImageDef([BASE]), tmp_path / "a.tar")
    b = write_docker_archive(ImageDef([BASE, many]), tmp_path / "b.tar")
    with opened(a) as ia, opened(b) as ib:
        d = compare(ia, ib)
    md = render_markdown(d)
    assert len(md) <= COMMENT_LIMIT
    assert "more paths not shown" in md
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert html.count("<details>") == html.count("</details>") == 2
    assert "00000-" in md or "02999-" in md  # the largest changes are the ones kept


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "layerscope", "diff", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_cli_formats_gate_and_exit_codes(pair: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = str(pair[0]), f"oci://{pair[1]}"
    text = run_cli(a, b)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("A: test/app:1") and "+ " in text.stdout
    js = run_cli(a, b, "--format", "json")
    doc = json.loads(js.stdout)["layerscope"]["diff"]
    assert doc["pathCounts"] == {"added": 1, "removed": 4, "changed": 5}
    assert doc["layers"]["sharedPrefix"] == 1
    assert doc["packages"] == []  # the package readers ran; these images have no database
    bare = run_cli(a, b, "--format", "json", "--no-packages")
    assert json.loads(bare.stdout)["layerscope"]["diff"]["packages"] is None
    out = tmp_path / "d.json"
    md = run_cli(a, b, "--format", "markdown", "--json", str(out), "--max-growth", "1%")
    assert md.returncode == 1
    assert md.stdout.startswith("## layerscope diff") and "**FAIL: max-growth" in md.stdout
    assert json.loads(out.read_text())["layerscope"]["diff"]["gate"][0]["status"] == "FAIL"
    ok = run_cli(a, b, "--max-growth", "10MB")
    assert ok.returncode == 0 and "Result:PASS" in ok.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["{a}", "{missing}"], "missing.tar"),
        (["{a}", "{b}", "--max-growth", "lots"], "--max-growth"),
        (["{a}", "{b}", "--fail-on-new", "severe"], "not a severity"),
        (["{a}", "{b}", "--json", "{tmp}/no/such/dir/x.json"], "does not exist"),
        (["{a}", "{b}", "--json", "-", "--format", "markdown"], "both write to stdout"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(
    pair: tuple[Path, Path], tmp_path: Path, args: list[str], needle: str
) -> None:
    names = {"a": str(pair[0]), "b": str(pair[1]), "missing": str(tmp_path / "missing.tar")}
    proc = run_cli(*(x.format(**names, tmp=tmp_path) for x in args))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and needle in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_cli_help_names_every_option() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    for option in ("--format", "--json", "--html", "--max-growth", "--fail-on-new", "--platform"):
        assert option in proc.stdout


PYAPP = os.environ.get("LAYERSCOPE_PYAPP", "")


@pytest.mark.skipif(
    not (PYAPP and (Path(PYAPP) / "pyapp-fixed.oci-archive.tar").exists()),
    reason="LAYERSCOPE_PYAPP (a directory with the pyapp build) is not set",
)
def test_pyapp_bloated_vs_fixed() -> None:
    out = Path(PYAPP)
    with (
        opened(out / "pyapp-bloated.docker-archive.tar") as a,
        opened(out / "pyapp-fixed.oci-archive.tar") as b,
    ):
        d = compare(a, b)
        # Each figure checked against the two images' own analyses, never fixed numbers.
        assert d.growth == b.analysis.dive.size_bytes - a.analysis.dive.size_bytes < 0
        live_a, live_b = a.analysis.tree.live, b.analysis.tree.live
    assert d.layers.shared_prefix >= 1  # the debootstrap base
    removed = {p.path for p in d.paths if p.change is PathChange.REMOVED}
    assert {"/" + p for p in live_a.keys() - live_b.keys()} >= removed
    assert any(p.startswith("/var/cache/apt/") for p in removed)
    assert any(x.path == "/var/cache/apt" and x.delta < 0 for x in d.directories)
    # The setuid helper the bloated build installs is gone; the app's files are unchanged.
    assert "/usr/local/bin/app-helper" in removed
    assert not [
        p for p in d.paths if p.path.startswith("/srv/app/") and p.path != "/srv/app/build.log"
    ]
    assert d.b.efficiency > d.a.efficiency


def _status(*packages: tuple[str, str]) -> F:
    stanzas = "\n".join(
        f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {ver}\n"
        for name, ver in packages
    )
    return F("var/lib/dpkg/status", stanzas.encode())


def test_cli_packages_from_the_real_dpkg_reader(tmp_path: Path) -> None:
    a = ImageDef([BASE, Layer([_status(("libfoo", "1.0"), ("bar", "2.0"))])], tag="t/p:1")
    b = ImageDef([BASE, Layer([_status(("libfoo", "1.1"), ("baz", "3"))])], tag="t/p:2")
    pa = write_docker_archive(a, tmp_path / "a.tar")
    pb = write_docker_archive(b, tmp_path / "b.tar")
    proc = run_cli(str(pa), str(pb), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)["layerscope"]["diff"]["packages"]
    assert [
        (p["change"], p["ecosystem"], p["name"], p["versionA"], p["versionB"]) for p in got
    ] == [
        ("added", "dpkg", "baz", "", "3"),
        ("upgraded", "dpkg", "libfoo", "1.0", "1.1"),
        ("removed", "dpkg", "bar", "2.0", ""),
    ]
    text = run_cli(str(pa), str(pb)).stdout
    assert "upgraded  dpkg:libfoo  1.0 -> 1.1" in text


def test_cli_archive_against_a_registry_copy_is_no_difference(tmp_path: Path) -> None:
    from servers import skopeo_copy, start_registry

    archive = require(REAL / "busybox-buildah.docker-archive.tar")
    registry = start_registry(tmp_path / "registry")
    try:
        skopeo_copy(
            f"docker-archive:{archive}:docker.io/imglab/busybox-buildah:1",
            registry,
            "busybox:1",
            "--dest-compress", "--dest-compress-format", "zstd",
        )  # fmt: skip
        proc = run_cli(str(archive), f"registry://{registry.host}/busybox:1", "--format", "json")
    finally:
        registry.stop()
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)["layerscope"]["diff"]
    assert doc["identical"] and doc["paths"] == [] and doc["layers"]["pullBytes"] == 0
    assert doc["b"]["source"].startswith("registry://")
    assert doc["a"]["compressedSizeBytes"] != doc["b"]["compressedSizeBytes"]  # tar vs zstd
