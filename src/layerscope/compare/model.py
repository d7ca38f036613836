"""What changed from image A to image B: frozen records, no behaviour beyond small totals.

`ImageDiff` is built by `compare.diff.compare` and rendered by the text, Markdown, JSON and HTML
renderers; it is the one answer they all read, so they cannot disagree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from ..findings.model import Finding


class PathChange(enum.StrEnum):
    """What happened to a path between the final filesystems of A and B."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class Aspect(enum.StrEnum):
    """Which part of a path that exists in both images differs."""

    CONTENT = "content"
    MODE = "mode"
    OWNER = "owner"
    TYPE = "type"
    LINK = "link"
    """A symlink's or hardlink's target."""


@dataclass(frozen=True, slots=True)
class PathDiff:
    path: str
    """Absolute path (`/usr/lib/x`)."""
    change: PathChange
    aspects: tuple[Aspect, ...]
    """Empty unless `change` is CHANGED."""
    size_a: int
    size_b: int
    kind_a: str
    """The entry kind in A (`file`, `dir`, `symlink` ...), empty when absent."""
    kind_b: str

    @property
    def delta(self) -> int:
        return self.size_b - self.size_a


@dataclass(frozen=True, slots=True)
class DirDelta:
    """A directory's summary: what changed under it, and the bytes that moved."""

    path: str
    delta: int
    added: int
    removed: int
    changed: int
    size_a: int
    size_b: int


class LayerSide(enum.StrEnum):
    """Where a layer of the comparison stands."""

    SHARED = "shared"
    """The same diff_id at the same position in both stacks (the common base)."""
    REUSED = "reused"
    """In B at another position, but A has a layer with its diff_id: a node holding A has it."""
    ONLY_A = "only in A"
    ONLY_B = "only in B"


@dataclass(frozen=True, slots=True)
class LayerRow:
    side: LayerSide
    index_a: int | None
    index_b: int | None
    diff_id: str
    size: int
    compressed_size: int
    command: str


@dataclass(frozen=True, slots=True)
class LayerDiff:
    rows: tuple[LayerRow, ...]
    shared_prefix: int
    """How many bottom layers both stacks share, in order; they diverge at this index."""
    pull_bytes: int
    """Bytes a node that holds A must still pull for B (layers of B whose diff_id A lacks)."""
    pull_compressed: bool
    """True when every such layer's stored (pull) size is compressed; else some are tar sizes."""
    pull_layers: int


@dataclass(frozen=True, slots=True)
class Totals:
    """One image's figures as the comparison reports them."""

    name: str
    source: str
    size: int
    """Uncompressed image size (dive's sizeBytes)."""
    compressed_size: int
    layers: int
    files: int
    """Non-directory paths in the final filesystem."""
    efficiency: float
    """dive's efficiency score."""
    wasted_bytes: int
    """dive's wasted bytes."""
    reclaimable_bytes: int
    """layerscope's waste model: stored copies that do not ship."""


class PackageRecord(Protocol):
    """The seam for installed packages: what a package database parser yields per package."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def ecosystem(self) -> str:
        """Where it was installed from (`deb`, `pypi`, `apk`, `rpm`, `npm` ...): the same name
        in two ecosystems is two packages."""
        ...


class PackageChange(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    UPGRADED = "upgraded"
    """Any version change (a downgrade too: versions are not ordered across ecosystems here)."""


@dataclass(frozen=True, slots=True)
class PackageDiff:
    ecosystem: str
    name: str
    change: PackageChange
    version_a: str
    version_b: str


class FindingChange(enum.StrEnum):
    NEW = "new"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True)
class FindingDiff:
    change: FindingChange
    finding: Finding
    """From B when new, from A when fixed."""


@dataclass(frozen=True, slots=True)
class ImageDiff:
    a: Totals
    b: Totals
    layers: LayerDiff
    paths: tuple[PathDiff, ...]
    """Every differing path, largest byte change first."""
    directories: tuple[DirDelta, ...]
    """Directories with changes under them, largest absolute byte change first."""
    packages: tuple[PackageDiff, ...] | None
    """None when no package records were available for both images."""
    findings: tuple[FindingDiff, ...] | None
    """None when no findings were available for both images."""

    @property
    def growth(self) -> int:
        return self.b.size - self.a.size

    @property
    def identical(self) -> bool:
        """Same final filesystem and the same layer stack (formats may differ)."""
        return not self.paths and all(r.side is LayerSide.SHARED for r in self.layers.rows)

    def count(self, change: PathChange) -> int:
        return sum(1 for p in self.paths if p.change is change)

    def path_bytes(self, change: PathChange) -> int:
        return sum(p.delta for p in self.paths if p.change is change)
