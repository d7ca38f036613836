"""The seam every finding producer plugs into, and `collect`, which runs them without counting
a byte twice.

A producer is any callable `(OpenedImage, FindingOptions) -> Iterable[Finding]` that also names
the rules it can report (`rules`). Producers run in order; within one, findings are taken in the
order they are yielded. A finding that recovers bytes claims its (path, layer) pairs: a later
finding naming a claimed pair loses that path and its bytes (and is dropped when none is left),
so the most specific rule, yielded first, keeps the bytes and the totals add up.

For a finding that recovers bytes, `recoverable_bytes` is the sum of its paths' sizes, and
`shipped_bytes` and `pull_bytes` follow from the paths (`settle` computes all three).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from ..errors import LayerscopeError
from ..layer import tar_chunks
from ..model import BlobRef
from .model import Category, Finding, FindingSet, PathRef, PathState, Rule, Severity

if TYPE_CHECKING:
    from ..model import Image
    from ..session import OpenedImage
    from .dockerfile import DockerfileMap

INFO_BELOW = 1 << 20
"""A waste finding recovering fewer bytes than this is informational (default)."""


@dataclass(frozen=True, slots=True)
class FindingOptions:
    """What a run of the producers may use besides the image."""

    dockerfile: DockerfileMap | None = None
    """Layers mapped to Dockerfile instructions, when `--dockerfile` was given."""
    ratios: tuple[float, ...] = ()
    """Per layer, pull bytes per file byte (`pull_ratios`); `collect` fills it in."""
    info_below: int = INFO_BELOW
    """Waste findings recovering fewer bytes are lowered to informational."""
    security_contents: bool = False
    """Scan file contents for secrets (`--security`, or a CI rule that needs it)."""
    scan_limit: int = 2 << 20
    """The content scan skips files larger than this (`--scan-limit`)."""


class Producer(Protocol):
    """One family of rules: security, waste, package policies ..."""

    @property
    def rules(self) -> tuple[Rule, ...]: ...

    def __call__(self, opened: OpenedImage, options: FindingOptions) -> Iterable[Finding]: ...


SAMPLE = 4 << 20
"""Bytes of an uncompressed layer compressed to estimate its pull size."""


def pull_ratios(image: Image, blobs: Sequence[BlobRef] = ()) -> tuple[float, ...]:
    """Per layer, pulled (compressed) bytes per file byte, at most 1.0.

    A compressed layer gives its own ratio. A layer stored uncompressed (as `docker save`
    writes it) is pushed gzip-compressed: its first `SAMPLE` bytes are compressed with gzip's
    default level to estimate the ratio (1.0 when its blob cannot be read again).
    """
    out = []
    for layer in image.layers:
        if layer.size <= 0 or layer.compressed_size <= 0:
            out.append(1.0)
        elif layer.compressed_size < layer.size:
            out.append(layer.compressed_size / layer.size)
        else:
            ref = blobs[layer.index] if layer.index < len(blobs) else None
            out.append(_sampled_ratio(ref) if ref is not None else 1.0)
    return tuple(out)


def _sampled_ratio(ref: BlobRef) -> float:
    sample = bytearray()
    try:
        for chunk in tar_chunks(ref):
            sample += chunk[: SAMPLE - len(sample)]
            if len(sample) >= SAMPLE:
                break
    except LayerscopeError:
        return 1.0
    if not sample:
        return 1.0
    return min(1.0, len(zlib.compress(bytes(sample), 6)) / len(sample))


def settle(finding: Finding, ratios: Sequence[float]) -> Finding:
    """`finding` with its byte totals computed from its paths (largest first)."""
    paths = tuple(sorted(finding.paths, key=lambda p: (-p.size, p.path, p.layer)))
    recoverable = sum(p.size for p in paths)
    shipped = sum(p.size for p in paths if p.state is PathState.PRESENT)
    pull = round(sum(p.size * (ratios[p.layer] if p.layer < len(ratios) else 1.0) for p in paths))
    return replace(
        finding,
        paths=paths,
        path_count=len(paths),
        recoverable_bytes=recoverable,
        shipped_bytes=shipped,
        pull_bytes=pull,
    )


def _claim(finding: Finding, claimed: set[tuple[str, int]], ratios: Sequence[float]) -> Finding:
    if not finding.recoverable_bytes:
        return finding
    free = tuple(p for p in finding.paths if (p.path, p.layer) not in claimed)
    if len(free) != len(finding.paths):
        if not any(p.size for p in free):
            return replace(finding, paths=(), path_count=0, recoverable_bytes=0)
        finding = settle(replace(finding, paths=free), ratios)
    claimed.update((p.path, p.layer) for p in finding.paths)
    return finding


def _place(finding: Finding, options: FindingOptions) -> Finding:
    mapping = options.dockerfile
    if mapping is None or finding.location or finding.cited is None:
        return finding
    step = mapping.step(finding.cited)
    if step is None:
        return finding
    return replace(finding, location=step.location, instruction=step.text)


def collect(
    opened: OpenedImage, options: FindingOptions, producers: Iterable[Producer]
) -> FindingSet:
    """Every producer's findings, no byte counted twice, cited at their Dockerfile line."""
    ratios = options.ratios or pull_ratios(opened.image, opened.blobs)
    options = replace(options, ratios=ratios)
    claimed: set[tuple[str, int]] = set()
    kept: list[Finding] = []
    for producer in producers:
        for found in producer(opened, options):
            finding = _claim(found, claimed, ratios)
            if found.recoverable_bytes and not finding.recoverable_bytes:
                continue  # every byte already explained by an earlier, more specific finding
            if (
                finding.recoverable_bytes < found.recoverable_bytes
                and finding.rule.category is Category.WASTE
                and finding.recoverable_bytes < options.info_below
            ):
                # What is left after the earlier findings took their bytes is small: the same
                # rule as for a finding that was small to begin with.
                finding = replace(finding, severity=Severity.INFO)
            kept.append(_place(finding, options))
    return FindingSet.of(kept)


def path_ref(path: str, layer: int, size: int, shipped: bool, content_hash: int = 0) -> PathRef:
    """A path of a finding, `shipped` when it is in the final filesystem."""
    state = PathState.PRESENT if shipped else PathState.HIDDEN
    return PathRef(path, layer, size, state, content_hash)
