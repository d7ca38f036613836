"""Input forms users pipe in, and archives read as leniently as `docker load` reads them.

`docker save img | gzip > img.tar.gz`, `.tar.zst`, `-` for stdin, the pre-1.10 `docker save`
format, a config file not named by its digest, and several images with no choice given.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zstandard

from layerscope.errors import DigestMismatch, MalformedMetadata

from helpers import analysed, load
from imagebuilder import (
    D,
    F,
    ImageDef,
    Layer,
    W,
    write_docker_archive,
    write_oci_layout,
    write_pre_manifest_archive,
)

PASS_ALL = ("--lowestEfficiency", "0", "--highestUserWastedPercent", "disabled")


def image(tag: str = "forms/img:1", arch: str = "amd64") -> ImageDef:
    return ImageDef(
        [
            Layer([D("etc"), F("etc/conf", b"v1" * 50), F("etc/old", b"o" * 700)], "/bin/sh -c a"),
            Layer([D("etc"), F("etc/conf", b"v2" * 60), W("etc/old")], "/bin/sh -c b"),
            Layer([F("big", b"z" * 5000)], "/bin/sh -c c"),
        ],
        tag=tag,
        architecture=arch,
    )


def tree(path: Path, **kw: str) -> dict[str, tuple[str, int, int, str]]:
    live = analysed(path, **kw).tree.live  # type: ignore[arg-type]
    return {p: (e.kind.value, e.size, e.mode, e.linkname) for p, e in live.items()}


def cli(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TMPDIR"] = str(cwd / "tmp")
    (cwd / "tmp").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "layerscope", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


def _compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, 1, mtime=0)
    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize("how", ["gzip", "zstd"])
def test_compressed_docker_archive_reads_as_the_plain_one(tmp_path: Path, how: str) -> None:
    plain = write_docker_archive(image(), tmp_path / "img.tar")
    packed = tmp_path / ("img.tar.gz" if how == "gzip" else "img.tar.zst")
    packed.write_bytes(_compress(plain.read_bytes(), how))
    assert tree(packed) == tree(plain)
    got = load(packed)
    assert got.format.endswith(f"{how}-compressed")
    assert [la.diff_id for la in got.layers] == [la.diff_id for la in load(plain).layers]
    run = cli(str(packed), "--json", "out.json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert os.listdir(tmp_path / "tmp") == []  # the spooled copy is gone


@pytest.mark.parametrize("how", [None, "gzip", "zstd"])
def test_stdin_is_spooled_and_removed(tmp_path: Path, how: str | None) -> None:
    plain = write_docker_archive(image(), tmp_path / "img.tar").read_bytes()
    data = plain if how is None else _compress(plain, how)
    run = cli("-", "--json", "out.json", cwd=tmp_path, stdin=data)
    assert run.returncode == 0, run.stderr
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["image"]["name"] == "forms/img:1"
    assert [len(layer["fileList"]) for layer in doc["layer"]] == [3, 3, 1]
    assert os.listdir(tmp_path / "tmp") == []


def test_stdin_ci_and_a_tag_choice(tmp_path: Path) -> None:
    data = write_oci_layout(
        [image("a/one:1"), image("a/two:2")], tmp_path / "two.tar", as_tar=True
    ).read_bytes()
    run = cli("-", "--tag", "a/two:2", "--ci", *PASS_ALL, cwd=tmp_path, stdin=data)
    assert run.returncode == 0, run.stderr
    assert b"Result:PASS" in run.stdout
    assert run.stderr == b""


def test_stdin_that_is_not_an_image(tmp_path: Path) -> None:
    run = cli("-", "--ci", cwd=tmp_path, stdin=b"hello\n" * 100)
    assert run.returncode == 2
    (line,) = run.stderr.decode().splitlines()
    assert line.startswith("layerscope: error: stdin: not an image archive (")
    assert os.listdir(tmp_path / "tmp") == []


def test_stdin_cut_short_inside_gzip(tmp_path: Path) -> None:
    plain = write_docker_archive(image(), tmp_path / "img.tar").read_bytes()
    run = cli("-", "--ci", cwd=tmp_path, stdin=gzip.compress(plain)[:-100])
    assert run.returncode == 2
    (line,) = run.stderr.decode().splitlines()
    assert "stdin (gzip)" in line and "truncated" in line
    assert os.listdir(tmp_path / "tmp") == []


def test_pre_manifest_docker_save_is_read(tmp_path: Path) -> None:
    old = write_pre_manifest_archive(image(), tmp_path / "old.tar")
    new = write_docker_archive(image(), tmp_path / "new.tar")
    assert tree(old) == tree(new)
    got, want = load(old), load(new)
    assert [la.diff_id for la in got.layers] == [la.diff_id for la in want.layers]
    assert [la.command for la in got.layers] == ["a", "b", "c"]
    assert got.name == "forms/img:1" and got.repo_tags == ("forms/img:1",)
    assert got.format.startswith("docker-archive (pre-1.10")
    assert str(got.platform) == "linux/amd64"
    run = cli(str(old), "--ci", *PASS_ALL, cwd=tmp_path)
    assert run.returncode == 0, run.stderr


Edit = Callable[[str, bytes], tuple[str, bytes]]


def rewrite(src: Path, dest: Path, edit: Edit) -> Path:
    """A copy of the archive `src` with each member's (name, data) passed through `edit`."""
    with tarfile.open(src) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else b"") for m in t]  # type: ignore[union-attr]
    with tarfile.open(dest, "w") as t:
        for m, data in members:
            m.name, new = edit(m.name, data)
            m.size = len(new)
            t.addfile(m, io.BytesIO(new))
    return dest


def _json_edit(match: Callable[[str], bool], change: Callable[[Any], None]) -> Edit:
    def edit(name: str, data: bytes) -> tuple[str, bytes]:
        if not match(name):
            return name, data
        doc = json.loads(data)
        change(doc)
        return name, json.dumps(doc).encode()

    return edit


def test_pre_manifest_archive_with_a_broken_parent(tmp_path: Path) -> None:
    old = write_pre_manifest_archive(image(), tmp_path / "old.tar")
    layer_ids = [load(old).layers[i].tar_name.split("/")[0] for i in range(3)]
    missing = "0" * 64  # a layer the archive does not hold
    edit = _json_edit(
        lambda n: n == f"{layer_ids[2]}/json", lambda d: d.__setitem__("parent", missing)
    )
    run = cli(str(rewrite(old, tmp_path / "broken.tar", edit)), "--ci", cwd=tmp_path)
    assert run.returncode == 2
    assert f"{missing}/json is not in the archive" in run.stderr.decode()


def test_config_named_by_another_digest_is_read_with_a_warning(tmp_path: Path) -> None:
    src = write_docker_archive(image(), tmp_path / "img.tar", style="digest")
    new_name = "a" * 64 + ".json"

    def edit(name: str, data: bytes) -> tuple[str, bytes]:
        if name == "manifest.json":
            doc = json.loads(data)
            doc[0]["Config"] = new_name
            return name, json.dumps(doc).encode()
        return (new_name if name.endswith(".json") else name), data

    odd = rewrite(src, tmp_path / "odd.tar", edit)
    assert tree(odd) == tree(src)
    run = cli(str(odd), "--ci", *PASS_ALL, cwd=tmp_path)
    assert run.returncode == 0
    (warning,) = run.stderr.decode().splitlines()
    assert warning.startswith(f"layerscope: warning: {odd}: config {new_name}: digest")
    assert "read anyway, as docker load does" in warning


def test_diff_ids_stay_strict(tmp_path: Path) -> None:
    src = write_docker_archive(image(), tmp_path / "img.tar", style="digest")
    wrong = "sha256:" + hashlib.sha256(b"x").hexdigest()
    edit = _json_edit(
        lambda n: n.endswith(".json") and n != "manifest.json",
        lambda d: d["rootfs"]["diff_ids"].__setitem__(1, wrong),
    )
    with pytest.raises(DigestMismatch, match="layer 1"):
        load(rewrite(src, tmp_path / "bad.tar", edit))


def test_several_images_take_the_first_and_say_how_to_choose(tmp_path: Path) -> None:
    by_name = write_oci_layout(
        [image("a/one:1"), image("a/two:2")], tmp_path / "n.tar", as_tar=True
    )
    run = cli(str(by_name), "--ci", *PASS_ALL, cwd=tmp_path)
    assert run.returncode == 0
    (note,) = run.stderr.decode().splitlines()
    assert "holds 2 images; read the first, a/one:1" in note
    assert "choose with FILE:name:tag or --tag" in note and "--platform" not in note
    by_platform = write_oci_layout(
        [image(arch="amd64"), image(arch="arm64")], tmp_path / "p.tar", as_tar=True
    )
    run = cli(str(by_platform), "--ci", *PASS_ALL, cwd=tmp_path)
    assert run.returncode == 0
    (note,) = run.stderr.decode().splitlines()
    assert "choose with --platform" in note and "linux/arm64" in note
    run = cli(str(by_platform), "--platform", "linux/arm64", "--json", "-", cwd=tmp_path)
    assert json.loads(run.stdout)["image"]["platform"] == "linux/arm64"
    assert run.stderr == b""


def test_repositories_that_is_not_json(tmp_path: Path) -> None:
    out = tmp_path / "r.tar"
    with tarfile.open(out, "w") as t:
        info = tarfile.TarInfo("repositories")
        info.size = 3
        t.addfile(info, io.BytesIO(b"{{{"))
    with pytest.raises(MalformedMetadata, match="repositories: invalid JSON"):
        load(out)


def test_fifo_and_device_as_the_image_never_block(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.tar"
    os.mkfifo(fifo)
    for target in (str(fifo), "/dev/zero"):
        run = cli(target, "--ci", cwd=tmp_path)
        assert run.returncode == 2
        assert b"not a regular file or directory" in run.stderr
