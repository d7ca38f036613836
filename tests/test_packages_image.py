"""Packages across the layers of a real image built in the test: attribution, the byte
invariant, the reachability estimate, the SBOM, JSON and the CI rules, through the CLI."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from layerscope.cli import main
from layerscope.model import EntryKind
from layerscope.packages.analyse import analyse_packages
from layerscope.packages.attribution import ChangeKind
from test_packages_parsers import npm_install, pip_target, rpm_root

from helpers import opened
from imagebuilder import OPQ, ImageDef, Layer, Step, W, write_docker_archive
from imagebuilder import D as Dir
from imagebuilder import F as File

HOST_LIBS = Path("/lib/x86_64-linux-gnu")
PYTHON = Path("/usr/bin/python3")
SITE = "usr/local/lib/python3.11/dist-packages"


def _host(path: Path) -> bytes:
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    return Path(os.path.realpath(path)).read_bytes()


def _tree(root: Path, prefix: str) -> list[File]:
    out: list[File] = []
    for p in sorted(root.rglob("*")):
        rel = f"{prefix}/{p.relative_to(root)}".lstrip("/")
        if p.is_symlink():
            out.append(File(rel, kind="symlink", link=os.readlink(p)))
        elif p.is_dir():
            out.append(Dir(rel))
        elif p.is_file():
            out.append(File(rel, p.read_bytes()))
    return out


STATUS = """Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Version: 2.36-9
Depends: libgcc-s1

Package: coreutils
Status: install ok installed
Architecture: amd64
Version: 9.1-1
Pre-Depends: libc6 (>= 2.34)

Package: gcc-12
Status: install ok installed
Architecture: amd64
Version: 12.2.0-14
Depends: cpp-12 (= 12.2.0-14), libc6
"""


def _status(without: str = "") -> bytes:
    stanzas = [s for s in STATUS.split("\n\n") if not s.startswith(f"Package: {without}\n")]
    return ("\n\n".join(s.strip() for s in stanzas) + "\n").encode()


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("pkgimage")
    libc, ld, py = (
        _host(HOST_LIBS / "libc.so.6"),
        _host(HOST_LIBS / "ld-linux-x86-64.so.2"),
        _host(PYTHON),
    )
    rroot = rpm_root(tmp, [("ls-tool", "1.0", 3000)])
    site = pip_target(tmp, "itsdangerous", "markupsafe")
    modules = npm_install(tmp / "npm", "is-odd@3.0.1")
    lib = "usr/lib/x86_64-linux-gnu"
    base = [
        Dir("usr"),
        Dir("usr/bin"),
        Dir("usr/lib"),
        Dir(lib),
        Dir("usr/lib64"),
        File("bin", kind="symlink", link="usr/bin"),
        File("lib", kind="symlink", link="usr/lib"),
        File("lib64", kind="symlink", link="usr/lib64"),
        File(f"{lib}/libc.so.6", libc, 0o755),
        File(f"{lib}/ld-linux-x86-64.so.2", ld, 0o755),
        File("usr/lib64/ld-linux-x86-64.so.2", kind="symlink", link=f"/{lib}/ld-linux-x86-64.so.2"),
        File("usr/bin/python3.11", py, 0o755),
        File("usr/bin/python3", kind="symlink", link="python3.11"),
        File("usr/bin/true", b"\x7fELF-not-really" * 10, 0o755),
        File("usr/bin/gcc-12", b"g" * 5000, 0o755),
        Dir("etc"),
        Dir("etc/ld.so.conf.d"),
        File("etc/ld.so.conf", b"include /etc/ld.so.conf.d/*.conf\n"),
        File("etc/ld.so.conf.d/x86_64-linux-gnu.conf", f"/{lib}\n".encode()),
        Dir("var"),
        Dir("var/lib"),
        Dir("var/lib/dpkg"),
        Dir("var/lib/dpkg/info"),
        File("var/lib/dpkg/status", _status()),
        # dpkg lists paths as the package ships them: /lib/..., reached through the symlink
        File(
            "var/lib/dpkg/info/libc6:amd64.list",
            b"/.\n/lib\n/lib/x86_64-linux-gnu/libc.so.6\n/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n",
        ),
        File(
            "var/lib/dpkg/info/coreutils.list", b"/.\n/bin/true\n/lib/x86_64-linux-gnu/libc.so.6\n"
        ),
        File("var/lib/dpkg/info/gcc-12.list", b"/.\n/usr/bin/gcc-12\n"),
        File("var/cache/apt/pkgcache.bin", b"c" * 7000),
    ]
    app = [
        Dir("srv"),
        Dir("srv/app"),
        File("srv/app/run.py", b"#!/usr/bin/python3\nimport itsdangerous\nimport json\n", 0o755),
        *_tree(modules, "srv/app/node_modules"),
        *_tree(site, SITE),
    ]
    cleanup = [
        File("var/lib/dpkg/status", _status(without="gcc-12")),
        W("var/lib/dpkg/info/gcc-12.list"),
        W("usr/bin/gcc-12"),
        *[W(f"{SITE}/{p.name}") for p in site.glob("markupsafe*")],
    ]
    img = ImageDef(
        [
            Layer(base, "ADD rootfs.tar /"),
            Layer(_tree(rroot, ""), "RUN rpm -i ls-tool.rpm"),
            Layer(app, "COPY app /srv/app"),
            Layer(cleanup, "RUN apt-get purge gcc-12"),
            Step('CMD ["/srv/app/run.py"]'),
        ],
        extra_config={
            "config": {
                "Env": ["PATH=/usr/bin"],
                "Cmd": ["/srv/app/run.py"],
                "WorkingDir": "/srv/app",
            }
        },
    )
    return write_docker_archive(img, tmp / "img.tar")


def test_attribution_per_layer_with_bytes(image: Path) -> None:
    with opened(image) as o:
        report = analyse_packages(o)
    a = report.attribution
    usage = {u.package.name: u for u in a.usages}
    libc = usage["libc6"]
    assert libc.installed_in == 0 and libc.present
    assert libc.final_bytes == len(_host(HOST_LIBS / "libc.so.6")) + len(
        _host(HOST_LIBS / "ld-linux-x86-64.so.2")
    )
    gcc = usage["gcc-12"]
    assert (gcc.installed_in, gcc.removed_in, gcc.final_bytes, gcc.stored_bytes) == (0, 3, 0, 5000)
    removed = [c for c in a.changes_in(3) if c.kind is ChangeKind.REMOVED]
    assert {c.package.name for c in removed} == {"gcc-12", "markupsafe"}
    assert next(c for c in removed if c.package.name == "gcc-12").bytes == 5000
    assert usage["ls-tool"].installed_in == 1 and usage["ls-tool"].final_bytes == 3003
    assert usage["itsdangerous"].installed_in == 2 and usage["itsdangerous"].final_bytes > 0
    assert usage["is-odd"].installed_in == 2 and usage["is-number"].present
    added2 = {c.package.name for c in a.changes_in(2) if c.kind is ChangeKind.ADDED}
    assert {"itsdangerous", "markupsafe", "is-odd", "is-number"} <= added2


def test_owned_plus_unowned_is_every_final_byte_once(image: Path) -> None:
    with opened(image) as o:
        a = analyse_packages(o, reach=False).attribution
        live = o.analysis.tree.live
    total = sum(e.size for e in live.values() if e.kind is EntryKind.FILE)
    assert a.total_bytes == total
    assert a.owned_bytes + a.unowned_bytes == total
    # libc.so.6 is listed by libc6 and coreutils: it counts once in owned_bytes.
    assert a.shared_bytes == len(_host(HOST_LIBS / "libc.so.6"))
    per_package = sum(u.final_bytes for u in a.usages if u.present)
    assert per_package - a.shared_bytes <= a.owned_bytes <= per_package
    assert any(d.directory == "var/cache/apt" and d.bytes == 7000 for d in a.unowned)


def test_reach_follows_shebang_elf_and_imports(image: Path) -> None:
    with opened(image) as o:
        report = analyse_packages(o)
    r = report.reach
    assert r is not None
    assert r.program == "srv/app/run.py"
    assert "usr/bin/python3.11" in r.files
    assert "usr/lib/x86_64-linux-gnu/libc.so.6" in r.files  # DT_NEEDED via ld.so.conf.d
    reached = {k[1] for k in r.packages}
    assert {"itsdangerous", "libc6"} <= reached
    assert "ls-tool" not in reached and "is-odd" not in reached
    unreached = {u.package.name for u in report.unreached}
    assert {"ls-tool", "is-odd"} <= unreached


def test_cli_json_sbom_and_summary(
    image: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    out, sbom = tmp_path / "out.json", tmp_path / "sbom.json"
    assert main([str(image), "--json", str(out), "--sbom", str(sbom)]) == 0
    doc = json.loads(out.read_text())["layerscope"]["packages"]
    assert doc["ownedBytes"] + doc["unownedBytes"] == doc["totalFileBytes"]
    names = {p["name"]: p for p in doc["packages"]}
    assert names["gcc-12"]["removedIn"] == 3 and names["ls-tool"]["reached"] is False
    assert doc["reach"]["estimate"].startswith("a static guess")
    text = sbom.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    comps = {c["name"]: c for c in bom["components"]}
    assert comps["libc6"]["purl"] == "pkg:deb/debian/libc6@2.36-9?arch=amd64"
    assert comps["itsdangerous"]["purl"].startswith("pkg:pypi/itsdangerous@")
    assert {"name": "layerscope:layer", "value": "1"} in comps["ls-tool"]["properties"]
    assert "gcc-12" not in comps
    assert main([str(image), "--summary"]) == 0
    shown = capsys.readouterr().out
    assert "not reached from the entrypoint:" in shown and "a static guess" in shown
    assert "- gcc-12:amd64 12.2.0-14 [dpkg] 5.0 kB (still stored)" in shown


def test_ci_package_rules(
    image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / ".layerscope.yaml"
    cfg.write_text("packages:\n  deny: [coreutils, 'gcc-*']\n")
    assert main([str(image), "--ci", "--lowestEfficiency", "0"]) == 1
    assert (
        "FAIL: packages.deny: denied packages in the final image: coreutils:amd64"
        in capsys.readouterr().out
    )
    cfg.write_text("packages:\n  deny: ['gcc-*']\n  maxUnreachedBytes: 1GB\n")
    assert main([str(image), "--ci", "--lowestEfficiency", "0"]) == 0
    assert "PASS: packages.maxUnreachedBytes" in capsys.readouterr().out
    cfg.write_text("packages:\n  maxUnreachedBytes: lots\n")
    assert main([str(image), "--ci"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "maxUnreachedBytes" in err and ".layerscope.yaml" in err


def test_ci_without_package_rules_reads_no_package_database(
    image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layerscope.packages import collect

    monkeypatch.chdir(tmp_path)
    calls: list[int] = []
    real = collect.read_contents
    monkeypatch.setattr(collect, "read_contents", lambda *a: calls.append(1) or real(*a))
    assert main([str(image), "--ci", "--lowestEfficiency", "0"]) == 0
    assert calls == []


def test_no_package_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = write_docker_archive(ImageDef([Layer([File("hello", b"hi")])]), tmp_path / "e.tar")
    assert main([str(img), "--summary"]) == 0
    out = capsys.readouterr().out
    assert "no package database found" in out
    assert shutil.which("true")  # the summary above ran without any package tool on the image
    _ = OPQ
