"""Tar bytes written field by field, so that tests can build headers no tar library would write.

Used by the malformed-image corpus (`make_corpus.py`), the property tests and the fuzz target.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

BLOCK = 512
END = bytes(2 * BLOCK)


def _octal(value: int, width: int) -> bytes:
    return f"{value:0{width - 1}o}".encode() + b"\0"


def header(
    name: bytes | str,
    size: int = 0,
    typeflag: bytes = b"0",
    *,
    mode: int = 0o644,
    uid: int = 0,
    gid: int = 0,
    mtime: int = 1_700_000_000,
    linkname: bytes | str = b"",
    size_field: bytes | None = None,
    checksum: bytes | None = None,
    magic: bytes = b"ustar\x0000",
    devmajor: int = 0,
    devminor: int = 0,
) -> bytes:
    """One 512-byte ustar header; `size_field`/`checksum` override the computed fields."""
    name_b = name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name
    link_b = linkname.encode("utf-8", "surrogateescape") if isinstance(linkname, str) else linkname
    block = bytearray(BLOCK)
    block[0:100] = name_b[:100].ljust(100, b"\0")
    block[100:108] = _octal(mode, 8)
    block[108:116] = _octal(uid, 8)
    block[116:124] = _octal(gid, 8)
    block[124:136] = size_field if size_field is not None else _octal(size, 12)
    block[136:148] = _octal(mtime, 12)
    block[148:156] = b" " * 8
    block[156:157] = typeflag
    block[157:257] = link_b[:100].ljust(100, b"\0")
    block[257:265] = magic
    block[265:297] = b"root".ljust(32, b"\0")
    block[297:329] = b"root".ljust(32, b"\0")
    block[329:337] = _octal(devmajor, 8)
    block[337:345] = _octal(devminor, 8)
    block[148:156] = checksum if checksum is not None else f"{sum(block):06o}\0 ".encode()
    return bytes(block)


def pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def member(name: bytes | str, data: bytes = b"", typeflag: bytes = b"0", **kw: object) -> bytes:
    """A header and its data, padded to the block size."""
    return header(name, len(data), typeflag, **kw) + pad(data)  # type: ignore[arg-type]


def pax_record(key: str, value: bytes | str) -> bytes:
    value_b = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    body = f" {key}=".encode() + value_b + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode() + body


def pax(records: dict[str, bytes | str], typeflag: bytes = b"x") -> bytes:
    data = b"".join(pax_record(k, v) for k, v in records.items())
    return member("PaxHeaders/x", data, typeflag)


def tar(*members: bytes, end: bool = True) -> bytes:
    return b"".join(members) + (END if end else b"")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def outer_tar(files: list[tuple[str, bytes]]) -> bytes:
    """An archive of named members (the outer tar of a docker-archive or OCI archive)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_700_000_000
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def config_json(diff_ids: list[str], **extra: object) -> bytes:
    history = [{"created_by": f"/bin/sh -c step {i}"} for i in range(len(diff_ids))]
    doc: dict[str, object] = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
        **extra,
    }
    return json.dumps(doc).encode()


@dataclass
class DockerArchive:
    """A docker-archive from raw layer blobs; every part can be replaced to damage it."""

    layers: list[bytes]
    diff_ids: list[str] | None = None
    config: bytes | None = None
    config_name: str | None = None
    manifest: bytes | None = None
    tags: object = field(default_factory=lambda: ["corpus/case:1"])
    layer_names: list[str] | None = None
    extra: list[tuple[str, bytes]] = field(default_factory=list)
    omit: frozenset[str] = frozenset()

    def files(self) -> list[tuple[str, bytes]]:
        diff_ids = self.diff_ids if self.diff_ids is not None else [sha256(b) for b in self.layers]
        config = self.config if self.config is not None else config_json(diff_ids)
        config_name = self.config_name or sha256(config)[7:] + ".json"
        names = self.layer_names or [f"{sha256(b)[7:]}.tar" for b in self.layers]
        manifest = self.manifest
        if manifest is None:
            doc = [{"Config": config_name, "RepoTags": self.tags, "Layers": names}]
            manifest = json.dumps(doc).encode()
        out = [(n, b) for n, b in zip(names, self.layers, strict=False)]
        out += [(config_name, config), ("manifest.json", manifest), *self.extra]
        return [(n, b) for n, b in out if n not in self.omit]

    def bytes(self) -> bytes:
        return outer_tar(self.files())

    def write(self, dest: Path) -> Path:
        dest.write_bytes(self.bytes())
        return dest


LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_GZIP = LAYER_TAR + "+gzip"
LAYER_ZSTD = LAYER_TAR + "+zstd"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


def descriptor(media_type: str, data: bytes, **extra: object) -> dict[str, object]:
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data), **extra}


@dataclass
class OciLayout:
    """An OCI image layout from raw blobs: (media type, stored bytes, uncompressed tar)."""

    layers: list[tuple[str, bytes, bytes]]
    config: bytes | None = None
    manifest: bytes | None = None
    index: bytes | None = None
    blobs: dict[str, bytes] = field(default_factory=dict)
    """Blobs written as they are, by their path under the layout (`blobs/sha256/...`)."""
    omit: frozenset[str] = frozenset()

    def files(self) -> list[tuple[str, bytes]]:
        config = self.config or config_json([sha256(raw) for _, _, raw in self.layers])
        manifest = (
            self.manifest
            or json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "config": descriptor(OCI_CONFIG, config),
                    "layers": [descriptor(mt, stored) for mt, stored, _ in self.layers],
                }
            ).encode()
        )
        index = (
            self.index
            or json.dumps(
                {"schemaVersion": 2, "manifests": [descriptor(OCI_MANIFEST, manifest)]}
            ).encode()
        )
        files = {f"blobs/sha256/{sha256(b)[7:]}": b for _, b, _ in self.layers}
        files.update({f"blobs/sha256/{sha256(b)[7:]}": b for b in (config, manifest)})
        files.update(self.blobs)
        files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
        files["index.json"] = index
        return [(n, b) for n, b in sorted(files.items()) if n not in self.omit]

    def write_tar(self, dest: Path) -> Path:
        dest.write_bytes(outer_tar(self.files()))
        return dest

    def write_dir(self, dest: Path) -> Path:
        for name, data in self.files():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(data)
        return dest
