"""The command line's packages part: its flags, when the analysis is needed, what it outputs.

`cli.py` calls `add_arguments`, `load(args, gate)` before the image is read (bad settings fail
first), then `analyse(...)` with the opened image; only then are the outputs written.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from . import DEFAULT_FILE

# The analysis is imported where it runs: `layerscope --help` builds this part's flags and
# must not pay for the whole core (0.13 s).
if TYPE_CHECKING:
    from ..ci import RuleResult
    from ..session import OpenedImage
    from .analyse import PackageReport
    from .policy import PackagePolicy


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sbom",
        metavar="FILE",
        help="write a CycloneDX 1.6 JSON SBOM of the final image's packages to FILE ('-' stdout)",
    )
    p.add_argument(
        "--no-packages",
        action="store_true",
        help="leave package attribution out of the summary and the JSON",
    )
    p.add_argument(
        "--packages-config",
        metavar="FILE",
        default=DEFAULT_FILE,
        help="YAML file whose 'packages:' section holds the package CI rules (deny, "
        "maxUnreachedBytes); default: .layerscope.yaml, if present",
    )


@dataclass(frozen=True, slots=True)
class Plan:
    """What the packages part will do for this run."""

    run: bool
    reach: bool
    policy: PackagePolicy


def plan(args: argparse.Namespace, gate: bool, text: bool) -> Plan:
    """Decide before reading the image; `--ci` alone pays nothing unless a package rule is set."""
    from .policy import PackagePolicy, load_policy  # noqa: PLC0415

    policy = PackagePolicy()
    path = Path(args.packages_config)
    if gate and path.is_file():
        policy = load_policy(path)
    elif gate and args.packages_config != DEFAULT_FILE:
        raise ConfigError(f"{path}: packages config file not found")
    shown = not args.no_packages and (text or args.json is not None)
    run = shown or args.sbom is not None or not policy.empty
    return Plan(run, run and (shown or policy.needs_reach or args.sbom is not None), policy)


def analyse(plan_: Plan, opened: OpenedImage) -> PackageReport | None:
    from .analyse import analyse_packages  # noqa: PLC0415

    return analyse_packages(opened, reach=plan_.reach) if plan_.run else None


def extensions(args: argparse.Namespace, report: PackageReport | None) -> dict[str, Any]:
    if report is None or args.no_packages:
        return {}
    from .report import to_json  # noqa: PLC0415

    return {"packages": to_json(report)}


def results(plan_: Plan, report: PackageReport | None) -> list[RuleResult]:
    from .policy import evaluate  # noqa: PLC0415

    return evaluate(plan_.policy, report) if report is not None and not plan_.policy.empty else []


def summary_text(args: argparse.Namespace, report: PackageReport | None) -> str:
    if report is None or args.no_packages:
        return ""
    from .report import summary_lines  # noqa: PLC0415

    return "\n".join(summary_lines(report)) + "\n"


def write_sbom(args: argparse.Namespace, report: PackageReport | None, image_name: str) -> None:
    if args.sbom is None or report is None:
        return
    from ..export import write_text  # noqa: PLC0415
    from .sbom import build_bom, to_json_text  # noqa: PLC0415

    write_text(to_json_text(build_bom(report, image_name)) + "\n", args.sbom)
