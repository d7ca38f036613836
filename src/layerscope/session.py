"""An opened image: read, analysed, and still able to read file contents until it is closed.

Everything that needs more than the analysis (the explorer's viewer and extraction, findings that
read contents, comparisons, fleet workers) holds an `OpenedImage`, as a context manager:

    with open_image(spec, cache=cache) as opened:
        opened.analysis.waste.reclaimable_bytes
        opened.read_file("etc/passwd", layer=3)
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from .analysis import Analysis, analyse
from .cache import LayerCache
from .content import VIEW_LIMIT, read_file
from .filetree import FileTree
from .loader import ProgressFn, load_image
from .model import BlobRef, Image
from .sources.spec import ImageSpec

if TYPE_CHECKING:
    from .treeindex import TreeIndex


class OpenedImage:
    """The analysis of one image and the blobs it was read from; closing releases the source."""

    def __init__(self, spec: ImageSpec, analysis: Analysis) -> None:
        self.spec = spec
        self.analysis = analysis
        self._index: TreeIndex | None = None

    @property
    def image(self) -> Image:
        return self.analysis.image

    @property
    def blobs(self) -> tuple[BlobRef, ...]:
        return self.spec.blobs

    @property
    def index(self) -> TreeIndex:
        """The explorer's array index of the tree, built on first use (seconds on 1M paths)."""
        if self._index is None:
            from .treeindex import TreeIndex  # noqa: PLC0415  (numpy only where it is used)

            self._index = TreeIndex(self.analysis.tree)
        return self._index

    def read_file(self, path: str, layer: int, limit: int = VIEW_LIMIT) -> tuple[bytes, int]:
        """Up to `limit` bytes of `path` (clean, no leading /) as at `layer`, and its size."""
        return read_file(self.blobs, self.analysis.tree, path, layer, limit)

    def close(self) -> None:
        self.spec.close()

    def __enter__(self) -> OpenedImage:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_image(
    spec: ImageSpec, progress: ProgressFn | None = None, cache: LayerCache | None = None
) -> OpenedImage:
    """Read and analyse every layer of `spec`; the spec is closed if that fails.

    The file tree is applied layer by layer as the layers arrive, overlapping the reading,
    hashing and inflating of the layers above."""
    try:
        tree = FileTree(len(spec.blobs))
        image = load_image(
            spec, progress, cache, lambda layer: tree.apply(layer.index, layer.entries)
        )
        analysis = analyse(image, tree)
    except BaseException:
        spec.close()
        raise
    return OpenedImage(spec, analysis)
