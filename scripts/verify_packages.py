"""Check package attribution on the pyapp images (`$LAYERSCOPE_PYAPP`, default ../pyapp-out).

Run by `make verify-packages`; exits 1 with the failed checks listed, 0 when all hold.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from layerscope.model import EntryKind
from layerscope.packages.analyse import PackageReport, analyse_packages
from layerscope.packages.attribution import ChangeKind
from layerscope.session import open_image
from layerscope.sources.archive import spec_from_path
from layerscope.units import human_bytes


def pyapp_dir() -> Path | None:
    where = os.environ.get("LAYERSCOPE_PYAPP") or str(Path(__file__).parents[2] / "pyapp-out")
    path = Path(where)
    return path if (path / "pyapp-bloated.docker-archive.tar").is_file() else None


def report_of(archive: Path) -> tuple[PackageReport, int]:
    with open_image(spec_from_path(archive, str(archive), None, None)) as opened:
        live = opened.analysis.tree.live
        total = sum(e.size for e in live.values() if e.kind is EntryKind.FILE)
        return analyse_packages(opened), total


def check(name: str, archive: Path, bloated: bool) -> list[str]:
    report, total = report_of(archive)
    a, failures = report.attribution, []
    usage = {u.package.name: u for u in a.usages}

    def expect(ok: bool, what: str) -> None:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(f"{name}: {what}")

    print(name)
    expect(
        a.owned_bytes + a.unowned_bytes == total == a.total_bytes,
        f"owned {a.owned_bytes} + unowned {a.unowned_bytes} == final file bytes {total}",
    )
    install = 1
    for pkg in ("python3", "python3.11-minimal", "libpython3.11-stdlib"):
        u = usage.get(pkg)
        expect(
            u is not None and u.present and u.installed_in == install and u.final_bytes > 0,
            f"{pkg} installed in layer {install}"
            + (f", {human_bytes(u.final_bytes)}" if u else ""),
        )
    pip_layer = 2 if bloated else 1
    for pkg in (
        "flask",
        "gunicorn",
        "werkzeug",
        "jinja2",
        "click",
        "itsdangerous",
        "markupsafe",
        "blinker",
        "packaging",
    ):
        u = usage.get(pkg)
        expect(
            u is not None and u.present and u.installed_in == pip_layer and u.final_bytes > 0,
            f"{pkg} (python) installed in layer {pip_layer}"
            + (f", {human_bytes(u.final_bytes)}" if u else ""),
        )
    reach = report.reach
    reached = {k[1] for k in reach.packages} if reach else set()
    expect({"flask", "gunicorn"} <= reached, "flask and gunicorn reached from the entrypoint")
    files = set(reach.files) if reach else set()
    expect(not any("var/lib/apt/lists" in f for f in files), "no apt list reached")
    if bloated:
        pip = usage.get("python3-pip")
        removed = [
            c for c in a.changes if c.kind is ChangeKind.REMOVED and c.package.name == "python3-pip"
        ]
        expect(
            pip is not None
            and pip.installed_in == 1
            and pip.removed_in is not None
            and pip.removed_in > 1
            and pip.stored_bytes > 0
            and pip.final_bytes == 0,
            "python3-pip installed in layer 1, purged later, its bytes still stored"
            + (
                f" ({human_bytes(pip.stored_bytes)}, removed in layer {pip.removed_in})"
                if pip
                else ""
            ),
        )
        expect(
            bool(removed) and removed[0].bytes > 0, "the purge layer lists python3-pip as removed"
        )
        with open_image(spec_from_path(archive, str(archive), None, None)) as opened:
            tree = opened.analysis.tree
            lists = [
                p
                for p, vs in tree.versions.items()
                if p.startswith("var/lib/apt/lists/")
                and any(
                    v.entry is not None and v.entry.kind is EntryKind.FILE and v.entry.size
                    for v in vs
                )
            ]
        owned_anywhere = {f for u in a.usages for f in u.files}
        expect(
            bool(lists) and not (set(lists) & owned_anywhere),
            f"the apt lists ({len(lists)} files stored) are owned by no package",
        )
    return failures


def main() -> int:
    where = pyapp_dir()
    if where is None:
        print(
            "no pyapp build (set LAYERSCOPE_PYAPP to the directory build.sh wrote)", file=sys.stderr
        )
        return 2
    failures = check("pyapp-bloated", where / "pyapp-bloated.docker-archive.tar", True)
    failures += check("pyapp-fixed", where / "pyapp-fixed.docker-archive.tar", False)
    failures += check("pyapp-bloated (OCI, zstd)", where / "pyapp-bloated.oci-archive.tar", True)
    for f in failures:
        print(f"FAILED: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
