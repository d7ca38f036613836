"""The advisor's command-line options and outputs; `cli.py` only wires them in.

`--dockerfile PATH` cites `PATH:LINE` in findings, `--fix` prints a unified diff of the
mechanical fixes, `--sarif FILE` writes SARIF 2.1.0, `--policy FILE` (default
`.layerscope.yaml`) adds layerscope's rules to the CI gate. The advisor itself is imported where
it runs: `layerscope --help` builds these flags without loading the core.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..ci import RuleResult
    from ..session import OpenedImage
    from .advice import Advice
    from .dockerfile import Dockerfile
    from .gate import Policy


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
        help="print a unified diff of the mechanical fixes to the --dockerfile (for patch)",
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

    dockerfile: Dockerfile | None
    policy: Policy | None
    sarif: str | None
    fix: bool
    needed: bool = True
    security_contents: bool = False
    """Scan file contents for secrets: `--security`, or a `failOn` that needs it."""
    scan_limit: int = 2 << 20
    """False for a dive-style CI run that shows no finding: no JSON, SARIF, diff or policy."""

    def advise(self, opened: OpenedImage) -> Advice | None:
        if not self.needed:
            return None
        from .advice import advise  # noqa: PLC0415
        from .dockerfile import map_layers  # noqa: PLC0415
        from .engine import FindingOptions  # noqa: PLC0415

        mapping = map_layers(self.dockerfile, opened.image) if self.dockerfile else None
        options = FindingOptions(
            dockerfile=mapping,
            security_contents=self.security_contents,
            scan_limit=self.scan_limit,
        )
        return advise(opened, options)

    def gate(self, analysis: Analysis, advice: Advice | None) -> list[RuleResult]:
        if self.policy is None or advice is None:
            return []
        from .gate import evaluate  # noqa: PLC0415

        return evaluate(self.policy, analysis, advice)

    def write_sarif(self, advice: Advice | None, opened: OpenedImage) -> None:
        if self.sarif and advice is not None:
            from ..export import write_json  # noqa: PLC0415
            from .sarif import to_sarif  # noqa: PLC0415

            write_json(to_sarif(advice, opened.image), self.sarif)

    def extensions(self, advice: Advice | None) -> dict[str, Any]:
        if advice is None:
            return {}
        from .document import extension  # noqa: PLC0415

        return extension(advice)

    def section(self, advice: Advice | None, opened: OpenedImage, color: bool) -> str:
        """The summary's findings and stories ('' when none were computed)."""
        if advice is None:
            return ""
        from .render import advice_section  # noqa: PLC0415

        return advice_section(advice, opened.image, color)

    def diff(self, opened: OpenedImage, advice: Advice | None) -> str:
        assert self.dockerfile is not None and advice is not None
        from .dockerfile import map_layers  # noqa: PLC0415
        from .fix import fix_diff  # noqa: PLC0415

        mapping = map_layers(self.dockerfile, opened.image)
        return fix_diff(self.dockerfile, mapping, advice, opened.analysis)


def prepare(args: argparse.Namespace, gate: bool) -> Advisor:
    if args.fix and not args.dockerfile:
        raise ConfigError("--fix needs --dockerfile PATH")
    dockerfile = policy = None
    if args.dockerfile:
        from .dockerfile import read  # noqa: PLC0415

        dockerfile = read(Path(args.dockerfile))
    if gate or args.policy:
        from .gate import find_policy  # noqa: PLC0415

        policy = find_policy(args.policy)
    shown = not gate or args.json is not None or args.sarif or args.fix or policy is not None
    shown = shown or getattr(args, "html", None) is not None
    from .flags import scan_limit  # noqa: PLC0415

    contents = bool(getattr(args, "security", False))
    if gate and policy is not None:
        from .security import needs_contents  # noqa: PLC0415

        contents = contents or needs_contents(policy.fail_on)
    limit = scan_limit(args)
    return Advisor(
        dockerfile, policy, args.sarif, args.fix, bool(shown or contents), contents, limit
    )
