"""Package database parsers on real databases: rpm made by rpmbuild + rpm, dpkg as dpkg wrote it
on this machine, Python dists installed by pip, npm packages installed by npm."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layerscope.packages import apk, dpkg, npm, python, rpm
from layerscope.packages.model import Ecosystem, PackageError

SPEC = """Name: {name}
Version: {version}
Release: 3
Summary: a package made by the test
License: MIT
BuildArch: noarch
Requires: {requires}
%description
made by the test
%install
mkdir -p %{{buildroot}}/usr/share/{name}
head -c {size} /dev/zero > %{{buildroot}}/usr/share/{name}/data.bin
printf 'hi\\n' > %{{buildroot}}/usr/share/{name}/readme
%files
%dir /usr/share/{name}
/usr/share/{name}/data.bin
/usr/share/{name}/readme
"""


def build_rpm(work: Path, name: str, version: str, size: int, requires: str = "/bin/sh") -> Path:
    spec = work / f"{name}.spec"
    spec.write_text(SPEC.format(name=name, version=version, size=size, requires=requires))
    subprocess.run(
        [
            "rpmbuild",
            "-bb",
            "--define",
            f"_topdir {work}/top",
            "--define",
            f"_rpmdir {work}/out",
            str(spec),
        ],
        check=True,
        capture_output=True,
    )
    return next((work / "out" / "noarch").glob(f"{name}-{version}-*.rpm"))


def rpm_root(tmp_path: Path, packages: list[tuple[str, str, int]]) -> Path:
    """A root filesystem with the packages installed by rpm into its sqlite rpmdb."""
    if shutil.which("rpmbuild") is None or shutil.which("rpm") is None:
        pytest.skip("rpm and rpmbuild are not installed (apt-get install rpm)")
    backend = subprocess.run(
        ["rpm", "--eval", "%_db_backend"], check=False, capture_output=True, text=True
    )
    if backend.stdout.strip() != "sqlite":
        pytest.skip(f"this rpm's database backend is {backend.stdout.strip()!r}, not sqlite")
    root = tmp_path / "root"
    files = [str(build_rpm(tmp_path, n, v, s)) for n, v, s in packages]
    subprocess.run(
        ["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm", "-i", "--nodeps", *files],
        check=True,
        capture_output=True,
    )
    return root


def test_rpm_sqlite_database_made_by_rpm(tmp_path: Path) -> None:
    root = rpm_root(tmp_path, [("ls-alpha", "1.2", 5000), ("ls-beta", "0.9", 70)])
    data = (root / "var/lib/rpm/rpmdb.sqlite").read_bytes()
    pkgs = {p.name: p for p in rpm.parse_sqlite(data, "var/lib/rpm/rpmdb.sqlite")}
    assert set(pkgs) == {"ls-alpha", "ls-beta"}
    alpha = pkgs["ls-alpha"]
    assert alpha.ecosystem is Ecosystem.RPM
    assert (alpha.version, alpha.arch) == ("1.2-3", "noarch")
    assert set(alpha.files) == {"usr/share/ls-alpha/data.bin", "usr/share/ls-alpha/readme"}
    assert pkgs["ls-beta"].version == "0.9-3"


def test_rpm_errors_name_the_file() -> None:
    with pytest.raises(PackageError, match=r"var/lib/rpm/rpmdb\.sqlite: not an SQLite database"):
        rpm.parse_sqlite(b"\0" * 100, "var/lib/rpm/rpmdb.sqlite")
    with pytest.raises(PackageError, match="header 7"):
        rpm.parse_header(b"\0\0\0\x05\0\0\0\x10", "header 7")
    assert rpm.legacy_backend("var/lib/rpm/Packages") == "Berkeley DB"
    assert rpm.legacy_backend("usr/lib/sysimage/rpm/Packages.db") == "ndb"
    assert rpm.legacy_backend("var/lib/rpm/rpmdb.sqlite") is None


HOST_DPKG = Path("/var/lib/dpkg")


def test_dpkg_status_and_lists_as_dpkg_wrote_them_on_this_machine() -> None:
    if not (HOST_DPKG / "status").is_file():
        pytest.skip("this machine has no dpkg database")
    files = {"var/lib/dpkg/status": (HOST_DPKG / "status").read_bytes()}
    for lst in (HOST_DPKG / "info").glob("*.list"):
        files[f"var/lib/dpkg/info/{lst.name}"] = lst.read_bytes()
    pkgs = {p.label: p for p in dpkg.parse_database(files)}
    stanzas = dpkg.parse_stanzas(files["var/lib/dpkg/status"])
    installed = [s for s in stanzas if s.get("Status", "").endswith(" installed")]
    assert len(pkgs) == len(installed)
    me = next(p for p in pkgs.values() if p.name == "dpkg")
    assert "usr/bin/dpkg" in me.files
    assert me.version == next(s["Version"] for s in installed if s["Package"] == "dpkg")
    # Multi-Arch: same packages keep their list as NAME:ARCH.list; those are found too.
    same = [s for s in installed if s.get("Multi-Arch") == "same"]
    for s in same[:20]:
        assert pkgs[f"{s['Package']}:{s['Architecture']}"].files, s["Package"]


def test_dpkg_status_d_as_distroless_has_it() -> None:
    stanza = b"Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n"
    sums = b"0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libssl.so.3\n"
    files = {"var/lib/dpkg/status.d/libssl3": stanza, "var/lib/dpkg/status.d/libssl3.md5sums": sums}
    (p,) = dpkg.parse_database(files)
    assert (p.name, p.version, p.files) == (
        "libssl3",
        "3.0.11-1~deb12u2",
        ("usr/lib/x86_64-linux-gnu/libssl.so.3",),
    )


def test_apk_installed_database() -> None:
    data = (
        b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nD:so:libc.so\nF:lib\nR:ld-musl-x86_64.so.1\n"
        b"R:libc.musl-x86_64.so.1\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\nD:musl>=1.2 !foo\n"
        b"F:bin\nR:busybox\nF:etc\nR:securetty\n\n"
    )
    musl, busybox = apk.parse_installed(data)
    assert (musl.name, musl.version, musl.arch) == ("musl", "1.2.4-r2", "x86_64")
    assert musl.files == ("lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1")
    assert busybox.files == ("bin/busybox", "etc/securetty")
    assert busybox.requires == ("musl",)


def pip_target(tmp_path: Path, *requirements: str) -> Path:
    target = tmp_path / "site-packages"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--target",
            str(target),
            *requirements,
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        pytest.skip(f"pip could not install {requirements}: {run.stderr.strip()[-200:]}")
    return target


def dist_files(target: Path, prefix: str) -> dict[str, bytes]:
    out = {}
    for f in target.glob("*.dist-info/*"):
        if f.name in python.DIST_FILES:
            out[f"{prefix}/{f.parent.name}/{f.name}"] = f.read_bytes()
    return out


def test_python_dists_installed_by_pip(tmp_path: Path) -> None:
    target = pip_target(tmp_path, "itsdangerous", "markupsafe")
    prefix = "usr/lib/python3/dist-packages"
    files = dist_files(target, prefix)
    assert all(python.is_database(p) for p in files)
    dists = {d.name: d for d in python.parse_database(files)}
    assert {"itsdangerous", "markupsafe"} <= set(dists)
    its = dists["itsdangerous"]
    assert its.installer == "pip"
    on_disk = {f"{prefix}/{p.relative_to(target)}" for p in target.rglob("*") if p.is_file()}
    assert set(its.files) <= on_disk
    assert f"{prefix}/itsdangerous/__init__.py" in its.files
    assert python.requirement_name('asyncio; extra == "async"') is None
    assert python.requirement_name("Werkzeug>=3.0.0") == "werkzeug"


def npm_install(tmp_path: Path, *specs: str) -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (apt-get install npm)")
    run = subprocess.run(
        [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--prefix",
            str(tmp_path),
            *specs,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if run.returncode != 0:
        pytest.skip(f"npm could not install {specs} (registry unreachable?): {run.stderr[-200:]}")
    return tmp_path / "node_modules"


def test_npm_packages_installed_by_npm(tmp_path: Path) -> None:
    modules = npm_install(tmp_path, "is-odd@3.0.1", "@sindresorhus/is@4.6.0")
    found = {}
    for manifest in modules.rglob("package.json"):
        rel = "app/" + str(manifest.relative_to(tmp_path))
        if npm.is_database(rel):
            p = npm.parse_manifest(manifest.read_bytes(), rel)
            assert p is not None
            found[p.name] = p
    assert found["is-odd"].version == "3.0.1"
    assert found["is-odd"].requires == ("is-number",)
    assert found["@sindresorhus/is"].database == "app/node_modules/@sindresorhus/is"
    assert "is-number" in found
    lock = json.loads((modules / ".package-lock.json").read_text())
    assert {k.rpartition("node_modules/")[2] for k in lock["packages"]} == set(found)
