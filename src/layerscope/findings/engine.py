"""The seam every finding producer plugs into, and the one place findings are put together.

A producer is a function `(OpenedImage, Options) -> Iterable[Finding]` (waste rules, security
rules, package policies ...). `collect` runs them in order and enforces the model's promise that
each stored byte is counted by at most one finding: a later producer's paths already claimed by
an earlier finding are dropped from it, with their bytes, so totals always add up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ..session import OpenedImage
from .model import Finding, FindingSet, PathState


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line (or the explorer) asks of the producers."""

    scrub: Callable[[str], str] = str
    """Redacts known secrets from any text a finding shows (the history, mostly)."""
    locate: Callable[[int], str] = lambda layer: ""
    """`Dockerfile:LINE` of the instruction that made a layer, when a Dockerfile was given."""


class Producer(Protocol):
    def __call__(self, opened: OpenedImage, options: Options, /) -> Iterable[Finding]: ...


def _without(finding: Finding, claimed: set[tuple[str, int]]) -> Finding | None:
    """`finding` without the paths already claimed; None when nothing is left to recover."""
    kept = tuple(p for p in finding.paths if (p.path, p.layer) not in claimed)
    if len(kept) == len(finding.paths):
        return finding
    dropped = [p for p in finding.paths if (p.path, p.layer) in claimed]
    gone = sum(p.size for p in dropped)
    gone_shipped = sum(p.size for p in dropped if p.state is PathState.PRESENT)
    if not kept:
        return None
    ratio = finding.pull_bytes / finding.recoverable_bytes if finding.recoverable_bytes else 0
    recoverable = max(0, finding.recoverable_bytes - gone)
    return replace(
        finding,
        paths=kept,
        path_count=len(kept),
        recoverable_bytes=recoverable,
        shipped_bytes=max(0, finding.shipped_bytes - gone_shipped),
        pull_bytes=round(recoverable * ratio),
    )


def disjoint(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in order, each stored copy (path, layer) counted by the first that claims it."""
    claimed: set[tuple[str, int]] = set()
    out: list[Finding] = []
    for f in findings:
        if not f.recoverable_bytes:
            out.append(f)
            continue
        kept = _without(f, claimed)
        if kept is None:
            continue
        claimed.update((p.path, p.layer) for p in kept.paths)
        out.append(kept)
    return out


def collect(
    opened: OpenedImage, producers: Sequence[Producer], options: Options | None = None
) -> FindingSet:
    """Every producer's findings, no stored byte counted twice, ranked."""
    opts = options or Options()
    found: list[Finding] = []
    for produce in producers:
        found.extend(produce(opened, opts))
    return FindingSet.of(disjoint(found))
