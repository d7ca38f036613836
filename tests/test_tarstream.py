"""Tar-level rules: names, extended headers, numbers, corruption."""

from __future__ import annotations

import io
import tarfile

import pytest

from layerscope.errors import CorruptLayer
from layerscope.model import EntryKind
from layerscope.tarstream import ChunkSource, clean_name, iter_members

from imagebuilder import F, layer_bytes


def members(data: bytes, chunk: int = 7):
    chunks = iter([data[i : i + chunk] for i in range(0, len(data), chunk)])
    return list(iter_members(ChunkSource(chunks, "t"), "t", hash_content=True))


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_long_names_in_every_format(fmt: int) -> None:
    long = "d/" + "x" * 150 + "/file.txt"
    data = layer_bytes([F(long, b"hello"), F("short", b"")], fmt)
    got = members(data)
    assert [m.name for m, _ in got] == [long, "short"]
    assert got[0][0].size == 5 and got[0][1] != 0


def test_long_link_names() -> None:
    target = "t/" + "y" * 200
    data = layer_bytes([F("link", kind="symlink", link=target)], tarfile.GNU_FORMAT)
    assert members(data)[0][0].linkname == target


def test_pax_global_header_applies_to_later_members() -> None:
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"uid": "4242"}
    ) as tar:
        info = tarfile.TarInfo("a")
        tar.addfile(info, io.BytesIO(b""))
    got = members(buf.getvalue())
    assert [m.name for m, _ in got] == ["a"]
    assert got[0][0].uid == 4242


def test_non_utf8_names_survive() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, encoding="latin-1") as tar:
        tar.addfile(tarfile.TarInfo("caf\xe9"), io.BytesIO(b""))
    ((member, _),) = members(buf.getvalue())
    assert member.name.encode("utf-8", "surrogateescape") == b"caf\xe9"


def test_big_numbers_in_base256() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo("big-uid")
        info.uid = 10**10
        tar.addfile(info, io.BytesIO(b""))
    assert members(buf.getvalue())[0][0].uid == 10**10


def test_content_hash_tells_contents_apart_across_chunk_boundaries() -> None:
    data = layer_bytes([F("a", b"x" * 5000), F("b", b"x" * 5000), F("c", b"x" * 4999 + b"y")])
    hashes = [h for _, h in members(data, chunk=333)]
    assert hashes[0] == hashes[1] != hashes[2]


def test_checksum_mismatch_is_corrupt() -> None:
    data = bytearray(layer_bytes([F("a", b"abc")]))
    data[10] ^= 0xFF
    with pytest.raises(CorruptLayer, match="checksum"):
        members(bytes(data))


def test_truncated_data_is_corrupt() -> None:
    data = layer_bytes([F("a", b"z" * 3000)])
    with pytest.raises(CorruptLayer, match="truncated"):
        members(data[:1024])


def test_not_a_tar() -> None:
    with pytest.raises(CorruptLayer):
        members(b"{" + b"x" * 600)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("./etc/passwd", "etc/passwd"), ("/etc/", "etc"), ("a//b/./c", "a/b/c"), (".", ""), ("/", "")],
)
def test_clean_name(raw: str, clean: str) -> None:
    assert clean_name(raw, "t") == clean


def test_escaping_names_are_refused() -> None:
    with pytest.raises(CorruptLayer, match="escapes"):
        clean_name("../etc/passwd", "t")


def test_kinds() -> None:
    from layerscope.tarstream import member_to_entry

    data = layer_bytes(
        [
            F("d", kind="dir", mode=0o755),
            F("l", kind="symlink", link="d"),
            F("h", kind="hardlink", link="f"),
            F("p", kind="fifo"),
        ]
    )
    kinds = [member_to_entry(m, m.name, h).kind for m, h in members(data)]
    assert kinds == [EntryKind.DIR, EntryKind.SYMLINK, EntryKind.HARDLINK, EntryKind.FIFO]
