"""The driver: plans every image, submits one parse task per distinct layer and one assemble
task per distinct image to Dask, and writes each result as it arrives.

Work is split by layer: a layer shared by a hundred images is read once, by whichever worker
Dask gives it to; the images that hold it are assembled from that result wherever they run
(Dask moves it between workers; on one machine the layer cache is shared as well).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from distributed import Client, Future, LocalCluster, as_completed

from ..errors import SourceError
from . import tasks
from .model import Failure, ImagePlan, ImageRequest, ImageResult, LayerRequest
from .progress import Bar
from .rows import failed_image_row
from .store import ScanStore
from .targets import TagChoice


@dataclass(frozen=True, slots=True)
class Cluster:
    scheduler: str | None = None
    """`tcp://HOST:8786` of a running Dask scheduler; None for an embedded LocalCluster."""
    workers: int | None = None
    """Worker processes of the embedded cluster (default: one per core)."""


@dataclass
class ScanStats:
    images: int = 0
    analysed: int = 0
    failed: int = 0
    skipped: int = 0
    distinct_layers: int = 0
    layers_parsed: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    dashboard: str = ""
    workers: int = 0
    analyses: Counter[str] = field(default_factory=Counter)
    """How many analysis results arrived per image (1 each in a sound scan)."""


@contextmanager
def connected(cluster: Cluster) -> Iterator[Client]:
    """A client of the given scheduler, or of an embedded cluster that lives as long as it."""
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if cluster.scheduler:
        try:
            client = Client(cluster.scheduler, timeout="10s")
        except (OSError, ValueError) as exc:
            raise SourceError(f"{cluster.scheduler}: no Dask scheduler answers ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    local = LocalCluster(
        n_workers=cluster.workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # a free port: scans side by side never collide
        silence_logs=logging.ERROR,
    )
    try:
        with Client(local) as client:
            yield client
    finally:
        local.close()


def _dashboard(client: Client) -> str:
    """The dashboard's address, when the scheduler serves one (it may lack bokeh, or run with
    --no-dashboard and still own the port for its health routes)."""
    if "dashboard" not in client.scheduler_info().get("services", {}):
        return ""
    link = str(client.dashboard_link)
    try:
        with urllib.request.urlopen(link, timeout=2) as response:
            ok = response.status == 200 and b"needs bokeh" not in response.read(1 << 16)
    except OSError:
        ok = False
    return link if ok else ""


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _relabel(result: ImageResult, req: ImageRequest) -> ImageResult:
    """The result of an identical image (same config and blobs) under another name."""

    def moved(rows: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
        return tuple({**r, "image": req.label} for r in rows)

    image = {**result.image, "image": req.label, "ref": req.ref}
    return replace(
        result, request=req, image=image, image_layers=moved(result.image_layers),
        files=moved(result.files), findings=moved(result.findings),
        packages=moved(result.packages),
    )  # fmt: skip


def _newest(plans: list[ImagePlan], n: int) -> list[ImagePlan]:
    """The n newest plans (by config `created`) of each repository."""
    by_repo: dict[str, list[ImagePlan]] = defaultdict(list)
    for p in plans:
        by_repo[p.request.ref.rsplit(":", 1)[0]].append(p)
    kept = []
    for group in by_repo.values():
        kept.extend(sorted(group, key=lambda p: p.created, reverse=True)[:n])
    return kept


class Scan:
    """One scan's bookkeeping: which layer futures exist, who needs them, what came back."""

    def __init__(self, client: Client, store: ScanStore, bar: Bar) -> None:
        self.client, self.store, self.bar = client, store, bar
        self.tag = uuid.uuid4().hex[:8]
        self.layer_futures: dict[str, Future[Any]] = {}
        self.layer_users: Counter[str] = Counter()
        self.first: dict[tuple[str, tuple[str, ...]], ImageRequest] = {}
        self.aliases: dict[str, list[ImageRequest]] = defaultdict(list)
        self.plan_of: dict[str, ImagePlan] = {}
        self.kind: dict[str, tuple[str, ImageRequest | None]] = {}
        self.counted: set[str] = set()
        self.results: dict[str, ImageResult | Failure] = {}
        """Each analysed image's result, until the scan ends (for aliases planned late)."""
        self.stats = ScanStats()
        self.queue = as_completed()

    def _submit(
        self, kind: str, name: str, req: ImageRequest | None, fn: Any, *args: Any
    ) -> Future[Any]:
        future = self.client.submit(fn, *args, key=f"{kind}-{_short(name)}-{self.tag}")
        self.kind[str(future.key)] = (kind, req)
        self.queue.add(future)
        return future

    def schedule(self, plan: ImagePlan) -> None:
        """Submit the image's layers not yet submitted, then the image itself."""
        req = plan.request
        self.plan_of[req.label] = plan
        first = self.first.setdefault(plan.identity, req)
        if first is not req:
            if first.label in self.results:  # analysed already: write its rows under this name
                self._write(self.results[first.label], req)
            else:
                self.aliases[first.label].append(req)
            return
        deps = []
        for i, layer in enumerate(plan.layers):
            future = self.layer_futures.get(layer.key)
            if future is None:
                request = LayerRequest(req, i, layer.key)
                future = self._submit("parse", layer.key, None, tasks.parse_layer, request)
                self.layer_futures[layer.key] = future
                self.stats.distinct_layers += 1
                self.bar.counts.layers_total += 1
            self.layer_users[layer.key] += 1
            deps.append(future)
        self._submit("image", req.label, req, tasks.assemble_image, req, deps)

    def _release(self, req: ImageRequest) -> None:
        plan = self.plan_of.get(req.label)
        for layer in plan.layers if plan else ():
            self.layer_users[layer.key] -= 1
            if self.layer_users[layer.key] <= 0:
                self.layer_futures.pop(layer.key, None)  # its result may now leave the cluster

    def record(self, result: ImageResult | Failure) -> None:
        """Write the image's rows, and the same for every alias of it."""
        self.results[result.request.label] = result
        for req in [result.request, *self.aliases.pop(result.request.label, [])]:
            self._write(result, req)
        self._release(result.request)

    def _write(self, result: ImageResult | Failure, req: ImageRequest) -> None:
        primary = req is result.request
        self.stats.analyses[req.label] += primary
        if isinstance(result, Failure):
            row = failed_image_row(req.label, req.ref, result.stage, result.error,
                                   result.attempts)  # fmt: skip
            self.store.add(row, {})
            self.stats.failed += 1
            self.bar.counts.errors += 1
        else:
            r = result if primary else _relabel(result, req)
            self.store.add(r.image, {
                "layers": r.layers, "image_layers": r.image_layers, "files": r.files,
                "findings": r.findings, "packages": r.packages,
            })  # fmt: skip
            self.stats.analysed += 1
            for row in r.layers if primary else ():
                if row["parsed"] and row["diff_id"] not in self.counted:
                    self.stats.layers_parsed += 1
                    self.stats.bytes_read += int(row["compressed_bytes"])
                    self.bar.counts.bytes_read = self.stats.bytes_read
                self.counted.add(row["diff_id"])
        self.bar.counts.images_done += 1

    def _outcome(self, future: Future[Any], kind: str, req: ImageRequest | None) -> object:
        """The task's result; a task that raised (a worker killed too often) fails its image."""
        if kind == "parse":
            return None  # the layer stays on the cluster; the images that need it report it
        if future.status != "error":
            return future.result()
        assert req is not None
        exc = future.exception()
        stage = "analyse" if kind == "image" else kind
        return Failure(req, stage, f"{type(exc).__name__}: {exc}", False, 1)

    def run(self, requests: list[ImageRequest], choice: TagChoice) -> ScanStats:
        start = time.perf_counter()
        self.bar.counts.images_total = len(requests)
        for request in requests:
            self._submit("plan", request.label, request, tasks.plan_image, request)
        deferred: list[ImagePlan] = []
        planning = len(requests)
        for future in self.queue:
            kind, owner = self.kind.pop(str(future.key))
            outcome = self._outcome(future, kind, owner)
            if kind == "parse":
                self.bar.counts.layers_done += 1
            elif isinstance(outcome, ImageResult | Failure):
                self.record(outcome)
            elif isinstance(outcome, ImagePlan):
                if choice.mode == "newest":
                    deferred.append(outcome)
                else:
                    self.schedule(outcome)
            if kind == "plan":
                planning -= 1
                if planning == 0 and deferred:
                    kept = _newest(deferred, choice.newest)
                    self.bar.counts.images_total -= len(deferred) - len(kept)
                    for plan in kept:
                        self.schedule(plan)
            self.bar.show()
        self.bar.done()
        self.stats.images = self.bar.counts.images_total
        self.stats.seconds = time.perf_counter() - start
        return self.stats


def scan(
    client: Client,
    requests: list[ImageRequest],
    *,
    store: ScanStore,
    choice: TagChoice,
    bar: Bar,
    note: Callable[[str], None],
) -> ScanStats:
    link = _dashboard(client)
    workers = len(client.scheduler_info().get("workers", {}))
    where = client.scheduler.address if client.scheduler else "the cluster"
    note(f"{len(requests)} image(s) on {where}, {workers} worker(s)"
         + (f"; dashboard {link}" if link else ""))  # fmt: skip
    stats = Scan(client, store, bar).run(requests, choice)
    stats.dashboard, stats.workers = link, workers
    return stats
