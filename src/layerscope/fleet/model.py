"""What travels between the driver and the workers: frozen, picklable requests and results.

Workers receive a request naming an image (a reference `resolve.open_spec` understands) and open
it themselves; no open file, connection or closure is ever sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import Layer


@dataclass(frozen=True, slots=True)
class ImageRequest:
    ref: str
    """What `resolve.open_spec` opens: `registry://HOST/REPO:TAG`, an archive path ..."""
    label: str
    """How the fleet names the image (`docker://app:1` for an exported engine image)."""
    insecure: bool = False
    cache_dir: str | None = None
    """The workers' layer cache; None for each worker's default, "" for no cache."""
    spool: str = ""
    """Where an engine image (`docker://`, `podman://`) is exported to be read as an archive."""
    json_digest: bool = False
    """Also hash the document `layerscope --json` would write (about a third more work)."""
    packages: bool = False
    """Also list the packages (reads the layers holding package databases again per image)."""
    findings: bool = False
    """Also run the finding producers (they read the layers they inspect again per image)."""


@dataclass(frozen=True, slots=True)
class PlannedLayer:
    key: str
    """What makes two layers one: the diff_id (the blob digest where none is recorded)."""
    blob_digest: str
    size: int | None


@dataclass(frozen=True, slots=True)
class ImagePlan:
    """An image's identity and layer list, read from its manifest and config alone."""

    request: ImageRequest
    config_digest: str
    created: str
    layers: tuple[PlannedLayer, ...]

    @property
    def identity(self) -> tuple[str, tuple[str, ...]]:
        """Same config and same blobs: the same image under another tag, analysed once."""
        return self.config_digest, tuple(layer.blob_digest for layer in self.layers)


@dataclass(frozen=True, slots=True)
class LayerRequest:
    image: ImageRequest
    """An image that holds the layer; the worker reads the layer's blob through it."""
    index: int
    key: str


@dataclass(frozen=True, slots=True)
class LayerResult:
    key: str
    layer: Layer | None
    """The parsed layer (index and history as first read; each image re-labels it)."""
    parsed: bool
    """True when its blob was read and parsed here, False when a layer cache had it."""
    bytes_read: int
    seconds: float
    worker: str
    error: str = ""
    attempts: int = 1


@dataclass(frozen=True, slots=True)
class Failure:
    """An image that could not be planned or analysed, and why (the scan goes on)."""

    request: ImageRequest
    stage: str
    """`plan`, `layer` or `analyse`."""
    error: str
    transient: bool
    attempts: int


@dataclass(frozen=True, slots=True)
class ImageResult:
    """One analysed image, as the rows of each table it fills (columns: `rows.TABLES`)."""

    request: ImageRequest
    image: dict[str, Any]
    layers: tuple[dict[str, Any], ...]
    """One row per layer of the image (the driver keeps the first row of each diff_id)."""
    image_layers: tuple[dict[str, Any], ...]
    files: tuple[dict[str, Any], ...]
    findings: tuple[dict[str, Any], ...]
    packages: tuple[dict[str, Any], ...] = field(default=())
