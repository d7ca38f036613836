"""Shared test helpers: load an image the way the CLI does."""

from __future__ import annotations

from pathlib import Path

from layerscope.analysis import Analysis, analyse
from layerscope.loader import load_image
from layerscope.model import Image, Platform
from layerscope.sources.archive import spec_from_path


def load(path: Path, ref: str | None = None, platform: str | None = None) -> Image:
    plat = Platform.parse(platform) if platform else None
    return load_image(spec_from_path(path, str(path), ref, plat))


def analysed(path: Path, ref: str | None = None, platform: str | None = None) -> Analysis:
    return analyse(load(path, ref, platform))


def explorer_data(path: Path) -> object:
    """What the explorer shows for an archive: analysis, layer blobs and the tree index."""
    from layerscope.treeindex import TreeIndex
    from layerscope.ui.app import Loaded

    spec = spec_from_path(path, str(path), None, None)
    analysis = analyse(load_image(spec))
    return Loaded(analysis, spec.blobs, TreeIndex(analysis.tree))
