"""Small images for the advisor's tests: built as real docker-archives, then advised."""

from __future__ import annotations

from pathlib import Path

from layerscope.findings import dockerfile as df
from layerscope.findings.advice import Advice, advise
from layerscope.findings.engine import FindingOptions
from layerscope.findings.model import Finding

from helpers import opened
from imagebuilder import F, ImageDef, Layer, Step, write_docker_archive

MB = 1 << 20
BK = "buildkit.dockerfile.v0"


def big(path: str, size: int = 2 * MB, seed: str = "", **kw: object) -> F:
    """A file of `size` bytes whose content is unique to its path (or to `seed`)."""
    return F(path, (seed or path).encode() + b"\n", size=size, **kw)  # type: ignore[arg-type]


def run(command: str, *entries: F) -> Layer:
    return Layer(list(entries), f"RUN /bin/sh -c {command} # buildkit", BK)


def copy(args: str, *entries: F) -> Layer:
    return Layer(list(entries), f"COPY {args} # buildkit", BK)


def build(tmp: Path, *steps: Layer | Step, name: str = "img.tar") -> Path:
    return write_docker_archive(ImageDef(list(steps)), tmp / name)


def advice_of(path: Path, dockerfile: str | None = None) -> Advice:
    with opened(path) as o:
        mapping = None
        if dockerfile is not None:
            mapping = df.map_layers(df.parse(dockerfile, "Dockerfile"), o.image)
        return advise(o, FindingOptions(dockerfile=mapping))


def of_rule(advice: Advice, rule_id: str) -> list[Finding]:
    return [f for f in advice.findings if f.rule.id == rule_id]
