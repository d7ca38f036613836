"""Build real image archives from Python: layer tars, docker-archive and OCI layouts.

Used by the tests, the bundled sample image and the benchmark. Everything it writes is a real
tar that docker, skopeo and dive read.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

EPOCH = 1_700_000_000


@dataclass
class F:
    """One tar entry to write: kind is file, dir, symlink, hardlink, fifo or char."""

    path: str
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    kind: str = "file"
    link: str = ""
    size: int | None = None
    """For big generated files: write `size` bytes of `data` repeated instead of `data`."""


def D(path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> F:
    return F(path, mode=mode, uid=uid, gid=gid, kind="dir")


def W(path: str) -> F:
    """A whiteout for `path`."""
    parent, _, name = path.rpartition("/")
    return F(f"{parent}/.wh.{name}" if parent else f".wh.{name}", mode=0)


def OPQ(directory: str) -> F:
    return F(f"{directory}/.wh..wh..opq", mode=0)


class _Repeat(io.RawIOBase):
    def __init__(self, pattern: bytes, size: int) -> None:
        self.pattern, self.left = pattern or b"\0", size

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
        n = min(len(buf), self.left)
        chunk = (self.pattern * (n // len(self.pattern) + 1))[:n]
        buf[:n] = chunk
        self.left -= n
        return n

    def readable(self) -> bool:
        return True


_TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "fifo": tarfile.FIFOTYPE,
    "char": tarfile.CHRTYPE,
}


def write_layer(
    out: io.BufferedIOBase, entries: Iterable[F], fmt: int = tarfile.PAX_FORMAT
) -> None:
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.path)
            info.type = _TYPES[e.kind]
            info.mode, info.uid, info.gid, info.mtime = e.mode, e.uid, e.gid, EPOCH
            info.linkname = e.link
            if e.kind == "file":
                if e.size is not None:
                    info.size = e.size
                    tar.addfile(info, io.BufferedReader(_Repeat(e.data, e.size)))
                else:
                    info.size = len(e.data)
                    tar.addfile(info, io.BytesIO(e.data))
            else:
                tar.addfile(info)


def layer_bytes(entries: Iterable[F], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    write_layer(buf, entries, fmt)  # type: ignore[arg-type]
    return buf.getvalue()


@dataclass
class Layer:
    entries: list[F]
    created_by: str = "/bin/sh -c true"
    comment: str = ""


@dataclass
class Step:
    """A history entry with no layer (ENV, LABEL, CMD ...)."""

    created_by: str


@dataclass
class ImageDef:
    steps: list[Layer | Step]
    tag: str = "layerscope/test:latest"
    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""
    extra_config: dict[str, object] = field(default_factory=dict)


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _build_layers(img: ImageDef, work: Path) -> list[Path]:
    out = []
    for i, step in enumerate(s for s in img.steps if isinstance(s, Layer)):
        path = work / f"layer{i}.tar"
        with path.open("wb") as fh:
            write_layer(fh, step.entries)
        out.append(path)
    return out


def _config(img: ImageDef, diff_ids: list[str]) -> bytes:
    history = []
    for step in img.steps:
        h: dict[str, object] = {"created": "2024-01-01T00:00:00Z", "created_by": step.created_by}
        if isinstance(step, Step):
            h["empty_layer"] = True
        elif step.comment:
            h["comment"] = step.comment
        history.append(h)
    cfg: dict[str, object] = {
        "architecture": img.architecture,
        "os": img.os,
        "created": "2024-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d}" for d in diff_ids]},
        "history": history,
        **img.extra_config,
    }
    if img.variant:
        cfg["variant"] = img.variant
    return json.dumps(cfg, sort_keys=True).encode()


def _add(tar: tarfile.TarFile, name: str, data: bytes | Path) -> None:
    info = tarfile.TarInfo(name)
    info.mtime = EPOCH
    if isinstance(data, Path):
        info.size = data.stat().st_size
        with data.open("rb") as fh:
            tar.addfile(info, fh)
    else:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def write_docker_archive(img: ImageDef, dest: Path, style: str = "legacy") -> Path:
    """docker save (`legacy`: <id>/layer.tar) or buildah style (`digest`: <sha>.tar)."""
    with tempfile.TemporaryDirectory() as tmp:
        layers = _build_layers(img, Path(tmp))
        diff_ids = [_sha(p) for p in layers]
        config = _config(img, diff_ids)
        config_name = hashlib.sha256(config).hexdigest() + ".json"
        names = []
        with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar:
            for i, (path, diff) in enumerate(zip(layers, diff_ids, strict=True)):
                if style == "legacy":
                    layer_id = hashlib.sha256(f"{i}{diff}".encode()).hexdigest()
                    name = f"{layer_id}/layer.tar"
                    _add(tar, f"{layer_id}/VERSION", b"1.0")
                else:
                    name = f"{diff}.tar"
                _add(tar, name, path)
                names.append(name)
            _add(tar, config_name, config)
            manifest = [{"Config": config_name, "RepoTags": [img.tag], "Layers": names}]
            _add(tar, "manifest.json", json.dumps(manifest).encode())
    return dest


def write_pre_manifest_archive(img: ImageDef, dest: Path) -> Path:
    """`docker save` of Docker before 1.10: `repositories`, `<id>/json` chained by `parent`,
    `<id>/layer.tar` and `<id>/VERSION`; no manifest.json, no config, no digests."""
    with tempfile.TemporaryDirectory() as tmp:
        layers = _build_layers(img, Path(tmp))
        commands = [s.created_by for s in img.steps if isinstance(s, Layer)]
        parent = None
        with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar:
            for i, path in enumerate(layers):
                layer_id = hashlib.sha256(f"{img.tag}:{i}:{_sha(path)}".encode()).hexdigest()
                doc: dict[str, object] = {
                    "id": layer_id,
                    "created": f"2015-0{1 + i % 9}-01T00:00:00Z",
                    "container_config": {
                        "Cmd": ["/bin/sh", "-c", commands[i].removeprefix("/bin/sh -c ")]
                    },
                    "os": img.os,
                    "architecture": img.architecture,
                }
                if parent:
                    doc["parent"] = parent
                _add(tar, f"{layer_id}/VERSION", b"1.0")
                _add(tar, f"{layer_id}/json", json.dumps(doc).encode())
                _add(tar, f"{layer_id}/layer.tar", path)
                parent = layer_id
            repo, _, tag = img.tag.rpartition(":")
            _add(tar, "repositories", json.dumps({repo: {tag: parent}}).encode())
    return dest


def _compress(path: Path, how: str | None) -> Path:
    if how is None:
        return path
    out = path.with_suffix(f".{how}")
    with path.open("rb") as src, out.open("wb") as dst:
        if how == "gzip":
            with gzip.GzipFile(fileobj=dst, mode="wb", mtime=0, compresslevel=1) as gz:
                shutil.copyfileobj(src, gz, 1 << 20)
        else:
            zstandard.ZstdCompressor(level=3).copy_stream(src, dst)
    return out


_LAYER_MT = {
    None: "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}


def _blob(root: Path, data: bytes | Path) -> tuple[str, int]:
    if isinstance(data, Path):
        digest, size = _sha(data), data.stat().st_size
        target = root / "blobs" / "sha256" / digest
        shutil.copyfile(data, target)
    else:
        digest, size = hashlib.sha256(data).hexdigest(), len(data)
        (root / "blobs" / "sha256" / digest).write_bytes(data)
    return f"sha256:{digest}", size


def write_oci_layout(
    imgs: list[ImageDef],
    dest: Path,
    compression: str | None = "gzip",
    as_tar: bool = False,
    nested_index: bool = False,
) -> Path:
    """An OCI layout dir (or tar) holding one image per ImageDef (several = platforms)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "layout"
        (root / "blobs" / "sha256").mkdir(parents=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
        descriptors = []
        for n, img in enumerate(imgs):
            work = Path(tmp) / f"img{n}"
            work.mkdir()
            layers = _build_layers(img, work)
            diff_ids = [_sha(p) for p in layers]
            config = _config(img, diff_ids)
            cdig, csize = _blob(root, config)
            layer_descs = []
            for p in layers:
                dig, size = _blob(root, _compress(p, compression))
                layer_descs.append(
                    {"mediaType": _LAYER_MT[compression], "digest": dig, "size": size}
                )
            manifest = json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {
                        "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": cdig,
                        "size": csize,
                    },
                    "layers": layer_descs,
                }
            ).encode()
            mdig, msize = _blob(root, manifest)
            platform = {"os": img.os, "architecture": img.architecture}
            if img.variant:
                platform["variant"] = img.variant
            descriptors.append(
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": mdig,
                    "size": msize,
                    "platform": platform,
                    "annotations": {"org.opencontainers.image.ref.name": img.tag},
                }
            )
        if nested_index:
            inner = json.dumps({"schemaVersion": 2, "manifests": descriptors}).encode()
            idig, isize = _blob(root, inner)
            descriptors = [
                {
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "digest": idig,
                    "size": isize,
                    "annotations": {"org.opencontainers.image.ref.name": imgs[0].tag},
                }
            ]
        (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": descriptors}))
        if as_tar:
            with tarfile.open(dest, "w") as tar:
                for path in sorted(root.rglob("*")):
                    tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
        else:
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(root, dest)
    return dest


def random_bytes(seed: int, size: int) -> bytes:
    """Deterministic incompressible bytes."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


if __name__ == "__main__":  # pragma: no cover
    print("import this module; see scripts/make_sample.py")
    os._exit(0)
