"""The layer cache's binary entries: exact round trips, and damage never trusted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from layerscope.cache import LayerCache
from layerscope.layer import read_layer
from layerscope.model import BlobRef, HistoryEntry, Layer

from conftest import ROOT
from imagebuilder import D, F, W, layer_bytes

HIST = HistoryEntry("RUN make")


def real_layer(entries: list[F]) -> Layer:
    """A layer read by layerscope from a real tar built here."""
    data = layer_bytes(entries)
    ref = BlobRef("t", "layer.tar", None, None, len(data), None, lambda: iter([data]))
    return read_layer(ref, 0, HIST)


ENTRIES = [
    D("usr"),
    F("usr/bin/tool", b"#!/bin/sh\n", mode=0o4755, uid=1000, gid=50),
    F("usr/bin/link", kind="symlink", link="tool"),
    F("usr/bin/hard", kind="hardlink", link="usr/bin/tool"),
    F("caf\udce9/na\u00efve.txt", b"x" * 3000),  # a non-UTF-8 byte, escaped, and UTF-8
    F("big.log", b"log\n", size=70_000),
    W("etc/old.conf"),
]


def test_round_trip_is_exact(tmp_path: Path) -> None:
    layer = real_layer(ENTRIES)
    cache = LayerCache(tmp_path)
    cache.put(layer.diff_id, layer)
    files = list(tmp_path.iterdir())
    assert [f.suffix for f in files] == [".layer"]
    got = LayerCache(tmp_path).get(layer.diff_id, layer.diff_id, 0, HIST)
    assert got == layer


def test_numbers_beyond_32_bits_round_trip(tmp_path: Path) -> None:
    from dataclasses import replace

    layer = real_layer(ENTRIES)
    huge = replace(layer.entries[1], size=5 << 40, mtime=-(1 << 40), content_hash=(1 << 64) - 1)
    layer = replace(layer, entries=(huge, *layer.entries[1:]))
    cache = LayerCache(tmp_path)
    cache.put(layer.diff_id, layer)
    assert cache.get(layer.diff_id, layer.diff_id, 0, HIST) == layer


def test_empty_layer_round_trips(tmp_path: Path) -> None:
    layer = real_layer([])
    cache = LayerCache(tmp_path)
    cache.put(layer.diff_id, layer)
    assert cache.get(layer.diff_id, layer.diff_id, 0, HIST) == layer


@pytest.mark.parametrize("where", ["header", "body", "truncated", "empty"])
def test_a_damaged_entry_is_removed_and_missed(tmp_path: Path, where: str) -> None:
    layer = real_layer(ENTRIES)
    cache = LayerCache(tmp_path)
    cache.put(layer.diff_id, layer)
    (path,) = tmp_path.iterdir()
    raw = bytearray(path.read_bytes())
    if where == "header":
        raw[2] ^= 0x20
    elif where == "body":
        raw[-40] ^= 0x01
    elif where == "truncated":
        raw = raw[: len(raw) - 100]
    else:
        raw = bytearray()
    path.write_bytes(bytes(raw))
    assert cache.get(layer.diff_id, layer.diff_id, 0, HIST) is None
    assert not path.exists()
    assert cache.misses == 1 and cache.hits == 0
    cache.put(layer.diff_id, layer)  # rebuilt
    assert cache.get(layer.diff_id, layer.diff_id, 0, HIST) == layer


def test_a_checksummed_body_with_wrong_lengths_is_refused(tmp_path: Path) -> None:
    # A header whose checksum matches but whose column lengths lie must not index past the body.
    import hashlib

    layer = real_layer(ENTRIES)
    cache = LayerCache(tmp_path)
    cache.put(layer.diff_id, layer)
    (path,) = tmp_path.iterdir()
    head, _, body = path.read_bytes().partition(b"\n")
    header = json.loads(head)
    header["count"] += 1
    header["sha256"] = hashlib.sha256(body).hexdigest()
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)
    assert cache.get(layer.diff_id, layer.diff_id, 0, HIST) is None
    assert not path.exists()


def test_an_entry_for_another_layer_is_refused(tmp_path: Path) -> None:
    one, two = real_layer(ENTRIES), real_layer([F("other", b"2")])
    cache = LayerCache(tmp_path)
    cache.put(one.diff_id, two)  # stored under the wrong key
    assert cache.get(one.diff_id, one.diff_id, 0, HIST) is None


def test_a_nul_in_a_name_is_not_cached(tmp_path: Path) -> None:
    from dataclasses import replace

    layer = real_layer([F("a", b"1"), F("b", b"2")])
    odd = replace(layer, entries=(replace(layer.entries[0], path="a\0b"), layer.entries[1]))
    cache = LayerCache(tmp_path)
    cache.put(odd.diff_id, odd)
    assert list(tmp_path.iterdir()) == []


def test_legacy_json_entries_are_pruned(tmp_path: Path) -> None:
    (tmp_path / "sha256-00.json").write_text("{}\n[]")
    cache = LayerCache(tmp_path)
    assert cache.stats().layers == 1
    assert cache.prune(0) == 1 and not list(tmp_path.iterdir())


def test_concurrent_writers_leave_one_whole_entry(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(ROOT / 'tests')!r}, {str(ROOT / 'scripts')!r}]\n"
        "from test_cache import ENTRIES, HIST, real_layer\n"
        "from layerscope.cache import LayerCache\n"
        "from pathlib import Path\n"
        "layer = real_layer(ENTRIES)\n"
        "cache = LayerCache(Path(sys.argv[1]))\n"
        "for _ in range(50):\n"
        "    cache.put(layer.diff_id, layer)\n"
        "    got = cache.get(layer.diff_id, layer.diff_id, 0, HIST)\n"
        "    assert got is None or got == layer\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)]) for _ in range(4)]
    assert [p.wait() for p in procs] == [0] * 4
    assert [f.suffix for f in tmp_path.iterdir()] == [".layer"]
    layer = real_layer(ENTRIES)
    assert LayerCache(tmp_path).get(layer.diff_id, layer.diff_id, 0, HIST) == layer
