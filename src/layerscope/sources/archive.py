"""Open an image file or directory, whatever wrote it: the format is read from its content.

A file may be compressed as a whole (`docker save img | gzip > img.tar.gz`, `.tar.zst`) and `-`
is a stream on stdin: both are spooled to a private temporary file first (`spool.py`).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from dataclasses import replace
from pathlib import Path

from ..compression import Compression
from ..errors import CorruptLayer, ImageNotFound, NotAnImage
from ..model import Platform
from .docker_archive import spec_from_docker_archive
from .docker_legacy import spec_from_legacy
from .oci_layout import spec_from_oci_layout
from .spec import ImageSpec
from .spool import Spooled, compression_of, spool, stream_chunks
from .store import DirStore, Store, TarStore

STDIN = "-"


def _kind(path: Path) -> int:
    """The file type of `path` (symlinks followed); never opens it, so a FIFO cannot block."""
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        dangling = " (a dangling symlink)" if path.is_symlink() else ""
        raise ImageNotFound(f"{path}: no such file or directory{dangling}") from None
    except PermissionError:
        raise ImageNotFound(f"{path}: permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ImageNotFound(f"{path}: a symlink loop") from None
        raise ImageNotFound(f"{path}: cannot be read ({exc.strerror})") from None


def open_store(path: Path, label: str | None = None) -> Store:
    mode = _kind(path)
    if stat.S_ISDIR(mode):
        return DirStore(path)
    if not stat.S_ISREG(mode):
        raise ImageNotFound(
            f"{path}: not a regular file or directory (a FIFO or a device); "
            f"pipe a stream in with '{STDIN}'"
        )
    try:
        return TarStore(path, label)
    except PermissionError:
        raise ImageNotFound(f"{path}: permission denied") from None


def spec_from_path(
    path: Path, source: str, ref: str | None = None, platform: Platform | None = None
) -> ImageSpec:
    """Detect docker-archive or OCI layout (as tar or directory) and describe the image."""
    if stat.S_ISREG(_kind(path)):
        try:
            compression = compression_of(path)
        except PermissionError:
            raise ImageNotFound(f"{path}: permission denied") from None
        if compression is not Compression.NONE:
            with path.open("rb") as fh:
                spooled = spool(stream_chunks(fh), str(path))
            return _spooled_spec(
                spooled,
                str(path),
                source=source,
                ref=ref,
                platform=platform,
                compression=compression.value,
            )
    return spec_from_store(open_store(path), source, ref, platform)


def spec_from_stdin(source: str, ref: str | None, platform: Platform | None) -> ImageSpec:
    """An archive piped in (`docker save img | layerscope -`), maybe gzip or zstd compressed."""
    if sys.stdin.isatty():
        raise ImageNotFound(f"{STDIN}: stdin is a terminal; pipe an image archive in")
    spooled = spool(stream_chunks(sys.stdin.buffer), "stdin")
    return _spooled_spec(
        spooled, "stdin", source=source, ref=ref, platform=platform, compression=None
    )


def _spooled_spec(
    spooled: Spooled,
    label: str,
    *,
    source: str,
    ref: str | None,
    platform: Platform | None,
    compression: str | None,
) -> ImageSpec:
    try:
        spec = spec_from_store(TarStore(spooled.path, label), source, ref, platform)
    except BaseException:
        spooled.close()
        raise
    fmt = f"{spec.format}, {compression}-compressed" if compression else spec.format
    return replace(spec, format=fmt, release=spooled.close)


def spec_from_store(
    store: Store, source: str, ref: str | None, platform: Platform | None
) -> ImageSpec:
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
    if store.has("repositories"):
        return spec_from_legacy(store, source, ref, platform)
    if store.truncated:
        raise CorruptLayer(
            f"{store.label}: truncated archive: it ends without tar's end marker, "
            "before any manifest.json or index.json"
        )
    raise NotAnImage(
        f"{store.label}: not an image (no manifest.json or index.json; a root filesystem tar?)"
    )
