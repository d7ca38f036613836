"""Registries, dockerd and podman for real: started by the tests, filled with the fixtures.

Every source must give the same figures as the docker-archive of the same image.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from layerscope.analysis import Analysis, analyse
from layerscope.cache import LayerCache
from layerscope.errors import (
    AuthError,
    CorruptLayer,
    DigestMismatch,
    ImageNotFound,
    RegistryError,
    SelectionError,
)
from layerscope.loader import load_image
from layerscope.model import HistoryEntry, Platform
from layerscope.sources.credentials import Credentials
from layerscope.sources.resolve import Request, open_spec
from servers import (
    PASSWORD,
    USER,
    Faults,
    Registry,
    podman_env,
    skopeo_copy,
    start_dockerd,
    start_proxy,
    start_registry,
    start_token_server,
)

from conftest import REAL, require
from helpers import analysed
from imagebuilder import D, F, ImageDef, Layer, write_oci_layout

ARCHIVE = REAL / "busybox-buildah.docker-archive.tar"
SRC = f"docker-archive:{ARCHIVE}:docker.io/imglab/busybox-buildah:1"


def figures(a: Analysis) -> dict[str, object]:
    return {
        "efficiency": a.dive.efficiency,
        "wasted": a.dive.wasted_bytes,
        "user_wasted": a.dive.user_wasted_percent,
        "reclaimable": a.waste.reclaimable_bytes,
        "diff_ids": [layer.diff_id for layer in a.image.layers],
        "sizes": [layer.size for layer in a.image.layers],
        "commands": [layer.command for layer in a.image.layers],
    }


@pytest.fixture(scope="module")
def reference() -> dict[str, object]:
    return figures(analysed(require(ARCHIVE)))


def load(image: str, cache: LayerCache | None = None, **kw: object) -> Analysis:
    spec = open_spec(Request(image, **kw))  # type: ignore[arg-type]
    try:
        return analyse(load_image(spec, cache=cache))
    finally:
        spec.close()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = start_registry(tmp_path_factory.mktemp("registry"))
    skopeo_copy(SRC, reg, "test:1")
    # skopeo reuses gzip blobs it has seen unless its blob-info cache is gone (real-images.md §5)
    Path("/var/lib/containers/cache/blob-info-cache-v1.boltdb").unlink(missing_ok=True)
    skopeo_copy(SRC, reg, "zstd:1", "--dest-compress", "--dest-compress-format", "zstd",
                "--format", "oci")  # fmt: skip
    work = tmp_path_factory.mktemp("multi")
    amd = ImageDef([Layer([D("etc"), F("etc/arch", b"amd64\n")])], architecture="amd64")
    arm = ImageDef([Layer([D("etc"), F("etc/arch", b"arm64\n")])], architecture="arm64")
    layout = write_oci_layout([amd, arm], work / "layout", nested_index=True)
    skopeo_copy(f"oci:{layout}", reg, "multi:1", "--all")
    yield reg
    reg.stop()


def test_registry_gives_the_archive_figures(
    registry: Registry, reference: dict[str, object]
) -> None:
    a = load(f"registry://{registry.host}/test:1")
    assert figures(a) == reference
    assert a.image.source == f"registry://{registry.host}/test:1"
    assert all(layer.media_type.endswith("gzip") for layer in a.image.layers)


def test_zstd_layers(registry: Registry, reference: dict[str, object]) -> None:
    a = load(f"registry://{registry.host}/zstd:1")
    assert figures(a) == reference
    assert all(layer.media_type.endswith("zstd") for layer in a.image.layers)


def test_by_digest_and_platforms(registry: Registry) -> None:
    a = load(f"registry://{registry.host}/multi:1")  # this machine: linux/amd64
    assert a.image.platform == Platform("linux", "amd64")
    arm = load(f"registry://{registry.host}/multi:1", platform=Platform("linux", "arm64"))
    assert arm.image.platform == Platform("linux", "arm64")
    with pytest.raises(SelectionError, match="no image for linux/s390x"):
        load(f"registry://{registry.host}/multi:1", platform=Platform("linux", "s390x"))
    out = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{registry.host}/test:1"],
        capture_output=True, check=True,
    )  # fmt: skip
    import hashlib

    digest = "sha256:" + hashlib.sha256(out.stdout).hexdigest()
    assert load(f"registry://{registry.host}/test@{digest}").image.layers


def test_unknown_tag_and_unreachable(registry: Registry) -> None:
    with pytest.raises(RegistryError, match="not found"):
        load(f"registry://{registry.host}/test:nope")
    with pytest.raises(RegistryError, match="cannot reach"):
        load("registry://127.0.0.1:1/test:1")


def test_basic_auth(tmp_path: Path, reference: dict[str, object]) -> None:
    reg = start_registry(tmp_path / "reg", auth="htpasswd")
    try:
        skopeo_copy(SRC, reg, "test:1")
        image = f"registry://{reg.host}/test:1"
        with pytest.raises(AuthError, match="requires credentials"):
            load(image)
        with pytest.raises(AuthError) as wrong:
            load(image, credentials=Credentials(USER, "wrong-password"))
        assert "wrong-password" not in str(wrong.value)
        assert figures(load(image, credentials=Credentials(USER, PASSWORD))) == reference
        # from the Docker config file, as docker login writes it
        auth = __import__("base64").b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        config = Path(os.environ["DOCKER_CONFIG"]) / "config.json"
        config.write_text(json.dumps({"auths": {reg.host: {"auth": auth}}}))
        cache = LayerCache(tmp_path / "cache")
        try:
            assert figures(load(image, cache=cache)) == reference
        finally:
            config.unlink()
        for entry in cache.directory.iterdir():  # no credentials in the cache
            assert (
                PASSWORD.encode() not in entry.read_bytes()
                and auth.encode() not in entry.read_bytes()
            )
        # a credential helper (the docker-credential-* protocol: host on stdin, JSON out)
        bindir = tmp_path / "bin"
        bindir.mkdir()
        helper = bindir / "docker-credential-layerscopetest"
        helper.write_text(
            "#!/bin/sh\nread host\n"
            f'[ "$host" = "{reg.host}" ] || exit 1\n'
            f'printf \'{{"ServerURL":"%s","Username":"{USER}","Secret":"{PASSWORD}"}}\' "$host"\n'
        )
        helper.chmod(0o755)
        config.write_text(json.dumps({"credsStore": "layerscopetest"}))
        old_path = os.environ["PATH"]
        os.environ["PATH"] = f"{bindir}:{old_path}"
        try:
            assert figures(load(image)) == reference
        finally:
            os.environ["PATH"] = old_path
            config.unlink()
    finally:
        reg.stop()


def test_bearer_token_auth(tmp_path: Path, reference: dict[str, object]) -> None:
    tokens = start_token_server(tmp_path / "reg")
    reg = start_registry(tmp_path / "reg", auth="token", token_port=tokens.port)
    try:
        skopeo_copy(SRC, reg, "test:1")
        image = f"registry://{reg.host}/test:1"
        with pytest.raises(AuthError):
            load(image)  # anonymous tokens grant nothing here
        with pytest.raises(AuthError, match="refused the credentials"):
            load(image, credentials=Credentials(USER, "nope"))
        assert figures(load(image, credentials=Credentials(USER, PASSWORD))) == reference
        asked = tokens.requests[-1]
        assert asked["scope"] == "repository:test:pull" and asked["service"] == "test-registry"
    finally:
        reg.stop()
        tokens.stop()


def test_dropped_connection_is_resumed(registry: Registry, reference: dict[str, object]) -> None:
    faults = Faults(cut_blobs_after=300_000, cuts_left=1)
    proxy = start_proxy(registry.host, faults)
    try:
        a = load(f"registry://{proxy.host}/test:1", insecure=True)
        assert figures(a) == reference
        assert faults.cuts_left <= 0, faults  # (two parallel blobs may both be cut)
        assert any(r.startswith("bytes=") for r in faults.blob_requests), faults  # resumed
    finally:
        proxy.stop()


def test_faults_leave_nothing_in_the_cache(registry: Registry, tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    for faults, errors, match in (
        (Faults(cut_blobs_after=300_000, cuts_left=1, dead_after_cut=True), RegistryError,
         "broke off|cannot reach"),
        (Faults(flip_blob_byte=True), (DigestMismatch, CorruptLayer), "records sha256|corrupt"),
    ):  # fmt: skip
        proxy = start_proxy(registry.host, faults)
        try:
            with pytest.raises(errors, match=match):
                load(f"registry://{proxy.host}/test:1", cache=cache, insecure=True)
        finally:
            proxy.stop()
        stored = list(cache.directory.glob("*.layer"))
        assert len(stored) < 9  # the broken layer is not among them
        assert not list(cache.directory.glob(".tmp-*"))
        for entry in stored:  # and whatever was stored is whole
            key = entry.stem.replace("-", ":", 1)
            assert LayerCache(cache.directory).get(key, None, 0, HistoryEntry()) is not None


def test_redirected_blobs_and_a_bare_name(
    registry: Registry, reference: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = Faults(redirect_blobs=True)
    proxy = start_proxy(registry.host, faults)
    try:
        assert figures(load(f"registry://{proxy.host}/test:1", insecure=True)) == reference
        assert faults.blob_requests.count("redirected") == 10
    finally:
        proxy.stop()
    # a bare name with no engine here goes to the registry, and says so
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    notes: list[str] = []
    spec = open_spec(Request(f"{registry.host}/test:1"), notes.append)
    spec.close()
    assert spec.source == f"registry://{registry.host}/test:1"
    assert notes == [
        f"{registry.host}/test:1: not in a local engine; from registry://{registry.host}/test:1"
    ]


def test_slow_server_still_works(registry: Registry, reference: dict[str, object]) -> None:
    proxy = start_proxy(registry.host, Faults(delay=0.01))
    try:
        assert figures(load(f"registry://{proxy.host}/test:1", insecure=True)) == reference
    finally:
        proxy.stop()


def test_second_open_reads_no_blob(
    registry: Registry, tmp_path: Path, reference: dict[str, object]
) -> None:
    faults = Faults()
    proxy = start_proxy(registry.host, faults)
    cache = LayerCache(tmp_path / "cache")
    try:
        image = f"registry://{proxy.host}/test:1"
        assert figures(load(image, cache=cache, insecure=True)) == reference
        assert len(faults.blob_requests) == 10  # the config and 9 layers
        faults.blob_requests.clear()
        again = LayerCache(cache.directory)
        assert figures(load(image, cache=again, insecure=True)) == reference
        assert faults.blob_requests == [""]  # only the config
        assert again.hits == 9 and again.misses == 0
        # the docker-archive of the same image: the same diff_ids, so the registry's
        # layers are not read again; each image shows its own blob digests
        shared = LayerCache(tmp_path / "shared")
        local = analyse(load_image(open_spec(Request(str(ARCHIVE))), cache=shared))
        pulled = LayerCache(shared.directory)
        remote = load(image, cache=pulled, insecure=True)
        assert pulled.hits == 9 and figures(remote) == reference
        assert all(x.media_type.endswith("gzip") for x in remote.image.layers)
        assert [x.blob_digest for x in remote.image.layers] != [
            x.blob_digest for x in local.image.layers
        ]
        # a damaged entry is found and rebuilt
        victim = next(cache.directory.glob("*.layer"))
        victim.write_bytes(victim.read_bytes()[:-10])
        third = LayerCache(cache.directory)
        assert figures(load(image, cache=third, insecure=True)) == reference
        assert third.misses == 1 and victim.exists()
    finally:
        proxy.stop()


def test_cli_registry_errors_are_one_line(registry: Registry, tmp_path: Path) -> None:
    env = {**os.environ, "LAYERSCOPE_PASSWORD": "hunter2"}
    for image, words in (
        (f"registry://{registry.host}/test:nope", "not found"),
        ("registry://127.0.0.1:1/test:1", "cannot reach"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "layerscope", image, "--summary", "--username", "u"],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and words in proc.stderr
        assert "hunter2" not in proc.stderr


def test_two_processes_share_the_cache(registry: Registry, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    cmd = [sys.executable, "-m", "layerscope", f"registry://{registry.host}/test:1", "--json"]
    procs = [subprocess.Popen([*cmd, str(tmp_path / f"{i}.json")], env=env) for i in range(3)]
    assert [p.wait(120) for p in procs] == [0, 0, 0]
    docs = [json.loads((tmp_path / f"{i}.json").read_text())["image"] for i in range(3)]
    assert docs[0] == docs[1] == docs[2]
    listing = subprocess.run(
        [sys.executable, "-m", "layerscope", "cache"], env=env, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    assert "9 layer(s)" in listing
    cleared = subprocess.run(
        [sys.executable, "-m", "layerscope", "cache", "clear"], env=env, capture_output=True,
        text=True, check=True,
    ).stdout  # fmt: skip
    assert "removed 9 layer(s)" in cleared and "0 layer(s)" in cleared


def test_docker_engine(tmp_path: Path, reference: dict[str, object]) -> None:
    daemon = start_dockerd(tmp_path / "docker")
    try:
        daemon.docker("load", "-i", str(require(ARCHIVE)))
        os.environ["DOCKER_HOST"] = daemon.host
        try:
            a = load("docker://imglab/busybox-buildah:1")
            assert figures(a) == reference and a.image.source == "docker://imglab/busybox-buildah:1"
            notes: list[str] = []
            spec = open_spec(Request("imglab/busybox-buildah:1"), notes.append)
            assert spec.source.startswith("docker://") and "Docker engine" in notes[0]
            with pytest.raises(ImageNotFound, match="no such image"):
                load("docker://imglab/none:1")
        finally:
            del os.environ["DOCKER_HOST"]
    finally:
        daemon.stop()


def test_podman(tmp_path: Path, reference: dict[str, object]) -> None:
    env = podman_env(tmp_path / "podman")
    subprocess.run(["podman", "load", "-q", "-i", str(require(ARCHIVE))], env=env, check=True,
                   capture_output=True)  # fmt: skip
    old = os.environ.get("CONTAINERS_STORAGE_CONF")
    os.environ["CONTAINERS_STORAGE_CONF"] = env["CONTAINERS_STORAGE_CONF"]
    try:
        a = load("podman://docker.io/imglab/busybox-buildah:1")
        assert figures(a) == reference
        with pytest.raises(ImageNotFound, match=r"no such image in podman"):
            load("podman://imglab/none:1")
    finally:
        if old is None:
            del os.environ["CONTAINERS_STORAGE_CONF"]
        else:
            os.environ["CONTAINERS_STORAGE_CONF"] = old
