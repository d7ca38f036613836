"""Text renderings for people: the CI report and the image summary (no printing here)."""

from __future__ import annotations

import math

from .analysis import Analysis
from .ci import RuleResult, Status, passed
from .model import readable_command
from .units import human_bytes
from .wastedirs import waste_by_directory

_COLORS = {Status.PASS: "\x1b[1;32m", Status.FAIL: "\x1b[1;31m", Status.SKIP: "\x1b[34m"}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _percent(value: float) -> str:
    return "0.0000 %" if math.isnan(value) else f"{value * 100:.4f} %"


def inefficient_table(analysis: Analysis, limit: int | None = None) -> list[str]:
    files = analysis.dive.inefficient_files
    shown = files if limit is None else files[:limit]
    lines = ["Count  Wasted Space  File Path"]
    lines += [f"{f.count:>5}  {human_bytes(f.cumulative_size):>12}  {f.path}" for f in shown]
    if len(shown) < len(files):
        lines.append(f"  ... {len(files) - len(shown)} more (all of them with --json)")
    return lines


def _waste_lines(analysis: Analysis) -> list[str]:
    w = analysis.waste
    lines = [
        f"  reclaimable:       {w.reclaimable_bytes} bytes ({human_bytes(w.reclaimable_bytes)})"
        f", efficiency {_percent(w.efficiency)}",
        f"    overwritten:     {human_bytes(w.overwritten_bytes)}"
        f" (unchanged content rewritten: {human_bytes(w.identical_rewrite_bytes)})",
        f"    deleted:         {human_bytes(w.deleted_bytes)}",
        f"    deleted with their directory: {human_bytes(w.directory_deleted_bytes)}",
        f"    hidden by opaque directories: {human_bytes(w.opaque_hidden_bytes)}",
        f"    replaced by another file type: {human_bytes(w.replaced_bytes)}",
    ]
    base = f"{w.base.layers} layer(s), {w.base.source}"
    if w.base.name:
        base += f", {w.base.name}"
    lines.append(f"  base image:        {base}")
    lines.append(f"  userWastedPercent: {_percent(w.user_wasted_percent)} of user layers")
    return lines


def layers_text(layers: tuple[int, ...]) -> str:
    """`layer 1`, `layers 1, 3`."""
    return ("layer " if len(layers) == 1 else "layers ") + ", ".join(map(str, layers))


def directory_lines(analysis: Analysis, limit: int = 10) -> list[str]:
    """Waste by directory: `293 MB  /root/.cache/pip/  (1,891 files; deleted ...; layer 2)`."""
    lines = []
    for d in waste_by_directory(analysis.waste.files, limit):
        files = "1 file" if d.files == 1 else f"{d.files:,} files"
        lines.append(
            f"  {human_bytes(d.reclaimable_bytes):>9}  {d.path}  "
            f"({files}; {', '.join(d.causes)}; {layers_text(d.layers)})"
        )
    return lines or ["  none"]


def ci_report(analysis: Analysis, results: list[RuleResult], color: bool) -> str:
    d = analysis.dive
    lines = [
        _paint("Image: ", _BOLD, color) + f"{analysis.image.name} ({analysis.image.format})",
        _paint("Analysis (dive 0.13.1 figures):", _BOLD, color),
        f"  efficiency: {_percent(d.efficiency)}",
        f"  wastedBytes: {d.wasted_bytes} bytes ({human_bytes(d.wasted_bytes)})",
        f"  userWastedPercent: {_percent(d.reported_user_wasted_percent)}",
        _paint("Waste, layerscope model (every copy that does not ship):", _BOLD, color),
        *_waste_lines(analysis),
        _paint("Inefficient Files:", _BOLD, color),
        *inefficient_table(analysis),
        _paint("Results:", _BOLD, color),
    ]
    for r in results:
        lines.append(
            f"  {_paint(r.status.value, _COLORS[r.status], color)}: {r.rule.name}: {r.message}"
        )
    counts = {s: sum(1 for r in results if r.status is s) for s in Status}
    verdict = "PASS" if passed(results) else "FAIL"
    summary = (
        f"Result:{verdict} [Total:{len(results)}] [Passed:{counts[Status.PASS]}] "
        f"[Failed:{counts[Status.FAIL]}] [Warn:0] [Skipped:{counts[Status.SKIP]}]"
    )
    lines.append(_paint(summary, _COLORS[Status.PASS if verdict == "PASS" else Status.FAIL], color))
    return "\n".join(lines) + "\n"


def summary(analysis: Analysis, color: bool, limit: int = 15) -> str:
    image, d = analysis.image, analysis.dive
    lines = [
        _paint(f"{image.name}", _BOLD, color) + f"  ({image.format})",
        f"  platform {image.platform or 'unknown'}, {len(image.layers)} layers, "
        f"{human_bytes(image.size)} ({human_bytes(image.compressed_size)} stored)",
        "",
        _paint("Layers:", _BOLD, color),
        "  Idx      Size   Stored  Command",
    ]
    for layer in image.layers:
        cmd = readable_command(layer.history.created_by).replace("\n", " ↵ ")
        if len(cmd) > 90:
            cmd = cmd[:89] + "…"
        lines.append(
            f"  {layer.index:>3} {human_bytes(layer.size):>9} "
            f"{human_bytes(layer.compressed_size):>8}  {cmd}"
        )
    lines += [
        "",
        _paint("dive figures:", _BOLD, color),
        f"  efficiency {_percent(d.efficiency)}, wasted {human_bytes(d.wasted_bytes)}, "
        f"user wasted {_percent(d.reported_user_wasted_percent)}",
        _paint("Waste, layerscope model:", _BOLD, color),
        *_waste_lines(analysis),
        "",
        _paint("Waste by directory:", _BOLD, color),
        *directory_lines(analysis),
        "",
        _paint("Largest waste:", _BOLD, color),
    ]
    for f in analysis.waste.files[:limit]:
        lines.append(
            f"  {human_bytes(f.reclaimable_bytes):>9}  {f.path}  "
            f"({', '.join(f.causes)}; {layers_text(f.layers)})"
        )
    if not analysis.waste.files:
        lines.append("  none")
    elif len(analysis.waste.files) > limit:
        lines.append(f"  ... {len(analysis.waste.files) - limit} more (all of them with --json)")
    return "\n".join(lines) + "\n"
