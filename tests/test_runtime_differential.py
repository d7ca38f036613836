"""The final tree layerscope computes equals the root filesystem a real runtime builds.

Each image is loaded into podman's storage (vfs driver, in a temporary root) and its rootfs
mounted (`podman image mount`, or `buildah from` + `buildah mount`); every path is compared:
type, size, permission bits and link target. Skipped only where neither podman nor buildah is
installed.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from layerscope.layer import STARGZ_ENTRIES
from layerscope.model import EntryKind
from test_properties import layer_stack

from conftest import DIVE_DATA, REAL
from helpers import analysed
from imagebuilder import OPQ, D, F, ImageDef, Layer, W, write_docker_archive, write_oci_layout

PODMAN, BUILDAH = shutil.which("podman"), shutil.which("buildah")
pytestmark = pytest.mark.skipif(
    PODMAN is None and BUILDAH is None, reason="neither podman nor buildah is installed"
)

Node = tuple[str, int | None, int | None, str]
"""(type, size or None, permission bits or None, link target)."""


@dataclass
class Runtime:
    root: Path
    runroot: Path
    """Short: podman refuses a runroot longer than 50 characters."""

    def _cmd(self, tool: str) -> list[str]:
        return [
            tool,
            "--root",
            str(self.root / "storage"),
            "--runroot",
            str(self.runroot),
            "--storage-driver",
            "vfs",
        ]

    def run(self, tool: str, *args: str) -> str:
        done = subprocess.run(
            [*self._cmd(tool), *args], capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, f"{tool} {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def rootfs(self, archive: Path, oci: bool) -> Iterator[Path]:
        """Mount the image's root filesystem: podman if there, else buildah."""
        transport = "oci-archive" if oci else "docker-archive"
        if PODMAN is not None:
            self.run("podman", "load", "-q", "-i", str(archive))
            image_id = self.run("podman", "images", "-q", "--no-trunc").splitlines()[0]
            path = self.run("podman", "image", "mount", image_id)
            try:
                yield Path(path)
            finally:
                self.run("podman", "image", "unmount", image_id)
                self.run("podman", "rmi", "-af")
            return
        container = self.run("buildah", "from", "--pull-never", f"{transport}:{archive}")
        try:
            yield Path(self.run("buildah", "mount", container))
        finally:
            self.run("buildah", "rm", container)
            self.run("buildah", "rmi", "-af")


def walk(root: Path) -> dict[str, Node]:
    out: dict[str, Node] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            full = Path(directory) / name
            st = full.lstat()
            rel = str(full.relative_to(root))
            perm = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", None, perm, "")
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = ("symlink", None, None, os.readlink(full))
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ("file", st.st_size, perm, "")
            else:
                kind = {stat.S_IFCHR: "char", stat.S_IFBLK: "block", stat.S_IFIFO: "fifo"}
                out[rel] = (kind.get(stat.S_IFMT(st.st_mode), "other"), None, perm, "")
    return out


def computed(archive: Path) -> dict[str, Node]:
    """layerscope's final tree as the same nodes; implicit directories have no mode to check."""
    tree = analysed(archive).tree
    out: dict[str, Node] = {}
    for path, e in tree.live.items():
        perm = e.mode & 0o7777
        if e.kind is EntryKind.DIR:
            out[path] = ("dir", None, perm, "")
        elif e.kind is EntryKind.SYMLINK:
            out[path] = ("symlink", None, None, e.linkname)
        elif e.kind is EntryKind.HARDLINK:
            # On disk it is the file it links to, whose size may have changed since.
            out[path] = ("file", None, perm, "")
        else:
            size = e.size if e.kind is EntryKind.FILE else None
            out[path] = (e.kind.value, size, perm, "")
    # Directories no entry names (parents of entries, kept once their content is deleted).
    for path in tree.versions:
        parent = path.rpartition("/")[0]
        while parent and parent not in out and tree.exists(parent):
            out[parent] = ("dir", None, None, "")
            parent = parent.rpartition("/")[0]
    return out


def same(want: dict[str, Node], got: dict[str, Node]) -> None:
    """Equal, where a None in `want` (not known from the image) matches anything."""
    assert sorted(want) == sorted(got)
    diff = {
        p: (w, got[p])
        for p, w in want.items()
        if any(a is not None and a != b for a, b in zip(w, got[p], strict=True))
    }
    assert diff == {}


def check(archive: Path, tmp: Path, oci: bool = False, stargz: bool = False) -> None:
    runtime = Runtime(tmp / "rt", Path(tempfile.mkdtemp(prefix="ls-run-", dir="/tmp")))
    try:
        gen = runtime.rootfs(archive, oci)
        on_disk = walk(next(gen))
        gen.close()
    finally:
        shutil.rmtree(runtime.root, ignore_errors=True)
        shutil.rmtree(runtime.runroot, ignore_errors=True)
    if stargz:
        # eStargz's TOC and landmark files are in the tar; layerscope hides them (they are not
        # part of the filesystem a stargz snapshotter presents), a plain runtime extracts them.
        on_disk = {p: n for p, n in on_disk.items() if p not in STARGZ_ENTRIES}
    same(computed(archive), on_disk)


# dive's test-{uncompressed,gzip,estargz,zstd}-image.tar are root filesystems, not images.
IMAGES = ("test-docker-image.tar", "test-kaniko-image.tar", "test-oci-")
FIXTURES = [
    *(DIVE_DATA / name for name in sorted(os.listdir(DIVE_DATA)) if name.startswith(IMAGES)),
    REAL / "busybox-buildah.docker-archive.tar",
    REAL / "busybox-buildah.oci-archive.tar",
]


@pytest.mark.parametrize("archive", FIXTURES, ids=[p.name for p in FIXTURES])
def test_fixture_images(archive: Path, tmp_path: Path) -> None:
    check(archive, tmp_path, oci="oci" in archive.name, stargz="estargz" in archive.name)


def whiteout_image() -> ImageDef:
    base = [
        D("etc"),
        F("etc/keep", b"k" * 10),
        F("etc/gone", b"g" * 20),
        D("var"),
        D("var/cache"),
        F("var/cache/a", b"a" * 30, 0o600),
        D("var/cache/sub"),
        F("var/cache/sub/b", b"b"),
        D("opt"),
        F("opt/was-a-file", b"file"),
        D("opt/was-a-dir"),
        F("opt/was-a-dir/x", b"x"),
        F("bin-tool", b"#!/bin/sh\n", 0o4755),
        F("link", kind="symlink", link="etc/keep"),
    ]
    return ImageDef(
        [
            Layer(base, "/bin/sh -c base"),
            Layer(
                [
                    D("etc"),
                    W("etc/gone"),
                    W("etc/never-there"),
                    D("var/cache", 0o700),
                    OPQ("var/cache"),
                    F("var/cache/new", b"n" * 5),
                    D("opt/was-a-file"),
                    F("opt/was-a-file/inside", b"i"),
                    F("opt/was-a-dir", b"now a file"),
                    F("etc/hard", kind="hardlink", link="etc/keep"),
                ],
                "/bin/sh -c change",
            ),
            Layer([W("var"), D("var"), F("var/again", b"again")], "/bin/sh -c again"),
        ]
    )


@pytest.mark.parametrize("form", ["docker-archive", "oci-archive"])
def test_whiteouts_opaque_dirs_and_swaps(tmp_path: Path, form: str) -> None:
    if form == "docker-archive":
        archive = write_docker_archive(whiteout_image(), tmp_path / "w.tar")
    else:
        archive = write_oci_layout([whiteout_image()], tmp_path / "w.oci.tar", "gzip", True)
    check(archive, tmp_path, oci=form == "oci-archive")


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(stack=layer_stack(realistic=True))
def test_random_layer_stacks(stack: list[list[F]], tmp_path: Path) -> None:
    img = ImageDef([Layer(entries, f"/bin/sh -c step{i}") for i, entries in enumerate(stack)])
    work = tmp_path / "random"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    check(write_docker_archive(img, work / "r.tar"), work)
