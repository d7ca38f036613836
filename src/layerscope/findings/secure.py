"""What the command line asks of the security rules: flags, running them on an opened image, the
redacted analysis every output is rendered from, and the content scan's one-line report.

The cheap rules (metadata by name, permissions, running as root) run on every image, so the
history is always redacted of the build arguments they recognise; `--security` adds sensitive
names and the content scan (and the detectors over history, ENV and labels).
"""

from __future__ import annotations

from typing import Any

from ..analysis import Analysis
from ..session import OpenedImage
from ..units import human_bytes
from .contentscan import ScanStats
from .flags import DEFAULT_LIMIT
from .redact import redacted_analysis
from .security import SecurityResult, scan_opened


def secure(
    opened: OpenedImage, contents: bool, limit: int = DEFAULT_LIMIT
) -> tuple[Analysis, SecurityResult]:
    """The security findings, and a copy of the analysis with every secret found redacted."""
    result = scan_opened(opened, contents=contents, limit=limit)
    return redacted_analysis(opened.analysis, result.redactor), result


def scan_note(stats: ScanStats) -> str:
    """One line saying what the content scan read and what it skipped."""
    text = (
        f"content scan: {stats.files_read} text files read ({human_bytes(stats.bytes_read)}), "
        f"{stats.binaries_skipped} binaries skipped, {stats.too_large} files over "
        f"{human_bytes(stats.limit)} not read ({human_bytes(stats.too_large_bytes)})"
    )
    if stats.largest_skipped:
        path, size = stats.largest_skipped[0]
        text += f", largest {path} ({human_bytes(size)})"
    return text + f"; {stats.seconds:.2f} s"


def scan_json(stats: ScanStats | None) -> dict[str, Any]:
    """`layerscope.security` in the JSON: whether contents were scanned, and what was skipped."""
    if stats is None:
        return {"contentScanned": False}
    return {
        "contentScanned": True,
        "filesRead": stats.files_read,
        "bytesRead": stats.bytes_read,
        "binariesSkipped": stats.binaries_skipped,
        "tooLargeSkipped": stats.too_large,
        "tooLargeBytes": stats.too_large_bytes,
        "sizeLimitBytes": stats.limit,
        "largestSkipped": [{"path": p, "sizeBytes": s} for p, s in stats.largest_skipped],
    }
