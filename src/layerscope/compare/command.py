"""`layerscope diff A B`: arguments and the run, given the CLI's way to open references.

The CLI owns source resolution, the cache, the explorer and the HTML writer; it hands them in
as `Hooks`, so this package imports neither the CLI nor a UI.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, ExitCode
from ..export import write_json
from ..findings.model import FindingSet
from ..session import OpenedImage
from .diff import Extras, compare
from .document import to_document
from .gate import describe, evaluate, lines, parse_growth, parse_severity, passed
from .markdown import render_markdown
from .model import PackageRecord
from .text import render_text

FindingsFn = Callable[[OpenedImage], FindingSet]
PackagesFn = Callable[[OpenedImage], "tuple[PackageRecord, ...]"]


@dataclass(frozen=True, slots=True)
class Hooks:
    open_image: Callable[[str], OpenedImage]
    """Open one reference as the main command would (any supported form)."""
    explore: Callable[[OpenedImage, OpenedImage], int] | None = None
    write_html: Callable[[dict[str, Any], OpenedImage, str], None] | None = None
    """Write the HTML report of the comparison document, with B's tree for unchanged paths."""
    findings: FindingsFn | None = None
    """Where the findings rules exist: the findings of one image."""
    packages: PackagesFn | None = None
    """Where the package readers exist: the installed packages of one image."""
    interactive: bool = False
    color: bool = False


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="A", help="the baseline image (any form the main command takes)")
    p.add_argument("b", metavar="B", help="the image to compare with it")
    p.add_argument(
        "--format",
        choices=["text", "markdown", "json"],
        help="what to print: text (default), markdown (a pull-request comment) or json",
    )
    p.add_argument(
        "-j", "--json", metavar="FILE", help="write the comparison as JSON ('-' = stdout)"
    )
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    p.add_argument(
        "--max-growth",
        metavar="SIZE|PCT",
        help="fail (exit 1) if B is larger than A by more than this (10MB, 1MiB or 5%%)",
    )
    p.add_argument(
        "--fail-on-new",
        metavar="SEVERITY",
        help="fail (exit 1) if B has a finding A lacks at this severity or above "
        "(info, low, medium, high, critical)",
    )
    p.add_argument(
        "--summary",
        action="store_true",
        help="print the comparison instead of opening the explorer on a terminal",
    )


def _extras(opened: OpenedImage, hooks: Hooks) -> Extras:
    return Extras(
        findings=hooks.findings(opened) if hooks.findings else None,
        packages=hooks.packages(opened) if hooks.packages else None,
    )


def run(args: argparse.Namespace, hooks: Hooks) -> int:
    if args.json == "-" and args.format not in (None, "json"):
        raise ConfigError(f"--json - and --format {args.format} would both write to stdout")
    growth = parse_growth(args.max_growth) if args.max_growth else None
    fail_on = parse_severity(args.fail_on_new) if args.fail_on_new else None
    wants_output = args.format or args.json or args.html or growth or fail_on or args.summary
    with ExitStack() as stack:
        a = stack.enter_context(hooks.open_image(args.a))
        b = stack.enter_context(hooks.open_image(args.b))
        if hooks.interactive and not wants_output and hooks.explore is not None:
            return hooks.explore(a, b)
        diff = compare(a, b, _extras(a, hooks), _extras(b, hooks))
        results = evaluate(diff, growth, fail_on)
        doc = to_document(diff, describe(results) if results else None)
        if args.json is not None:
            write_json(doc, args.json)
        if args.html is not None:
            if hooks.write_html is None:
                raise ConfigError("--html: no HTML writer in this build")
            hooks.write_html(doc, b, args.html)
    gate = lines(results)
    fmt = args.format or ("text" if args.json != "-" else None)
    if args.json == "-" and fmt == "json":
        fmt = None  # already written
    out = sys.stdout
    if fmt == "json":
        out.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    elif fmt == "markdown":
        out.write(render_markdown(diff, [f"**{g}**  " for g in gate] + ([""] if gate else [])))
    elif fmt == "text":
        out.write(render_text(diff, hooks.color))
        if gate:
            out.write("\n" + "\n".join(gate) + "\n")
    elif gate:
        sys.stderr.write("\n".join(gate) + "\n")
    return ExitCode.OK if passed(results) else ExitCode.FAILED
