"""ImageSpec -> Image: read every layer blob (in parallel threads) into the model."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from functools import partial

from .cache import LayerCache
from .layer import read_layer
from .model import BlobRef, HistoryEntry, Image, Layer
from .oci import layer_history
from .sources.spec import ImageSpec


@dataclass(frozen=True, slots=True)
class Progress:
    layers_done: int
    layers_total: int
    bytes_read: int
    entries: int


ProgressFn = Callable[[Progress], None]


def load_image(
    spec: ImageSpec,
    progress: ProgressFn | None = None,
    cache: LayerCache | None = None,
    on_layer: Callable[[Layer], None] | None = None,
) -> Image:
    """Read all layers; zlib, zstd and sha256 release the GIL, so threads overlap the work.

    With a cache, a layer already read is taken from it (see `_cached`), and every layer read
    is stored in it. With `on_layer`, each layer is handed to it in stack order, in this
    thread, as soon as it and every layer below it are read: the caller's work on a layer (the
    file tree) overlaps the reading, hashing and inflating of the layers above.
    """
    histories = layer_history(spec.config.history, len(spec.blobs))
    total = len(spec.blobs)
    lock = threading.Lock()
    state = {"done": 0, "bytes": 0, "entries": 0}

    cancel = threading.Event()

    def one(i: int) -> Layer:
        ref = spec.blobs[i]
        ref = replace(ref, open_chunks=partial(_until, ref.open_chunks, cancel))
        layer = _cached(cache, ref, i, histories[i]) if cache is not None else None
        if layer is None:
            layer = read_layer(ref, i, histories[i])
            if cache is not None:
                cache.put(ref.diff_id or ref.digest, layer)
        if progress is not None:
            with lock:
                state["done"] += 1
                state["bytes"] += layer.compressed_size
                state["entries"] += len(layer.entries)
                progress(Progress(state["done"], total, state["bytes"], state["entries"]))
        return layer

    workers = max(1, min(total, (os.cpu_count() or 2), 4))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="layer") as pool:
        futures = [pool.submit(one, i) for i in range(total)]
        try:
            if on_layer is not None:
                for fut in futures:
                    on_layer(fut.result())
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:
            # A bad layer, ctrl+c or SIGTERM: layers being read stop at their next chunk and
            # none start.
            cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        for fut in done:
            error = fut.exception()
            if error is not None:
                pool.shutdown(wait=True, cancel_futures=True)
                raise error
        layers = tuple(f.result() for f in futures)
    return Image(
        source=spec.source,
        format=spec.format,
        name=spec.name,
        config_digest=spec.config_digest,
        platform=spec.config.platform,
        layers=layers,
        history=spec.config.history,
        repo_tags=spec.repo_tags,
        annotations=spec.annotations,
        created=spec.config.created,
        user=spec.config.runtime.user,
        env=spec.config.runtime.env,
        labels=spec.config.runtime.labels,
    )


class _Cancelled(Exception):
    """A layer read stopped because the load was interrupted (never reported: the interrupt is)."""


def _until(open_chunks: Callable[[], Iterator[bytes]], cancel: threading.Event) -> Iterator[bytes]:
    for chunk in open_chunks():
        if cancel.is_set():
            raise _Cancelled
        yield chunk


def _cached(cache: LayerCache, ref: BlobRef, index: int, history: HistoryEntry) -> Layer | None:
    """The cached layer for `ref`, described as this image stores it; None to read it.

    Keyed by diff_id (the uncompressed tar, in every config): the same layer pulled from a
    registry (gzip), saved by docker (tar) or pushed as zstd is one entry.
    """
    layer = cache.get(ref.diff_id or ref.digest, ref.diff_id, index, history)
    if layer is None:
        return None
    if ref.digest is None:
        # A docker-archive records no blob digest or media type: only a plain-tar copy
        # describes its blob correctly (a kaniko .tar.gz layer is read again).
        return layer if layer.blob_digest == layer.diff_id else None
    return replace(
        layer,
        blob_digest=ref.digest,
        media_type=ref.media_type or layer.media_type,
        compressed_size=ref.size if ref.size is not None else layer.compressed_size,
        tar_name=ref.tar_name,
    )
