"""Open an image file or directory, whatever wrote it: the format is read from its content."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import ImageNotFound, NotAnImage
from ..model import Platform
from .docker_archive import spec_from_docker_archive
from .oci_layout import spec_from_oci_layout
from .spec import ImageSpec
from .store import DirStore, Store, TarStore


def open_store(path: Path) -> Store:
    if path.is_dir():
        return DirStore(path)
    if not path.exists():
        raise ImageNotFound(f"{path}: no such file or directory")
    try:
        return TarStore(path)
    except PermissionError:
        raise ImageNotFound(f"{path}: permission denied") from None
    except IsADirectoryError:
        raise ImageNotFound(f"{path}: not a file") from None


def spec_from_path(
    path: Path, source: str, ref: str | None = None, platform: Platform | None = None
) -> ImageSpec:
    """Detect docker-archive or OCI layout (as tar or directory) and describe the image."""
    store = open_store(path)
    has_manifest = store.has("manifest.json")
    has_index = store.has("index.json")
    if has_index and (not has_manifest or platform is not None):
        # Docker 25+ and containerd saves carry both; the OCI index is the one that can
        # choose a platform, manifest.json names only one.
        spec = spec_from_oci_layout(store, source, ref, platform)
        if has_manifest:
            spec = replace(
                spec, format="docker-archive (Docker 25+ save, read through its OCI index)"
            )
        elif isinstance(store, TarStore):
            spec = replace(spec, format="oci-archive")
        return spec
    if has_manifest:
        return spec_from_docker_archive(store, source, ref, platform)
    raise NotAnImage(
        f"{path}: not an image (no manifest.json or index.json; a root filesystem tar?)"
    )
