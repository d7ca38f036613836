"""The security options of the command line, light to import (`--help` loads no core module)."""

from __future__ import annotations

import argparse

from ..errors import ConfigError
from ..units import human_bytes, parse_bytes

DEFAULT_LIMIT = 2 << 20
"""Files larger than this are not read by the content scan (2 MiB): secrets live in small
text files."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("security (secrets, sensitive files, permissions)")
    g.add_argument(
        "--security",
        action="store_true",
        help="also scan file contents of every layer (deleted and overwritten versions "
        "included) for secrets; needs the 'security' extra",
    )
    g.add_argument(
        "--scan-limit",
        metavar="SIZE",
        default=None,
        help=f"--security skips files larger than this (default {human_bytes(DEFAULT_LIMIT)}); "
        "the skipped ones are counted in the report",
    )


def scan_limit(args: argparse.Namespace) -> int:
    text = getattr(args, "scan_limit", None)
    if text is None:
        return DEFAULT_LIMIT
    try:
        limit = parse_bytes(text)
    except ValueError as exc:
        raise ConfigError(f"--scan-limit: {exc}") from None
    if limit <= 0:
        raise ConfigError(f"--scan-limit: {text!r} is not a positive size")
    return limit
