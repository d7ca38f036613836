"""Reading a file's content at a layer, and extracting files and directories safely."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from layerscope.analysis import analyse
from layerscope.content import read_file
from layerscope.errors import ContentError, CorruptLayer, OutputError
from layerscope.extract import extract
from layerscope.loader import load_image
from layerscope.model import BlobRef, Image
from layerscope.sources.archive import spec_from_path

from conftest import REAL, require
from imagebuilder import D, F, ImageDef, Layer, W, write_docker_archive, write_oci_layout


def opened(path: Path) -> tuple[tuple[BlobRef, ...], Image]:
    spec = spec_from_path(path, str(path), None, None)
    return spec.blobs, load_image(spec)


def tricky(tmp: Path) -> Path:
    return write_docker_archive(
        ImageDef(
            [
                Layer(
                    [
                        D("app"),
                        F("app/run", b"#!/bin/sh\necho v1\n", mode=0o4755),
                        F("app/data.bin", bytes(range(256)) * 10),
                        F("app/up", kind="symlink", link="../../../../etc/passwd"),
                        F("app/abs", kind="symlink", link="/etc/shadow"),
                        F("app/fifo", kind="fifo"),
                        D("app/sub", mode=0o500),
                        F("app/sub/deep.txt", b"deep"),
                    ]
                ),
                Layer([F("app/run", b"#!/bin/sh\necho v2\n", mode=0o755)]),
                Layer([F("app/hard", kind="hardlink", link="app/data.bin"), W("app/sub")]),
            ]
        ),
        tmp / "tricky.tar",
    )


def test_read_file_at_each_layer_and_through_hardlinks(tmp_path: Path) -> None:
    blobs, image = opened(tricky(tmp_path))
    tree = analyse(image).tree
    assert read_file(blobs, tree, "app/run", 0) == (b"#!/bin/sh\necho v1\n", 18)
    assert read_file(blobs, tree, "app/run", 2)[0].endswith(b"v2\n")
    data, size = read_file(blobs, tree, "app/hard", 2, limit=100)
    assert data == (bytes(range(256)) * 10)[:100] and size == 2560
    with pytest.raises(ContentError, match="does not exist at layer 2"):
        read_file(blobs, tree, "app/sub/deep.txt", 2)
    with pytest.raises(ContentError, match="symlink"):
        read_file(blobs, tree, "app/up", 0)


def test_read_file_from_compressed_oci_layers(tmp_path: Path) -> None:
    img = ImageDef([Layer([F("a.txt", b"alpha" * 1000)]), Layer([F("a.txt", b"beta")])])
    for compression in ("gzip", "zstd"):
        layout = write_oci_layout([img], tmp_path / compression, compression=compression)
        blobs, image = opened(layout)
        tree = analyse(image).tree
        assert read_file(blobs, tree, "a.txt", 0)[0] == b"alpha" * 1000
        assert read_file(blobs, tree, "a.txt", 1)[0] == b"beta"


def test_extract_a_directory_safely(tmp_path: Path) -> None:
    blobs, image = opened(tricky(tmp_path))
    tree = analyse(image).tree
    dest = tmp_path / "out"
    result = extract(blobs, tree, "/app", 0, dest)
    root = dest / "app"
    assert result.target == root and result.skipped == ["/app/fifo"]
    assert (root / "run").read_bytes().endswith(b"v1\n")
    assert stat.S_IMODE((root / "run").stat().st_mode) == 0o755  # no setuid
    assert (root / "data.bin").read_bytes() == bytes(range(256)) * 10
    # links are recreated as links, never followed or resolved
    assert os.readlink(root / "up") == "../../../../etc/passwd"
    assert os.readlink(root / "abs") == "/etc/shadow"
    assert (root / "sub" / "deep.txt").read_bytes() == b"deep"
    assert stat.S_IMODE((root / "sub").stat().st_mode) == 0o700  # owner can still manage it
    assert sorted(p.name for p in dest.iterdir()) == ["app"]  # no staging left behind


def test_extract_later_layer_copies_hardlinks_and_drops_deleted(tmp_path: Path) -> None:
    blobs, image = opened(tricky(tmp_path))
    tree = analyse(image).tree
    result = extract(blobs, tree, "app", 2, tmp_path / "out")
    root = tmp_path / "out" / "app"
    assert (root / "hard").read_bytes() == (root / "data.bin").read_bytes()
    assert (root / "run").read_bytes().endswith(b"v2\n")
    assert not (root / "sub").exists()
    assert result.files == 3
    single = extract(blobs, tree, "app/run", 0, tmp_path / "one")
    assert single.target.read_bytes().endswith(b"v1\n") and single.files == 1


def test_extract_never_replaces_or_writes_through_existing_paths(tmp_path: Path) -> None:
    blobs, image = opened(tricky(tmp_path))
    tree = analyse(image).tree
    dest = tmp_path / "out"
    dest.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / "app").symlink_to(outside)  # planted: app -> outside
    with pytest.raises(OutputError, match="already exists"):
        extract(blobs, tree, "app", 0, dest)
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in dest.iterdir()) == ["app"]
    with pytest.raises(OutputError, match="cannot create"):
        extract(blobs, tree, "app", 0, tmp_path / "no" / "such")
    with pytest.raises(ContentError):
        extract(blobs, tree, "nothing/here", 0, dest)


def test_extract_from_a_corrupted_archive_leaves_nothing(tmp_path: Path) -> None:
    path = tricky(tmp_path)
    blobs, image = opened(path)
    tree = analyse(image).tree
    with path.open("r+b") as fh:  # the archive is truncated after it was read
        fh.truncate(path.stat().st_size // 3)
    dest = tmp_path / "out"
    with pytest.raises((CorruptLayer, OutputError)):
        extract(blobs, tree, "app", 2, dest)
    assert list(dest.iterdir()) == []


def test_extract_from_a_real_image(tmp_path: Path) -> None:
    blobs, image = opened(require(REAL / "busybox-buildah.docker-archive.tar"))
    tree = analyse(image).tree
    extract(blobs, tree, "data/keep", 5, tmp_path)
    keep = tmp_path / "keep"
    assert (keep / "hello.txt").read_text() == "HELLO\n"
    assert (keep / "hello-hard.txt").read_text() == "HELLO\n"
    assert (keep / "config.txt").read_text() == "v1\nv2\n"
