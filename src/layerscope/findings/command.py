"""The advisor's command-line options and outputs; `cli.py` only wires them in.

`--dockerfile PATH` cites `PATH:LINE` in findings, `--fix` prints a unified diff of the
mechanical fixes, `--sarif FILE` writes SARIF 2.1.0, `--policy FILE` (default
`.layerscope.yaml`) adds layerscope's rules to the CI gate.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis import Analysis
from ..ci import RuleResult
from ..errors import ConfigError
from ..export import write_json
from ..session import OpenedImage
from . import dockerfile as df
from .advice import Advice, advise
from .document import extension
from .engine import FindingOptions
from .fix import fix_diff
from .flags import scan_limit
from .gate import Policy, evaluate, find_policy
from .sarif import to_sarif
from .security import needs_contents


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("advisor (findings, fixes, policy)")
    g.add_argument(
        "--dockerfile",
        metavar="PATH",
        help="map layers to this Dockerfile's instructions and cite PATH:LINE in findings",
    )
    g.add_argument(
        "--fix",
        action="store_true",
        help="print a unified diff of the mechanical fixes to the --dockerfile (for patch -p0)",
    )
    g.add_argument("--sarif", metavar="FILE", help="write the findings as SARIF 2.1.0 to FILE")
    g.add_argument(
        "--policy",
        metavar="FILE",
        help="layerscope's CI rules (maxReclaimableBytes, failOn, denyPaths, maxLayerSize); "
        "default: .layerscope.yaml, if present",
    )


@dataclass(frozen=True, slots=True)
class Advisor:
    """What the options ask for, read and checked before the image is loaded."""

    dockerfile: df.Dockerfile | None
    policy: Policy | None
    sarif: str | None
    fix: bool
    needed: bool = True
    """False for a dive-style CI run that shows no finding: no JSON, SARIF, diff or policy."""
    security_contents: bool = False
    """Scan file contents for secrets: `--security`, or a `failOn` that needs it."""
    scan_limit: int = 2 << 20

    def advise(self, opened: OpenedImage) -> Advice | None:
        if not self.needed:
            return None
        mapping = df.map_layers(self.dockerfile, opened.image) if self.dockerfile else None
        options = FindingOptions(
            dockerfile=mapping,
            security_contents=self.security_contents,
            scan_limit=self.scan_limit,
        )
        return advise(opened, options)

    def gate(self, analysis: Analysis, advice: Advice | None) -> list[RuleResult]:
        return evaluate(self.policy, analysis, advice) if self.policy and advice else []

    def write_sarif(self, advice: Advice | None, opened: OpenedImage) -> None:
        if self.sarif and advice is not None:
            write_json(to_sarif(advice, opened.image), self.sarif)

    def extensions(self, advice: Advice | None) -> dict[str, Any]:
        return extension(advice) if advice is not None else {}

    def diff(self, opened: OpenedImage, advice: Advice | None) -> str:
        assert self.dockerfile is not None and advice is not None
        mapping = df.map_layers(self.dockerfile, opened.image)
        return fix_diff(self.dockerfile, mapping, advice, opened.analysis)


def prepare(args: argparse.Namespace, gate: bool) -> Advisor:
    if args.fix and not args.dockerfile:
        raise ConfigError("--fix needs --dockerfile PATH")
    dockerfile = df.read(Path(args.dockerfile)) if args.dockerfile else None
    policy = find_policy(args.policy) if gate or args.policy else None
    contents = bool(getattr(args, "security", False))
    if gate and policy is not None:
        contents = contents or needs_contents(policy.fail_on)
    shown = not gate or args.json is not None or args.sarif or args.fix or policy is not None
    limit = scan_limit(args)
    return Advisor(
        dockerfile, policy, args.sarif, args.fix, bool(shown or contents), contents, limit
    )
