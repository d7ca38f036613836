"""Golden figures: dive's own fixtures and its asserted numbers; real buildah images."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from layerscope.errors import NotAnImage

from conftest import DIVE_DATA, REAL, require
from helpers import analysed


def test_dive_test_image_asserted_figures() -> None:
    a = analysed(require(DIVE_DATA / "test-docker-image.tar"))
    d = a.dive
    # dive/image/docker/image_archive_analysis_test.go compares these with exact equality.
    assert d.efficiency == 0.9844212134184309
    assert d.size_bytes == 1220598
    assert d.user_size_bytes == 66237
    assert d.wasted_bytes == 32025
    assert d.user_wasted_percent == 0.4834911001404049
    assert [(f.path, f.count, f.cumulative_size) for f in d.inefficient_files] == [
        ("/root/saved.txt", 2, 12810),
        ("/root/example/somefile1.txt", 2, 12810),
        ("/root/example/somefile3.txt", 2, 6405),
    ]
    assert list(d.layer_sizes) == [
        1154361,
        6405,
        0,
        6405,
        6405,
        6405,
        6405,
        6405,
        6405,
        0,
        2187,
        6405,
        6405,
        6405,
    ]
    assert [len(layer.entries) for layer in a.image.layers][:2] == [415, 1]


def test_dive_test_image_honest_model() -> None:
    w = analysed(require(DIVE_DATA / "test-docker-image.tar")).waste
    # `rm -rf /root/example/` deletes somefile1 (2 copies) and somefile2: dive counts neither
    # directory delete, and it counts both copies of /root/saved.txt where one ships.
    assert w.directory_deleted_bytes == 12810
    assert w.deleted_bytes == 6405
    assert w.identical_rewrite_bytes == 12810
    assert w.reclaimable_bytes == 32025
    assert {f.path for f in w.files} >= {"/root/example/somefile2.txt"}


def test_kaniko_image() -> None:
    d = analysed(require(DIVE_DATA / "test-kaniko-image.tar")).dive
    assert d.efficiency == 0.9793688490216431
    assert (d.size_bytes, d.user_size_bytes, d.wasted_bytes) == (1326410, 94677, 46245)
    assert d.user_wasted_percent == 0.4884502043790995


@pytest.mark.parametrize("kind", ["uncompressed", "gzip", "estargz", "zstd"])
def test_oci_fixtures(kind: str) -> None:
    a = analysed(require(DIVE_DATA / f"test-oci-{kind}-image.tar"))
    (layer,) = a.image.layers
    assert [e.path for e in layer.entries] == ["README.md"]  # no eStargz TOC entries
    assert layer.size == 11189
    assert layer.command == "COPY README.md /README.md # buildkit"
    assert a.dive.efficiency == 1.0 and a.dive.wasted_bytes == 0
    assert math.isnan(a.dive.user_wasted_percent)
    assert str(a.image.platform) == "linux/arm64"
    assert a.waste.base.layers == 0  # BuildKit marks its own steps: no base image here


@pytest.mark.parametrize("kind", ["uncompressed", "gzip", "estargz", "zstd"])
def test_rootfs_exports_are_not_images(kind: str) -> None:
    with pytest.raises(NotAnImage):
        analysed(require(DIVE_DATA / f"test-{kind}-image.tar"))


def test_real_buildah_docker_and_oci_archives_agree() -> None:
    docker = analysed(require(REAL / "busybox-buildah.docker-archive.tar"))
    oci = analysed(require(REAL / "busybox-buildah.oci-archive.tar"))
    assert docker.dive == oci.dive
    # Only the OCI manifest can carry the base image annotation (buildah writes its digest).
    assert oci.waste.base.digest.startswith("sha256:")
    assert docker.waste == replace(oci.waste, base=replace(oci.waste.base, digest=""))
    assert [layer.diff_id for layer in docker.image.layers] == [
        layer.diff_id for layer in oci.image.layers
    ]
    assert [layer.command for layer in docker.image.layers] == [
        layer.command for layer in oci.image.layers
    ]
    assert docker.dive.efficiency == 0.6890497130443962
    assert docker.dive.wasted_bytes == 895620
    assert oci.image.layers[0].media_type.endswith("+gzip")
    assert oci.image.layers[0].compressed_size < docker.image.layers[0].compressed_size
