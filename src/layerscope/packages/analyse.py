"""One call from an opened image to its package report: databases, attribution, reachability."""

from __future__ import annotations

from dataclasses import dataclass

from ..session import OpenedImage
from .attribution import Attribution, PackageUsage, attribute
from .collect import read_databases
from .reach import Reach, estimate


@dataclass(frozen=True, slots=True)
class PackageReport:
    attribution: Attribution
    reach: Reach | None
    """None when the estimate was not asked for."""

    def reached(self, usage: PackageUsage) -> bool | None:
        return None if self.reach is None else usage.package.key in self.reach.packages

    @property
    def unreached(self) -> tuple[PackageUsage, ...]:
        """Packages in the final image the entrypoint does not reach (empty without an estimate)."""
        if self.reach is None:
            return ()
        return tuple(
            u
            for u in self.attribution.usages
            if u.present and u.package.key not in self.reach.packages
        )

    @property
    def unreached_bytes(self) -> int:
        """Final bytes of unreached packages, each file once."""
        seen: set[str] = set()
        total = 0
        for u in self.unreached:
            for path in u.files:
                if path not in seen:
                    seen.add(path)
                    total += _size(self, path)
        return total - self._reached_overlap(seen)

    def _reached_overlap(self, paths: set[str]) -> int:
        """Bytes of files an unreached package shares with a reached one (they stay)."""
        if self.reach is None:
            return 0
        kept = {
            p
            for u in self.attribution.usages
            if u.present and u.package.key in self.reach.packages
            for p in u.files
        }
        return sum(_size(self, p) for p in paths & kept)


def _size(report: PackageReport, path: str) -> int:
    return report.attribution.file_sizes.get(path, 0)


def analyse_packages(opened: OpenedImage, reach: bool = True) -> PackageReport:
    tree = opened.analysis.tree
    attribution = attribute(read_databases(tree, opened.blobs, opened.image.layers), tree)
    estimate_ = (
        estimate(opened.spec.config.runtime, tree, opened.blobs, opened.image.layers, attribution)
        if reach
        else None
    )
    return PackageReport(attribution, estimate_)
