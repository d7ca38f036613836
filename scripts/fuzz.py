"""Coverage-guided fuzzing (atheris, libFuzzer) of the archive, layer and manifest readers.

    python scripts/fuzz.py [libFuzzer flags] [CORPUS_DIR]        # `make fuzz` runs it

The first byte of each input chooses what reads the rest:
    0  an image archive (a tar holding manifest.json or index.json ...), loaded in full
    1  a layer blob (tar, gzip or zstd, sniffed), read as the loader reads it
    2  image JSON: an index, a manifest and a config, parsed as the sources parse them
Any exception that is not a LayerscopeError is a bug: libFuzzer stops and writes the input
(`crash-*`); each one found becomes a case of scripts/make_corpus.py.

Seeds: when CORPUS_DIR is empty, small valid images and the corpus' small cases are written
into it first, so the fuzzer starts from real structure.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from functools import partial
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["layerscope"]):
    from layerscope.errors import LayerscopeError
    from layerscope.layer import read_layer
    from layerscope.loader import load_image
    from layerscope.model import BlobRef, HistoryEntry
    from layerscope.oci import load_json, parse_config, parse_index, parse_manifest
    from layerscope.sources.archive import spec_from_path

# libFuzzer ends the process without running atexit: the input file is unlinked at once and
# reached through /proc/self/fd, so nothing is left behind.
_FD, _NAME = tempfile.mkstemp(prefix="layerscope-fuzz-", suffix=".tar")
os.unlink(_NAME)
_ARCHIVE = Path(f"/proc/self/fd/{_FD}")
_BIG = {"gzip-bomb", "tiny-200000", "deep-10000"}
_SEED_LIMIT = 64 << 10


def _archive(data: bytes) -> None:
    os.ftruncate(_FD, 0)
    os.pwrite(_FD, data, 0)
    spec = spec_from_path(_ARCHIVE, "fuzz")
    try:
        load_image(spec)
    finally:
        spec.close()


def _layer(data: bytes) -> None:
    ref = BlobRef(
        what="fuzz layer",
        tar_name="layer.tar",
        media_type=None,
        digest=None,
        size=None,
        diff_id=None,
        open_chunks=partial(iter, [data[i : i + 4096] for i in range(0, len(data), 4096)]),
    )
    read_layer(ref, 0, HistoryEntry())


def _metadata(data: bytes) -> None:
    doc = load_json(data, "fuzz json")
    parse_index(doc, "fuzz index")
    parse_manifest(doc, "fuzz manifest")
    parse_config(doc, "fuzz config")


_READERS = [_archive, _layer, _metadata]


def one_input(data: bytes) -> None:
    if not data:
        return
    with contextlib.suppress(LayerscopeError):  # bad input, reported as such: what we want
        _READERS[data[0] % len(_READERS)](data[1:])


def seed(directory: Path) -> None:
    """Small valid and damaged inputs of each kind, as starting points."""
    from imagebuilder import F, ImageDef, Layer, layer_bytes, write_docker_archive
    from make_corpus import CASES, build

    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        img = ImageDef([Layer([F("etc/a", b"a"), F("etc/l", kind="symlink", link="a")])])
        (directory / "docker").write_bytes(
            b"\0" + write_docker_archive(img, Path(tmp) / "d.tar").read_bytes()
        )
        cases = build(Path(tmp) / "corpus", {c.name for c in CASES} - _BIG)
        for case in cases:
            path = Path(tmp) / "corpus" / case.path
            if path.is_file() and not path.is_symlink() and path.stat().st_size < _SEED_LIMIT:
                (directory / f"case-{case.name}").write_bytes(b"\0" + path.read_bytes())
    (directory / "layer").write_bytes(b"\1" + layer_bytes([F("x", b"data"), F("d/", kind="dir")]))
    config = {"rootfs": {"diff_ids": ["sha256:" + "a" * 64]}, "history": [{}], "os": "linux"}
    (directory / "config").write_bytes(b"\2" + json.dumps(config).encode())


def main() -> None:
    dirs = [a for a in sys.argv[1:] if not a.startswith("-")]
    if dirs and not any(Path(dirs[0]).iterdir() if Path(dirs[0]).is_dir() else []):
        seed(Path(dirs[0]))
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
