"""ImageSpec -> Image: read every layer blob (in parallel threads) into the model."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from .cache import LayerCache
from .layer import read_layer
from .model import Image, Layer
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
    spec: ImageSpec, progress: ProgressFn | None = None, cache: LayerCache | None = None
) -> Image:
    """Read all layers; zlib, zstd and sha256 release the GIL, so threads overlap the work.

    With a cache, a layer already read (same blob digest, or same diff_id where the format
    records no blob digest) is taken from it, and every layer read is stored in it.
    """
    histories = layer_history(spec.config.history, len(spec.blobs))
    total = len(spec.blobs)
    lock = threading.Lock()
    state = {"done": 0, "bytes": 0, "entries": 0}

    def one(i: int) -> Layer:
        ref = spec.blobs[i]
        # Keyed by diff_id (the uncompressed tar, recorded in every config): the same layer
        # pulled from a registry (gzip), saved by docker (tar) or pushed as zstd is one entry.
        key = ref.diff_id or ref.digest
        layer = cache.get(key, ref.diff_id, i, histories[i]) if cache is not None else None
        if layer is not None and ref.digest is None and layer.blob_digest != layer.diff_id:
            layer = None  # a docker-archive records no blob digest: take only a same-format copy
        if layer is not None and ref.digest is not None:
            # How this image stores the layer, which may differ from the cached copy's source.
            layer = replace(
                layer,
                blob_digest=ref.digest,
                media_type=ref.media_type or layer.media_type,
                compressed_size=ref.size if ref.size is not None else layer.compressed_size,
                tar_name=ref.tar_name,
            )
        if layer is None:
            layer = read_layer(ref, i, histories[i])
            if cache is not None:
                cache.put(key, layer)
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
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
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
    )
