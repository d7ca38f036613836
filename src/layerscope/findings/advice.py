"""One run of the advisor over an opened image: the findings, each layer's story and what each
layer would give back. Everything that shows findings (summary, JSON, SARIF, CI, explorer)
renders an `Advice`, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..session import OpenedImage
from .engine import FindingOptions, Producer, collect
from .model import FindingSet
from .producers import default_producers
from .story import stories


@dataclass(frozen=True, slots=True)
class Advice:
    findings: FindingSet
    stories: tuple[str, ...]
    """Per layer, one or two sentences."""
    layer_recoverable: tuple[int, ...]
    """Per layer, the bytes stored in it that the findings' fixes recover."""
    dockerfile: str = ""
    """The Dockerfile the findings cite, when one was given."""


def advise(
    opened: OpenedImage,
    options: FindingOptions | None = None,
    producers: Iterable[Producer] | None = None,
) -> Advice:
    options = options or FindingOptions()
    found = collect(opened, options, producers or default_producers())
    per_layer = [0] * len(opened.image.layers)
    for f in found:
        for p in f.paths:
            if f.recoverable_bytes and 0 <= p.layer < len(per_layer):
                per_layer[p.layer] += p.size
    return Advice(
        findings=found,
        stories=stories(opened.analysis.tree),
        layer_recoverable=tuple(per_layer),
        dockerfile=options.dockerfile.dockerfile.path if options.dockerfile else "",
    )
