"""Format readers: every archive variant, media type, platform and bad input."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import tarfile
from pathlib import Path

import pytest

from layerscope.errors import (
    CorruptLayer,
    DigestMismatch,
    MalformedMetadata,
    MissingBlob,
    NotAnImage,
    SelectionError,
    UnsupportedMediaType,
)
from layerscope.sources.archive import spec_from_path

from helpers import analysed, load
from imagebuilder import D, F, ImageDef, Layer, write_docker_archive, write_oci_layout


def image(tag: str = "t/img:1", arch: str = "amd64", variant: str = "") -> ImageDef:
    return ImageDef(
        [
            Layer([D("etc"), F("etc/conf", b"v1" * 50)], "/bin/sh -c one"),
            Layer(
                [D("etc"), F("etc/conf", b"v2" * 60), F("big", b"z" * 5000)],
                "RUN |1 A=b /bin/sh -c two # buildkit",
            ),
        ],
        tag=tag,
        architecture=arch,
        variant=variant,
    )


def figures(path: Path, **kw: str) -> tuple[object, ...]:
    a = analysed(path, **kw)  # type: ignore[arg-type]
    return (
        a.dive.efficiency,
        a.dive.wasted_bytes,
        [layer.size for layer in a.image.layers],
        [layer.diff_id for layer in a.image.layers],
        a.waste.reclaimable_bytes,
    )


@pytest.mark.parametrize("style", ["legacy", "digest"])
def test_docker_archive_styles(tmp_path: Path, style: str) -> None:
    img = load(write_docker_archive(image(), tmp_path / "a.tar", style))
    assert [len(layer.entries) for layer in img.layers] == [2, 3]
    assert img.layers[1].command == "RUN |1 A=b /bin/sh -c two # buildkit"


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
@pytest.mark.parametrize("as_tar", [False, True])
def test_oci_layouts_equal_the_docker_archive(
    tmp_path: Path, compression: str | None, as_tar: bool
) -> None:
    docker = write_docker_archive(image(), tmp_path / "d.tar")
    oci = write_oci_layout([image()], tmp_path / ("o.tar" if as_tar else "o"), compression, as_tar)
    assert figures(oci) == figures(docker)
    media = load(oci).layers[0].media_type
    assert media.endswith({None: "tar", "gzip": "+gzip", "zstd": "+zstd"}[compression])


def test_nested_index_and_platform_choice(tmp_path: Path) -> None:
    imgs = [image(arch="amd64"), image(arch="arm64", variant="v8")]
    imgs[1].steps.append(Layer([F("only-on-arm", b"a")], "/bin/sh -c arm"))
    path = write_oci_layout(imgs, tmp_path / "multi", nested_index=True)
    # No choice given: the first, as dive takes it, with a note saying how to choose.
    spec = spec_from_path(path, str(path))
    assert len(load(path).layers) == 2
    assert len(spec.warnings) == 1
    assert re.search(
        r"read the first.*choose with --platform.*linux/amd64.*linux/arm64/v8", spec.warnings[0]
    )
    assert len(load(path, platform="linux/arm64").layers) == 3
    assert len(load(path, platform="linux/amd64").layers) == 2
    with pytest.raises(SelectionError, match="no image for linux/s390x"):
        load(path, platform="linux/s390x")


def test_choose_by_tag_among_several_images(tmp_path: Path) -> None:
    path = write_oci_layout([image("a/one:1"), image("a/two:2")], tmp_path / "two")
    assert load(path).name == "a/one:1"
    (note,) = spec_from_path(path, str(path)).warnings
    assert "choose with FILE:name:tag or --tag" in note and "--platform" not in note
    assert load(path, ref="a/two:2").name == "a/two:2"
    with pytest.raises(SelectionError, match="no image named"):
        load(path, ref="a/three:3")


def test_docker_archive_with_several_images(tmp_path: Path) -> None:
    a = write_docker_archive(image("x/a:1"), tmp_path / "a.tar")
    b = write_docker_archive(image("x/b:2"), tmp_path / "b.tar")
    merged = tmp_path / "m.tar"
    with tarfile.open(merged, "w") as out:
        manifests = []
        for src in (a, b):
            with tarfile.open(src) as tar:
                for m in tar.getmembers():
                    if m.name == "manifest.json":
                        manifests += json.load(tar.extractfile(m))  # type: ignore[arg-type]
                    elif m.name not in out.getnames():
                        out.addfile(m, tar.extractfile(m))
        data = json.dumps(manifests).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        import io

        out.addfile(info, io.BytesIO(data))
    assert load(merged).name == "x/a:1"
    (note,) = spec_from_path(merged, str(merged)).warnings
    assert "holds 2 images; read the first, x/a:1 (choose with FILE:name:tag or --tag" in note
    assert load(merged, ref="x/b:2").name == "x/b:2"
    assert load(merged, ref="docker.io/x/a:1").name == "docker.io/x/a:1"


def test_symlinked_layer_tar_reads_its_target(tmp_path: Path) -> None:
    img = ImageDef([Layer([F("a", b"same")]), Layer([F("a", b"same")])])
    src = write_docker_archive(img, tmp_path / "s.tar")
    out = tmp_path / "linked.tar"
    with tarfile.open(src) as tar, tarfile.open(out, "w") as dst:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        first, second = manifest[0]["Layers"]
        for m in tar.getmembers():
            if m.name == second:
                link = tarfile.TarInfo(second)
                link.type = tarfile.SYMTYPE
                link.linkname = "../" + first
                dst.addfile(link)
            else:
                dst.addfile(m, tar.extractfile(m))
    layers = load(out).layers
    assert [len(layer.entries) for layer in layers] == [1, 1]


def _rewrite(src: Path, dst: Path, name: str, data: bytes) -> Path:
    with tarfile.open(src) as tar, tarfile.open(dst, "w") as out:
        for m in tar.getmembers():
            if m.name == name:
                m.size = len(data)
                import io

                out.addfile(m, io.BytesIO(data))
            else:
                out.addfile(m, tar.extractfile(m))
    return dst


def _layer_name(path: Path, index: int = 1) -> str:
    with tarfile.open(path) as tar:
        return json.load(tar.extractfile("manifest.json"))[0]["Layers"][index]  # type: ignore[arg-type,no-any-return]


def test_layer_bytes_that_do_not_match_the_diff_id(tmp_path: Path) -> None:
    src = write_docker_archive(image(), tmp_path / "a.tar")
    with tarfile.open(src) as tar:
        name = _layer_name(src)
        data = bytearray(tar.extractfile(name).read())  # type: ignore[union-attr]
    at = data.index(b"v2v2")
    data[at] ^= 1  # inside a file's content: still a valid tar, other bytes
    bad = _rewrite(src, tmp_path / "bad.tar", name, bytes(data))
    with pytest.raises(DigestMismatch, match="diff_id"):
        load(bad)


def test_truncated_layer(tmp_path: Path) -> None:
    src = write_docker_archive(image(), tmp_path / "a.tar")
    with tarfile.open(src) as tar:
        name = _layer_name(src)
        data = tar.extractfile(name).read()  # type: ignore[union-attr]
    # The stored layer differs from its diff_id: that is said first, then what it did to the tar.
    with pytest.raises(DigestMismatch, match=r"but the image records .*damaged.*truncated"):
        load(_rewrite(src, tmp_path / "t.tar", name, data[:1500]))


def test_truncated_archive(tmp_path: Path) -> None:
    src = write_docker_archive(image(), tmp_path / "a.tar")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(src.read_bytes()[:3000])
    with pytest.raises((NotAnImage, MissingBlob, CorruptLayer)):
        load(cut)


def test_corrupt_gzip_layer(tmp_path: Path) -> None:
    layout = write_oci_layout([image()], tmp_path / "o", "gzip")
    index = json.loads((layout / "index.json").read_text())
    mdig = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs/sha256" / mdig).read_text())
    blob = layout / "blobs/sha256" / manifest["layers"][1]["digest"].split(":")[1]
    data = bytearray(blob.read_bytes())
    data[40:60] = b"\xff" * 20
    blob.write_bytes(bytes(data))
    with pytest.raises((CorruptLayer, DigestMismatch)):
        load(layout)


def test_missing_blob(tmp_path: Path) -> None:
    layout = write_oci_layout([image()], tmp_path / "o", None)
    config = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
    manifest = json.loads((layout / "blobs/sha256" / config.split(":")[1]).read_text())
    (layout / "blobs/sha256" / manifest["layers"][0]["digest"].split(":")[1]).unlink()
    with pytest.raises(MissingBlob, match="missing"):
        load(layout)


def test_manifest_digest_mismatch(tmp_path: Path) -> None:
    layout = write_oci_layout([image()], tmp_path / "o", None)
    digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
    blob = layout / "blobs/sha256" / digest.split(":")[1]
    blob.write_text(blob.read_text().replace('"schemaVersion": 2', '"schemaVersion":2'))
    with pytest.raises(DigestMismatch, match="recorded"):
        load(layout)


def test_unknown_media_type(tmp_path: Path) -> None:
    layout = write_oci_layout([image()], tmp_path / "o", None)
    index = json.loads((layout / "index.json").read_text())
    old = index["manifests"][0]["digest"].split(":")[1]
    text = (
        (layout / "blobs/sha256" / old).read_text().replace("layer.v1.tar", "layer.v1.tar+lz4", 1)
    )
    import hashlib

    new = hashlib.sha256(text.encode()).hexdigest()
    (layout / "blobs/sha256" / new).write_text(text)
    index["manifests"][0]["digest"] = f"sha256:{new}"
    index["manifests"][0]["size"] = len(text)
    (layout / "index.json").write_text(json.dumps(index))
    with pytest.raises(UnsupportedMediaType, match="lz4"):
        load(layout)


def test_malformed_manifest_json(tmp_path: Path) -> None:
    src = write_docker_archive(image(), tmp_path / "a.tar")
    with pytest.raises(MalformedMetadata, match=r"manifest\.json"):
        load(_rewrite(src, tmp_path / "m.tar", "manifest.json", b"[{not json"))


def test_rootfs_tar_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "rootfs.tar"
    with tarfile.open(path, "w") as tar:
        tar.add(__file__, arcname="README.md")
    with pytest.raises(NotAnImage, match="not an image"):
        load(path)


def test_gzip_file_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "x.tar.gz"
    path.write_bytes(gzip.compress(b"hello" * 100))
    with pytest.raises(NotAnImage):
        load(path)


def test_layout_directory_copy_in_place(tmp_path: Path) -> None:
    layout = write_oci_layout([image()], tmp_path / "o", "zstd")
    copy = tmp_path / "copy"
    shutil.copytree(layout, copy)
    assert figures(copy) == figures(layout)
