"""What the command line asks of the advisor: flags, the findings of an opened image (waste and
security together, through `engine.collect`), and the outputs (summary, JSON, SARIF, --fix)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..analysis import Analysis
from ..export import write_json
from ..session import OpenedImage
from . import devdeps, waste
from .dockerfile import Instruction, locations
from .engine import Options, Producer, collect
from .model import FindingSet, Rule
from .render import advice_text, extensions
from .sarif import to_sarif
from .security import RULES as SECURITY_RULES
from .security import SecurityResult
from .story import stories
from .wasterules import WASTE_RULES

ALL_RULES: tuple[Rule, ...] = (*WASTE_RULES, *SECURITY_RULES)
"""Every rule id layerscope can report (docs/rules.md lists each; a test checks it)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dockerfile",
        metavar="PATH",
        help="the Dockerfile the image was built from: each layer is mapped to its instruction "
        "and every finding cites Dockerfile:LINE",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="with --dockerfile: print a unified diff of the mechanical fixes to stdout",
    )
    parser.add_argument(
        "--findings-config",
        dest="policy_config",
        metavar="FILE",
        default=".layerscope.yaml",
        help="CI rules on findings and paths (the 'findings:' section: maxReclaimableBytes, "
        "failOn, denyPaths, maxLayerSize); default: .layerscope.yaml, if present",
    )
    parser.add_argument(
        "--sarif", metavar="FILE", help="write every finding as SARIF 2.1.0 to FILE ('-': stdout)"
    )


@dataclass(frozen=True, slots=True)
class Advice:
    findings: FindingSet
    stories: list[str]
    locations: list[str]
    """`Dockerfile:LINE` per layer, empty without --dockerfile."""
    instructions: list[Instruction | None]
    dockerfile: Path | None


def advise(
    opened: OpenedImage, analysis: Analysis, security: SecurityResult, dockerfile: Path | None
) -> Advice:
    """Waste and security findings of `opened`, told from the (redacted) `analysis`."""
    where, mapped = locations(analysis.image, dockerfile)

    def locate(layer: int) -> str:
        return where[layer] if 0 <= layer < len(where) else ""

    def waste_producer(o: OpenedImage, opts: Options) -> list[Any]:
        return waste.waste_findings(analysis, opts)

    def security_producer(o: OpenedImage, opts: Options) -> list[Any]:
        return [
            replace(f, location=locate(f.layers[0])) if f.layers and not f.location else f
            for f in security.findings
        ]

    producers: list[Producer] = [devdeps.produce, waste_producer, security_producer]
    found = collect(opened, producers, Options(scrub=security.redactor.scrub, locate=locate))
    return Advice(found, stories(analysis), where, mapped, dockerfile)


def json_extensions(analysis: Analysis, advice: Advice) -> dict[str, Any]:
    return extensions(analysis, advice.findings, advice.stories, advice.locations)


def summary_text(analysis: Analysis, advice: Advice) -> str:
    return advice_text(analysis, advice.findings, advice.stories)


def write_sarif(advice: Advice, image: str, target: str) -> None:
    doc = to_sarif(
        advice.findings, ALL_RULES, image, str(advice.dockerfile) if advice.dockerfile else ""
    )
    write_json(doc, target)
