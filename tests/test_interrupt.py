"""ctrl+c (SIGINT) and SIGTERM in the middle of a load or a registry pull: the process stops
promptly with 130 or 143, one line on stderr, no temporary file and no partial cache entry.

Real processes and real servers: a registry behind a proxy that delivers blobs slowly, and an
archive trickled into stdin.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import Faults, Registry, skopeo_copy, start_proxy, start_registry

from imagebuilder import D, F, ImageDef, Layer, random_bytes, write_docker_archive, write_oci_layout

SIGNALS = [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]


def image() -> ImageDef:
    return ImageDef(
        [
            Layer([D("opt"), F("opt/one", random_bytes(1, 3 << 20))], "/bin/sh -c one"),
            Layer([F("opt/two", random_bytes(2, 3 << 20))], "/bin/sh -c two"),
            Layer([F("opt/three", random_bytes(3, 3 << 20))], "/bin/sh -c three"),
        ],
        tag="slow/img:1",
    )


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = start_registry(tmp_path_factory.mktemp("registry"))
    layout = write_oci_layout([image()], tmp_path_factory.mktemp("img") / "layout")
    skopeo_copy(f"oci:{layout}", reg, "slow:1")
    yield reg
    reg.stop()


def _start(args: list[str], tmp_path: Path, **kw: object) -> subprocess.Popen[bytes]:
    for d in ("tmp", "cache"):
        (tmp_path / d).mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(TMPDIR=str(tmp_path / "tmp"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    return subprocess.Popen(
        [sys.executable, "-m", "layerscope", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,  # type: ignore[arg-type]
    )


def _stopped(proc: subprocess.Popen[bytes], sig: int, code: int, word: str) -> None:
    proc.send_signal(sig)
    start = time.monotonic()
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - start < 4, "did not stop promptly"
    assert proc.returncode == code, err
    assert err.decode().splitlines() == [f"layerscope: {word}"]
    assert out == b""


def _nothing_left(tmp_path: Path) -> None:
    assert os.listdir(tmp_path / "tmp") == []
    layers = tmp_path / "cache" / "layerscope" / "layers"
    left = sorted(p.name for p in layers.iterdir()) if layers.is_dir() else []
    assert [n for n in left if n.startswith(".")] == []  # entries are written as dot files
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(("sig", "code", "word"), SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_signal_during_a_registry_pull(
    registry: Registry, tmp_path: Path, sig: int, code: int, word: str
) -> None:
    faults = Faults(delay=0.05)  # ~300 KiB/s per blob: each layer takes seconds
    proxy = start_proxy(registry.host, faults)
    try:
        proc = _start([f"registry://{proxy.host}/slow:1", "--json", "out.json"], tmp_path)
        end = time.monotonic() + 30
        while len(faults.blob_requests) < 2 and time.monotonic() < end:
            time.sleep(0.05)
        assert faults.blob_requests, "the pull never started"
        time.sleep(0.5)  # in the middle of the layers
        _stopped(proc, sig, code, word)
    finally:
        proxy.stop()
    _nothing_left(tmp_path)


@pytest.mark.parametrize(("sig", "code", "word"), SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_signal_while_an_archive_is_piped_in(
    tmp_path: Path, sig: int, code: int, word: str
) -> None:
    data = write_docker_archive(image(), tmp_path / "img.tar").read_bytes()
    proc = _start(["-", "--json", "out.json"], tmp_path, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(data[: len(data) // 2])
    proc.stdin.flush()
    time.sleep(1.0)  # spooling, waiting for the rest
    _stopped(proc, sig, code, word)
    proc.stdin.close()
    _nothing_left(tmp_path)
    (tmp_path / "img.tar").unlink()
