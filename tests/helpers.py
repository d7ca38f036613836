"""Shared test helpers: load an image the way the CLI does."""

from __future__ import annotations

from pathlib import Path

from layerscope.analysis import Analysis, analyse
from layerscope.loader import load_image
from layerscope.model import Image, Platform
from layerscope.session import OpenedImage, open_image
from layerscope.sources.archive import spec_from_path


def load(path: Path, ref: str | None = None, platform: str | None = None) -> Image:
    plat = Platform.parse(platform) if platform else None
    return load_image(spec_from_path(path, str(path), ref, plat))


def analysed(path: Path, ref: str | None = None, platform: str | None = None) -> Analysis:
    return analyse(load(path, ref, platform))


def opened(path: Path, ref: str | None = None, platform: str | None = None) -> OpenedImage:
    """The image at `path` opened as the CLI opens it (close it, or use it with `with`)."""
    plat = Platform.parse(platform) if platform else None
    return open_image(spec_from_path(path, str(path), ref, plat))


def explorer_data(path: Path) -> OpenedImage:
    """What the explorer shows for an archive, its tree index built."""
    image = opened(path)
    image.index  # noqa: B018
    return image
