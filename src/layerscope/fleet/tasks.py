"""What a worker runs. Each function takes a picklable request, opens the image itself, and
returns a result or a `Failure`: an image that cannot be read never stops the scan.

Transient errors (an unreachable registry, a 5xx, a dropped connection, an OS error) are tried
again with growing pauses; the rest (401, 404, a corrupt blob, a digest mismatch) fail at once.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from ..cache import LayerCache, default_dir
from ..errors import AuthError, ImageNotFound, LayerscopeError, RegistryError, SourceError
from ..findings.model import FindingSet
from ..layer import read_layer
from ..model import HistoryEntry, Layer
from ..session import open_image
from ..sources.resolve import Request, open_spec
from ..sources.spec import ImageSpec
from . import rows
from .model import (
    Failure,
    ImagePlan,
    ImageRequest,
    ImageResult,
    LayerRequest,
    LayerResult,
    PlannedLayer,
)

BACKOFF = (0.5, 1.5, 4.0)
"""Pauses before the 2nd, 3rd and 4th try of a transient failure."""

T = TypeVar("T")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def transient(exc: BaseException) -> bool:
    """Worth trying again: the network or the server, not the image or the credentials."""
    if isinstance(exc, AuthError | ImageNotFound):
        return False
    if isinstance(exc, RegistryError):
        return "not found (404)" not in str(exc)
    return isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError)


def describe(exc: BaseException) -> str:
    if isinstance(exc, LayerscopeError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


def with_retries(work: Callable[[], T], backoff: tuple[float, ...] = BACKOFF) -> tuple[T, int]:
    """(result, attempts); the last error is raised with `attempts` set on it."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return work(), attempt
        except Exception as exc:
            if not transient(exc) or attempt > len(backoff):
                exc.add_note(f"attempts={attempt}")
                raise
            time.sleep(backoff[attempt - 1])


def _attempts(exc: BaseException) -> int:
    for note in getattr(exc, "__notes__", ()):
        if note.startswith("attempts="):
            return int(note.removeprefix("attempts="))
    return 1


_ENGINES = {"docker": "docker engine", "podman": "podman"}


def _open(req: ImageRequest) -> ImageSpec:
    spec = open_spec(Request(req.ref, insecure=req.insecure))
    engine = _ENGINES.get(req.label.partition("://")[0])
    if engine is not None and req.ref != req.label:
        # An engine image exported to the spool: named and described as `layerscope
        # docker://NAME` describes it (sources/engine.py).
        spec = replace(spec, source=req.label, format=f"{engine} ({spec.format})")
    return spec


def _cache(req: ImageRequest) -> LayerCache | None:
    if req.cache_dir == "":
        return None
    return LayerCache(Path(req.cache_dir) if req.cache_dir else default_dir())


# -- plan ----------------------------------------------------------------------------------------
def _export(req: ImageRequest) -> ImageRequest:
    """An engine image saved once to the spool as an archive, which every later task reads."""
    scheme, _, name = req.ref.partition("://")
    dest = Path(req.spool) / (hashlib.sha256(req.ref.encode()).hexdigest()[:24] + ".tar")
    if scheme == "docker":
        from ..sources.engine import DockerEngine, docker_host  # noqa: PLC0415

        engine = DockerEngine(docker_host())
        try:
            engine.save(name, dest)
        finally:
            engine.close()
    else:
        import subprocess  # noqa: PLC0415

        proc = subprocess.run(
            ["podman", "image", "save", "--format", "docker-archive", "-o", str(dest), name],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            detail = (proc.stderr.strip().splitlines() or ["failed"])[-1]
            raise SourceError(f"{req.ref}: podman image save failed ({detail})")
    return replace(req, ref=str(dest))


def _plan_once(req: ImageRequest) -> ImagePlan:
    if req.spool and req.ref.startswith(("docker://", "podman://")):
        req = _export(req)
    spec = _open(req)
    try:
        layers = tuple(
            PlannedLayer(
                key=b.diff_id or b.digest or f"{req.ref}#{i}",
                blob_digest=b.digest or b.diff_id or f"{req.ref}#{i}",
                size=b.size,
            )
            for i, b in enumerate(spec.blobs)
        )
        return ImagePlan(req, spec.config_digest, spec.config.created, layers)
    finally:
        spec.close()


def plan_image(req: ImageRequest) -> ImagePlan | Failure:
    """Manifest and config only: which layers the image is made of."""
    try:
        plan, _ = with_retries(lambda: _plan_once(req))
    except Exception as exc:
        return Failure(req, "plan", describe(exc), transient(exc), _attempts(exc))
    return plan


# -- layers --------------------------------------------------------------------------------------
def _read(req: LayerRequest) -> tuple[Layer, bool]:
    cache = _cache(req.image)
    if cache is not None:
        hit = cache.get(req.key, None, req.index, HistoryEntry())
        if hit is not None:
            return hit, False
    spec = _open(req.image)
    try:
        layer = read_layer(spec.blobs[req.index], req.index, HistoryEntry())
    finally:
        spec.close()
    if cache is not None:
        cache.put(req.key, layer)
    return layer, True


def parse_layer(req: LayerRequest) -> LayerResult:
    """Read and parse one layer blob (or take it from the shared layer cache)."""
    start = time.perf_counter()
    try:
        (layer, parsed), attempts = with_retries(lambda: _read(req))
    except Exception as exc:
        spent = time.perf_counter() - start
        return LayerResult(req.key, None, False, 0, spent, worker_name(), describe(exc),
                           _attempts(exc))  # fmt: skip
    bytes_read = layer.compressed_size if parsed else 0
    return LayerResult(req.key, layer, parsed, bytes_read, time.perf_counter() - start,
                       worker_name(), attempts=attempts)  # fmt: skip


# -- images --------------------------------------------------------------------------------------
class ReceivedLayers(LayerCache):
    """The layers the scan parsed, handed to the loader as a cache that is never written."""

    def __init__(self, layers: dict[str, Layer]) -> None:
        super().__init__(Path(os.devnull))
        self.layers = layers

    def get(
        self, key: str | None, diff_id: str | None, index: int, history: HistoryEntry
    ) -> Layer | None:
        layer = self.layers.get(key) if key else None
        if layer is None or (diff_id is not None and layer.diff_id != diff_id):
            self.misses += 1
            return None
        self.hits += 1
        return replace(layer, index=index, history=history)

    def put(self, key: str | None, layer: Layer) -> None:
        del key, layer  # the scan's layers are already in the worker's cache, or need not be


def _analyse(req: ImageRequest, layers: list[LayerResult]) -> ImageResult:
    start = time.perf_counter()
    received = ReceivedLayers({r.key: r.layer for r in layers if r.layer is not None})
    by_key = {r.key: r for r in layers}
    with open_image(_open(req), cache=received) as opened:
        findings = rows.collect_findings(opened) if req.findings else FindingSet(())
        image = rows.image_row(opened, req.label, req.ref, findings, req.json_digest)
        layer_rows = []
        for layer in opened.image.layers:
            got = by_key.get(layer.diff_id) or by_key.get(layer.blob_digest)
            parsed, spent, where = (got.parsed, got.seconds, got.worker) if got else (True, 0, "")
            layer_rows.append(rows.layer_row(opened, layer.index, parsed, spent, where))
        result = ImageResult(
            request=req,
            image=image,
            layers=tuple(layer_rows),
            image_layers=tuple(rows.image_layer_rows(opened, req.label)),
            files=tuple(rows.file_rows(opened, req.label, findings)),
            findings=tuple(rows.finding_rows(req.label, findings)),
            packages=tuple(rows.package_rows(opened, req.label) if req.packages else ()),
        )
    result.image.update(seconds=time.perf_counter() - start, worker=worker_name())
    return result


def assemble_image(req: ImageRequest, layers: list[LayerResult]) -> ImageResult | Failure:
    """Build the image from its layers' results and analyse it; a failed layer fails it."""
    for r in layers:
        if r.error:
            return Failure(req, "layer", r.error, False, r.attempts)
    try:
        result, attempts = with_retries(lambda: _analyse(req, layers))
    except Exception as exc:
        return Failure(req, "analyse", describe(exc), transient(exc), _attempts(exc))
    result.image["attempts"] = attempts
    return result
