"""Write the malformed-image corpus: damaged, hostile and odd-but-valid images, one per case.

    python scripts/make_corpus.py DIR        # writes DIR/<case>... and DIR/cases.json

Every case is generated here from code (no binary is committed). `tests/test_corpus.py` runs the
real CLI on each: a broken case must exit 2 with one line on stderr naming what is wrong and
where; a case that is odd but valid (device files, non-UTF-8 names, whiteouts of missing paths
...) must be read. Crashes the fuzz target finds are added here as cases.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rawtar import (
    LAYER_GZIP,
    LAYER_TAR,
    LAYER_ZSTD,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    DockerArchive,
    OciLayout,
    config_json,
    descriptor,
    header,
    member,
    outer_tar,
    pax,
    sha256,
    tar,
)


@dataclass(frozen=True)
class Case:
    name: str
    family: str
    path: str
    """The image argument, relative to the corpus directory."""
    ok: bool = False
    """True: valid input that must be read (exit 0); False: exit 2 with one clear line."""
    says: tuple[str, ...] = ()
    """Lower-case words the error line (or, for valid input, stderr) must contain."""
    names: str = ""
    """What the error line must name: a file, blob or digest (default: the image path)."""
    present: tuple[str, ...] = ()
    """For valid input: paths the JSON's layers must list."""
    args: tuple[str, ...] = ()


CASES: list[Case] = []
_BUILDERS: list[tuple[Case, Callable[[Path], None]]] = []


def case(name: str, family: str, **kw: object) -> Callable[[Callable[[Path], None]], None]:
    """Register a builder writing the case's input at the given path."""

    def register(build: Callable[[Path], None]) -> None:
        path = str(kw.pop("path", name + _suffix(family)))
        c = Case(name=name, family=family, path=path, **kw)  # type: ignore[arg-type]
        CASES.append(c)
        _BUILDERS.append((c, build))

    return register


def _suffix(family: str) -> str:
    return "" if family in ("layout", "file-dir") else ".tar"


GOOD = tar(member("etc/", typeflag=b"5", mode=0o755), member("etc/hello", b"hello\n"))
GOOD_GZ = gzip.compress(GOOD, mtime=0)


def _docker(layers: list[bytes], **kw: object) -> Callable[[Path], None]:
    return lambda p: DockerArchive(layers, **kw).write(p)  # type: ignore[arg-type]


def _layer_case(name: str, layer: bytes, *says: str, **kw: object) -> None:
    """A docker-archive whose one layer is `layer`, with its diff_id right."""
    case(name, "tar", says=says, **kw)(_docker([layer]))


def _oci(layers: list[tuple[str, bytes, bytes]], **kw: object) -> Callable[[Path], None]:
    return lambda p: OciLayout(layers, **kw).write_tar(p)  # type: ignore[arg-type]


def _cut(data: bytes, at: int) -> bytes:
    return data[:at]


# -- files that are no image at all -------------------------------------------------------
case("empty-file", "file", says=("not an image",))(lambda p: p.write_bytes(b""))
case("random-bytes", "file", says=("not an image",))(
    lambda p: p.write_bytes(b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(2000)))
)
case("json-file", "file", says=("not an image",))(lambda p: p.write_bytes(b'{"a": 1}\n' * 100))
case("rootfs-tar", "file", says=("not an image",))(lambda p: p.write_bytes(GOOD))


@case("plain-directory", "file-dir", says=("not an image",))
def _plain_dir(p: Path) -> None:
    p.mkdir()
    (p / "README").write_text("not an image\n")


case("empty-directory", "file-dir", says=("not an image",))(lambda p: p.mkdir())
case("fifo", "file", path="fifo", says=("not a regular file",))(os.mkfifo)
case("symlink-loop", "file", path="loop.tar", says=("symlink",))(lambda p: p.symlink_to(p.name))
case("symlink-to-device", "file", path="zero.tar", says=("not a regular file",))(
    lambda p: p.symlink_to("/dev/zero")
)
case("dangling-symlink", "file", path="dangling.tar", says=("no such file",))(
    lambda p: p.symlink_to("nowhere.tar")
)

# -- truncated archives -----------------------------------------------------------------
_ARCHIVE = DockerArchive([GOOD, tar(member("big", bytes(range(256)) * 40))])
_FULL = _ARCHIVE.bytes()
_MANIFEST_AT = _FULL.rfind(b'[{"Config"')
case("cut-mid-header", "truncated", says=("truncated",))(
    lambda p: p.write_bytes(_cut(_FULL, 512 * 3 + 100))
)
case("cut-mid-layer-data", "truncated", says=("truncated",))(
    lambda p: p.write_bytes(_cut(_FULL, _FULL.find(bytes(range(256))) + 3000))
)
case("cut-mid-manifest", "truncated", says=("truncated",))(
    lambda p: p.write_bytes(_cut(_FULL, _MANIFEST_AT + 20))
)
case("cut-before-manifest", "truncated", says=("truncated",))(
    lambda p: p.write_bytes(_cut(_FULL, _MANIFEST_AT - 512))
)
_OCI_FULL = outer_tar(OciLayout([(LAYER_GZIP, GOOD_GZ, GOOD)] * 1).files())
case("oci-cut-mid-blob", "truncated", says=("truncated",))(
    lambda p: p.write_bytes(_cut(_OCI_FULL, len(_OCI_FULL) // 2 + 7))
)
case("gzip-layer-truncated", "truncated", says=("gzip", "truncated"))(
    _oci([(LAYER_GZIP, GOOD_GZ[:-12], GOOD)])
)
_ZST = zstandard.ZstdCompressor().compress(GOOD)
case("zstd-layer-truncated", "truncated", says=("zstd",))(_oci([(LAYER_ZSTD, _ZST[:-9], GOOD)]))
_layer_case("layer-tar-cut-mid-data", GOOD[: 1024 + 3], "truncated")
_layer_case("layer-tar-cut-mid-header", GOOD[:700], "truncated")
case("gzip-archive-truncated", "truncated", path="cut.tar.gz", says=("truncated",))(
    lambda p: p.write_bytes(gzip.compress(_FULL, mtime=0)[:-300])
)

# -- docker-archive metadata ------------------------------------------------------------
case("no-manifest", "docker", says=("not an image",))(
    _docker([GOOD], omit=frozenset({"manifest.json"}))
)
case("manifest-not-json", "docker", says=("manifest.json", "json"))(_docker([GOOD], manifest=b"[{"))
case("manifest-object", "docker", says=("manifest.json",))(_docker([GOOD], manifest=b"{}"))
case("manifest-empty-list", "docker", says=("manifest.json",))(_docker([GOOD], manifest=b"[]"))
case("manifest-layers-not-list", "docker", says=("manifest.json", "layers"))(
    _docker([GOOD], manifest=b'[{"Config": "c.json", "Layers": "x.tar"}]')
)
case("manifest-config-number", "docker", says=("manifest.json", "config"))(
    _docker([GOOD], manifest=b'[{"Config": 7, "Layers": []}]')
)
case("manifest-layer-number", "docker", says=("manifest.json",))(
    _docker([GOOD], manifest=b'[{"Config": "c.json", "Layers": [5]}]')
)
case("manifest-deep-json", "docker", says=("manifest.json", "deep"))(
    _docker([GOOD], manifest=b"[" * 200_000 + b"]" * 200_000)
)
case("manifest-huge-number", "docker", says=("manifest.json",))(
    _docker([GOOD], manifest=b"[" + b"9" * 100_000 + b"]")
)
case("manifest-names-escape", "docker", says=("not in the archive",))(
    _docker([GOOD], layer_names=["../../etc/passwd"])
)
case("config-missing", "docker", says=("not in the archive",))(
    _docker([GOOD], config_name="0" * 64 + ".json", omit=frozenset({"0" * 64 + ".json"}))
)
case("config-not-json", "docker", says=("config", "json"))(_docker([GOOD], config=b"{oops"))
case("config-no-rootfs", "docker", says=("config", "rootfs"))(_docker([GOOD], config=b"{}"))
case("config-diff-ids-string", "docker", says=("config", "diff_ids"))(
    _docker([GOOD], config=b'{"rootfs": {"diff_ids": "sha256:00"}}')
)
case("config-diff-ids-count", "docker", says=("config", "diff_ids"))(
    _docker([GOOD], config=config_json([]))
)
case("config-deep-json", "docker", says=("config", "deep"))(
    _docker([GOOD], config=b'{"rootfs": ' + b"{" * 100_000 + b"}" * 100_000 + b"}")
)
case("config-history-not-list", "docker", says=("config", "history"))(
    _docker([GOOD], config=config_json([sha256(GOOD)], history={"a": 1}))
)
case("diff-id-mismatch", "docker", says=("digest",), names="layer 0")(
    _docker([GOOD], diff_ids=["sha256:" + "ab" * 32])
)
case("diff-id-bad-algorithm", "docker", says=("digest",), names="md5:")(
    _docker([GOOD], diff_ids=["md5:" + "ab" * 16])
)
case("layer-missing", "docker", says=("not in the archive",))(
    _docker([GOOD], layer_names=["f" * 64 + ".tar"], omit=frozenset({"f" * 64 + ".tar"}))
)
# The layer is damaged in storage: its digest, checked first, is what the user must hear about.
case("diff-id-checked-before-tar", "docker", says=("digest",), names="layer 0")(
    _docker([GOOD[:600] + b"\xff" * 40 + GOOD[640:]], diff_ids=[sha256(GOOD)])
)
case("repotags-string", "docker", ok=True, present=("etc/hello",))(
    _docker([GOOD], tags="corpus/case:1")
)
case("config-name-not-digest", "docker", ok=True, says=("warning",), present=("etc/hello",))(
    _docker([GOOD], config_name="f" * 64 + ".json")
)
case("legacy-repositories-bad", "docker", says=("repositories",))(
    lambda p: p.write_bytes(outer_tar([("repositories", b"[1, 2"), ("x/json", b"{}")]))
)


@case("legacy-parent-loop", "docker", says=("parent",))
def _legacy_loop(p: Path) -> None:
    a, b = "a" * 64, "b" * 64
    files = [
        ("repositories", json.dumps({"corpus/case": {"1": a}}).encode()),
        (f"{a}/json", json.dumps({"id": a, "parent": b}).encode()),
        (f"{a}/layer.tar", GOOD),
        (f"{b}/json", json.dumps({"id": b, "parent": a}).encode()),
        (f"{b}/layer.tar", GOOD),
    ]
    p.write_bytes(outer_tar(files))


# -- OCI layouts ------------------------------------------------------------------------
_L = [(LAYER_GZIP, GOOD_GZ, GOOD)]
case("index-not-json", "oci", says=("index.json", "json"))(_oci(_L, index=b"nope"))
case("index-manifests-string", "oci", says=("index.json", "manifests"))(
    _oci(_L, index=b'{"manifests": "x"}')
)
case("index-empty", "oci", says=("index.json",))(_oci(_L, index=b'{"manifests": []}'))
case("index-deep-json", "oci", says=("index.json", "deep"))(
    _oci(_L, index=b'{"manifests": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
)
_SELF = "c" * 64
case("index-self-reference", "oci", says=("digest",), names=_SELF[:12])(
    _oci(
        _L,
        index=json.dumps(
            {"manifests": [{"mediaType": OCI_INDEX, "digest": f"sha256:{_SELF}", "size": 99}]}
        ).encode(),
        blobs={
            f"blobs/sha256/{_SELF}": json.dumps(
                {"manifests": [{"mediaType": OCI_INDEX, "digest": f"sha256:{_SELF}", "size": 9}]}
            ).encode()
        },
    )
)


def _nested(depth: int, fan: int) -> Callable[[Path], None]:
    def build(p: Path) -> None:
        layout = OciLayout(_L)
        files = dict(layout.files())
        inner = json.loads(files["index.json"])
        blobs: dict[str, bytes] = {}
        for _ in range(depth):
            data = json.dumps(inner).encode()
            blobs[f"blobs/sha256/{sha256(data)[7:]}"] = data
            inner = {"manifests": [descriptor(OCI_INDEX, data)] * fan}
        layout.index, layout.blobs = json.dumps(inner).encode(), blobs
        layout.write_tar(p)

    return build


case("index-fan-out", "oci", ok=True, present=("etc/hello",))(_nested(6, 40))
case("index-nested-too-deep", "oci", says=("nested",))(_nested(40, 1))
case("manifest-blob-missing", "oci", says=("not in the archive",))(
    lambda p: OciLayout(
        _L,
        index=json.dumps(
            {"manifests": [{"mediaType": OCI_MANIFEST, "digest": "sha256:" + "d" * 64, "size": 9}]}
        ).encode(),
    ).write_tar(p)
)
_MAN = json.loads(dict(OciLayout(_L).files())["index.json"])["manifests"][0]["digest"]
case("manifest-wrong-digest", "oci", says=("digest",), names=_MAN)(
    lambda p: OciLayout(_L, blobs={f"blobs/sha256/{_MAN[7:]}": b'{"layers": []}'}).write_tar(p)
)
case("manifest-layers-string", "oci", says=("layers",))(
    _oci(_L, manifest=json.dumps({"config": descriptor(OCI_CONFIG, b"{}"), "layers": "x"}).encode())
)
case("manifest-no-config", "oci", says=("config",))(
    _oci(_L, manifest=json.dumps({"layers": []}).encode())
)
_CFG = config_json([sha256(GOOD)])
case("config-wrong-digest", "oci", says=("digest",), names=sha256(_CFG))(
    lambda p: OciLayout(
        _L, config=_CFG, blobs={f"blobs/sha256/{sha256(_CFG)[7:]}": b"{}"}
    ).write_tar(p)
)
case("config-artifact", "oci", says=("artifact",))(
    _oci(
        _L,
        manifest=json.dumps(
            {
                "config": descriptor("application/vnd.example.thing", b"{}"),
                "layers": [descriptor(LAYER_GZIP, GOOD_GZ)],
            }
        ).encode(),
        blobs={f"blobs/sha256/{sha256(b'{}')[7:]}": b"{}"},
    )
)
case("layer-blob-missing", "oci", says=("missing",), names=sha256(GOOD_GZ))(
    _oci(_L, omit=frozenset({f"blobs/sha256/{sha256(GOOD_GZ)[7:]}"}))
)
# The stored blob is damaged: the blob digest, not the gzip or tar error, is reported.
case("layer-digest-checked-first", "oci", says=("digest",), names=sha256(GOOD_GZ))(
    lambda p: OciLayout(
        _L, blobs={f"blobs/sha256/{sha256(GOOD_GZ)[7:]}": GOOD_GZ[:20] + b"\0" * 20 + GOOD_GZ[40:]}
    ).write_tar(p)
)
case("unknown-media-type", "oci", says=("media type",))(
    _oci([("application/vnd.example.layer.v1.tar+lz4", GOOD, GOOD)])
)
case("gzip-declared-plain", "oci", says=("gzip",))(_oci([(LAYER_GZIP, GOOD, GOOD)]))
case("zstd-declared-gzip", "oci", says=("zstd",))(_oci([(LAYER_ZSTD, GOOD_GZ, GOOD)]))
case("tar-declared-gzip", "oci", says=("digest",))(_oci([(LAYER_TAR, GOOD_GZ, GOOD)]))
case("corrupt-gzip", "oci", says=("gzip",))(
    _oci([(LAYER_GZIP, GOOD_GZ[:30] + b"\x55" * 30 + GOOD_GZ[60:], GOOD)])
)
case("corrupt-gzip-crc", "oci", says=("gzip",))(
    _oci([(LAYER_GZIP, GOOD_GZ[:-8] + b"\0\0\0\0" + GOOD_GZ[-4:], GOOD)])
)
case("corrupt-zstd", "oci", says=("zstd",))(
    _oci([(LAYER_ZSTD, _ZST[:20] + b"\xaa" * 20 + _ZST[40:], GOOD)])
)
case("zero-length-layer", "oci", says=("empty",))(_oci([(LAYER_TAR, b"", b"")]))
case("zero-length-gzip-layer", "oci", says=("gzip",))(_oci([(LAYER_GZIP, b"", b"")]))
case("digest-not-hex", "oci", says=("digest",))(
    _oci(
        _L,
        index=b'{"manifests": [{"mediaType": "%s", "digest": "sha256:../../x", "size": 1}]}'
        % OCI_MANIFEST.encode(),
    )
)
case("digest-unknown-algorithm", "oci", says=("algorithm",), names="md5")(
    _oci(
        _L,
        index=b'{"manifests": [{"mediaType": "%s", "digest": "md5:abcd", "size": 1}]}'
        % OCI_MANIFEST.encode(),
    )
)


@case("sha512-wrong-digest", "oci", says=("digest",), names="sha512:")
def _sha512(p: Path) -> None:
    layout = OciLayout(_L)
    files = dict(layout.files())
    manifest_digest = json.loads(files["index.json"])["manifests"][0]["digest"]
    manifest = files[f"blobs/sha256/{manifest_digest[7:]}"]
    fake = "e" * 128
    layout.index = json.dumps(
        {"manifests": [{"mediaType": OCI_MANIFEST, "digest": f"sha512:{fake}", "size": 1}]}
    ).encode()
    layout.blobs = {f"blobs/sha512/{fake}": manifest}
    layout.write_tar(p)


def _layout_dir(special: Callable[[Path, str], None]) -> Callable[[Path], None]:
    """An OCI layout directory whose layer blob is replaced by something special."""

    def build(p: Path) -> None:
        OciLayout(_L).write_dir(p)
        blob = p / "blobs" / "sha256" / sha256(GOOD_GZ)[7:]
        blob.unlink()
        special(blob, blob.name)

    return build


case("layout-blob-fifo", "layout", says=("not a regular file",))(
    _layout_dir(lambda b, _: os.mkfifo(b))
)
case("layout-blob-symlink-loop", "layout", says=("symlink",))(
    _layout_dir(lambda b, n: b.symlink_to(n))
)
case("layout-blob-device", "layout", says=("not a regular file",))(
    _layout_dir(lambda b, _: b.symlink_to("/dev/zero"))
)
case("layout-blob-outside", "layout", says=("outside",))(
    _layout_dir(lambda b, _: b.symlink_to("/etc/hostname"))
)


@case("layout-index-fifo", "layout", says=("index.json",))
def _index_fifo(p: Path) -> None:
    OciLayout(_L).write_dir(p)
    (p / "index.json").unlink()
    os.mkfifo(p / "index.json")


# -- layer tars -------------------------------------------------------------------------
_F = member("etc/hello", b"hello\n")
_layer_case("bad-checksum", header("a", checksum=b"0000000\0") + bytes(512) * 2, "checksum")
_layer_case(
    "negative-size",
    header("a", size_field=b"\xff" + b"\xff" * 10 + b"\xf0") + bytes(1024),
    "negative",
)
_layer_case(
    "huge-size", header("a", size_field=b"\x80" + (1 << 80).to_bytes(11, "big")), "truncated"
)
_layer_case("size-not-octal", header("a", size_field=b"12abc\0\0\0\0\0\0\0"), "number")
for _key, _value, _word in [
    ("size", "nan", "size"),
    ("size", "12abc", "size"),
    ("size", "-5", "size"),
    ("size", "inf", "size"),
    ("size", "9" * 5000, "size"),
    ("mtime", "nan", "mtime"),
    ("mtime", "inf", "mtime"),
    ("mtime", "1e999", "mtime"),
    ("uid", "root", "uid"),
    ("gid", "-1", "gid"),
]:
    _slug = "".join(ch if ch.isalnum() else "-" for ch in _value[:8])
    _layer_case(f"pax-{_key}-{_slug}", tar(pax({_key: _value}), _F), "pax", _word)
_layer_case(
    "pax-bad-length",
    tar(member("PaxHeaders/x", b"99999 path=x\n", b"x"), _F),
    "pax",
)
_layer_case("pax-no-space", tar(member("PaxHeaders/x", b"12path=abcde\n", b"x"), _F), "pax")
_layer_case("pax-declares-gigabytes", header("PaxHeaders/x", 4 << 30, b"x") + bytes(4096), "pax")
_layer_case(
    "longname-declares-gigabytes",
    header("././@LongLink", 2 << 30, b"L") + bytes(4096),
    "long name",
)
_layer_case(
    "longname-chain-without-member",
    tar(*[member("././@LongLink", b"x" * 200 + b"\0", b"L") for _ in range(300)]),
    "long name",
)
_layer_case("global-pax-huge", header("PaxHeaders/g", 1 << 40, b"g") + bytes(1024), "pax")
_layer_case(
    "gnu-sparse-truncated",
    header("sparse", 10, b"S")[:482] + b"\x01" + bytes(29),
    "sparse",
)
_layer_case("not-a-tar", bytes(range(256)) * 8, "not a tar")
_layer_case("zero-length-layer-file", b"", "empty")
_layer_case("dotdot-path", tar(member("../../etc/passwd", b"x")), "escapes")
_layer_case("dotdot-inside-path", tar(member("usr/../../x", b"x")), "escapes")
_layer_case(
    "dotdot-hardlink", tar(member("x", typeflag=b"1", linkname="../../etc/shadow")), "escapes"
)
_layer_case(
    "hardlink-missing-target", tar(member("x", typeflag=b"1", linkname="nowhere")), "hardlink"
)
_layer_case("whiteout-with-data", tar(member("etc/.wh.hello", b"data")), "whiteout")
_layer_case("opaque-with-data", tar(member("etc/.wh..wh..opq", b"data")), "whiteout")
_layer_case("bare-whiteout", tar(member("etc/.wh.", b"")), "whiteout")


@case("outer-member-declares-2-80", "truncated", says=("truncated",))
def _outer_huge(p: Path) -> None:
    p.write_bytes(header("manifest.json", size_field=b"\x80" + (1 << 80).to_bytes(11, "big")))


@case("outer-pax-declares-gigabytes", "truncated", says=("pax",))
def _outer_pax(p: Path) -> None:
    p.write_bytes(header("PaxHeaders/x", 3 << 30, b"x") + bytes(8192))


# -- odd but valid: read, and read right -----------------------------------------------------
def _ok(name: str, layers: list[bytes], *present: str, **kw: object) -> None:
    case(name, "valid", ok=True, present=present, **kw)(_docker(layers))


_ok("absolute-paths", [tar(member("/etc/", typeflag=b"5"), member("/etc/abs", b"x"))], "etc/abs")
_ok(
    "devices",
    [
        tar(
            member("dev/", typeflag=b"5"),
            member("dev/null", typeflag=b"3", devmajor=1, devminor=3),
            member("dev/sda", typeflag=b"4", devmajor=8),
            member("dev/fifo", typeflag=b"6"),
        )
    ],
    "dev/null",
    "dev/sda",
    "dev/fifo",
)
_ok(
    "non-utf8-names",
    [
        tar(
            member(b"caf\xe9", b"x" * 5000),
            member(b"\xff\xfe/", typeflag=b"5"),
            member(b"\xff\xfe/\x80", b"y"),
            member(b"ok\xc3\xa9", b"z"),
        )
    ],
    "ok\u00e9",
)
_ok(
    "duplicate-entries",
    [tar(member("etc/hello", b"one"), member("etc/hello", b"two!"), member("etc/hello", b"3"))],
    "etc/hello",
)
_ok("whiteout-missing-path", [GOOD, tar(member("nothing/.wh.here"), member(".wh.absent"))])
_ok("opaque-at-root", [GOOD, tar(member(".wh..wh..opq"), member("new", b"n"))], "new")
_ok(
    "symlink-loop-in-layer",
    [tar(member("a", typeflag=b"2", linkname="b"), member("b", typeflag=b"2", linkname="a"))],
    "a",
)
_ok("symlink-escaping", [tar(member("up", typeflag=b"2", linkname="../../../etc/shadow"))], "up")
_ok("garbage-after-end", [GOOD + b"\x01trailing garbage" * 100], "etc/hello")
_ok(
    "hardlink-to-lower-layer",
    [GOOD, tar(member("etc/link", typeflag=b"1", linkname="etc/hello"))],
    "etc/link",
)


@case("deep-10000", "valid", ok=True, present=("d",))
def _deep(p: Path) -> None:
    members = []
    path = "d"
    for _ in range(10_000):
        members.append(pax({"path": path + "/"}) + header("deep", typeflag=b"5", mode=0o755))
        path += "/d"
    members.append(pax({"path": path}) + header("deep", 1) + member("", b"x")[512:])
    raw = tar(*members)
    OciLayout([(LAYER_GZIP, gzip.compress(raw, 6, mtime=0), raw)]).write_tar(p)


@case("tiny-200000", "valid", ok=True, present=("f/000000", "f/199999"))
def _tiny(p: Path) -> None:
    body = b"".join(header(f"f/{i:06d}") for i in range(200_000))
    raw = tar(member("f/", typeflag=b"5"), body)
    OciLayout([(LAYER_GZIP, gzip.compress(raw, 1, mtime=0), raw)]).write_tar(p)


@case("gzip-bomb", "valid", ok=True, present=("zeros",))
def _bomb(p: Path) -> None:
    size = 1 << 30
    head = header("zeros", size)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    diff = hashlib.sha256(head)
    parts = [comp.compress(head)]
    zeros = bytes(1 << 20)
    for _ in range(size >> 20):
        diff.update(zeros)
        parts.append(comp.compress(zeros))
    end = bytes(1024)
    diff.update(end)
    parts += [comp.compress(end), comp.flush()]
    blob = b"".join(parts)
    layout = OciLayout([(LAYER_GZIP, blob, b"")])
    layout.config = config_json(["sha256:" + diff.hexdigest()])
    layout.write_tar(p)


def build(dest: Path, only: set[str] | None = None) -> list[Case]:
    """Write every case (or those named in `only`) under `dest`; also write `cases.json`."""
    dest.mkdir(parents=True, exist_ok=True)
    done = []
    for c, builder in _BUILDERS:
        if only is not None and c.name not in only:
            continue
        builder(dest / c.path)
        done.append(c)
    (dest / "cases.json").write_text(json.dumps([asdict(c) for c in done], indent=1))
    return done


def by_name() -> dict[str, Case]:
    return {c.name: c for c in CASES}


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: make_corpus.py DIR [CASE...]")
    written = build(Path(sys.argv[1]), set(sys.argv[2:]) or None)
    print(f"{len(written)} cases in {sys.argv[1]}")
