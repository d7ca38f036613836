"""The findings section of the summary: ranked by bytes, totals (hidden and shipped apart), the
fix of each, and the story of each layer. Text only; nothing prints here."""

from __future__ import annotations

from ..model import Image
from ..units import human_bytes
from .advice import Advice
from .model import Finding, Severity

_BOLD, _RESET = "\x1b[1m", "\x1b[0m"
_SEVERITY_COLOR = {
    Severity.CRITICAL: "\x1b[1;31m",
    Severity.HIGH: "\x1b[31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def ranked(advice: Advice) -> list[Finding]:
    """High and critical first, then by recoverable bytes, largest first."""
    return sorted(
        advice.findings,
        key=lambda f: (not f.level.at_least(Severity.HIGH), -f.recoverable_bytes, -f.level.rank),
    )


def totals_line(advice: Advice) -> str:
    found = advice.findings
    total = found.recoverable_bytes
    shipped = found.shipped_bytes
    pull = sum(f.pull_bytes for f in found)
    actionable = found.at_least(Severity.LOW).recoverable_bytes
    return (
        f"  recoverable {human_bytes(total)} (pull ≈ {human_bytes(pull)}): "
        f"{human_bytes(total - shipped)} hidden (deleted or overwritten, still stored and "
        f"pulled), {human_bytes(shipped)} shipped; above info: {human_bytes(actionable)}"
    )


def findings_lines(advice: Advice, image: Image, color: bool, limit: int = 20) -> list[str]:
    found = ranked(advice)
    head = f"Findings ({len(found)}, ranked by bytes):"
    lines = [_paint(head, _BOLD, color), totals_line(advice)]
    for f in found[:limit]:
        level = _paint(f"{f.level.value:<8}", _SEVERITY_COLOR[f.level], color)
        where = f.location or (f"layer {f.cited}" if f.cited is not None else image.name)
        size = human_bytes(f.recoverable_bytes) if f.recoverable_bytes else "-"
        lines.append(f"  {level} {size:>9}  {f.rule.id}  {where}  {f.title}")
        if f.recoverable_bytes:
            lines.append(
                f"{'':13}{human_bytes(f.hidden_bytes)} hidden, {human_bytes(f.shipped_bytes)} "
                f"shipped, pull ≈ {human_bytes(f.pull_bytes)}; {f.path_count} paths, e.g. "
                f"{f.paths[0].path}"
            )
        lines.append(f"{'':13}fix: {f.fix.splitlines()[0]}" + (" …" if "\n" in f.fix else ""))
    if not found:
        lines.append("  none")
    elif len(found) > limit:
        lines.append(f"  ... {len(found) - limit} more (all of them with --json or --sarif)")
    return lines


def story_lines(advice: Advice, color: bool) -> list[str]:
    lines = [_paint("Story of each layer:", _BOLD, color)]
    for i, story in enumerate(advice.stories):
        back = advice.layer_recoverable[i]
        gain = f"  [{human_bytes(back)} recoverable]" if back else ""
        lines.append(f"  {i:>3}  {story}{gain}")
    return lines


def advice_section(advice: Advice, image: Image, color: bool) -> str:
    return (
        "\n".join(["", *findings_lines(advice, image, color), "", *story_lines(advice, color)])
        + "\n"
    )
