"""The comparison for a terminal or a CI log (the default output of `layerscope diff`)."""

from __future__ import annotations

from ..units import human_bytes
from .model import FindingChange, ImageDiff, LayerSide, PathChange
from .summary import headline, key_directories, percent, signed_bytes

_GREEN, _RED, _YELLOW, _BOLD, _RESET = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def figures(d: ImageDiff) -> list[str]:
    a, b = d.a, d.b

    def size(name: str, x: int, y: int) -> str:
        return (
            f"  {name:<22}{human_bytes(x):>10} -> {human_bytes(y):>10}"
            f"  {signed_bytes(y - x)} {percent(y - x, x)}".rstrip()
        )

    return [
        size("image size", a.size, b.size),
        size("stored size", a.compressed_size, b.compressed_size),
        f"  {'layers':<22}{a.layers:>10} -> {b.layers:>10}  {b.layers - a.layers:+}",
        f"  {'files':<22}{a.files:>10,} -> {b.files:>10,}  {b.files - a.files:+,}",
        f"  {'efficiency':<22}{a.efficiency:>10.2%} -> {b.efficiency:>10.2%}"
        f"  {(b.efficiency - a.efficiency) * 100:+.2f} pt",
        size("wasted (dive)", a.wasted_bytes, b.wasted_bytes),
        size("reclaimable", a.reclaimable_bytes, b.reclaimable_bytes),
    ]


def _layers(d: ImageDiff, color: bool) -> list[str]:
    paint = {
        LayerSide.SHARED: "",
        LayerSide.REUSED: "",
        LayerSide.ONLY_A: _RED,
        LayerSide.ONLY_B: _GREEN,
    }
    out = []
    for r in d.layers.rows:
        ia = "" if r.index_a is None else str(r.index_a)
        ib = "" if r.index_b is None else str(r.index_b)
        where = f"{ia:>3} {ib:>3}"
        line = f"  {r.side.value:<10}{where}  {human_bytes(r.size):>9}  {r.command[:70]}"
        out.append(_paint(line, paint[r.side], color and bool(paint[r.side])))
    kind = "compressed" if d.layers.pull_compressed else "uncompressed, as stored"
    out.append(
        f"  a node that has A pulls {d.layers.pull_layers} layer(s) for B: "
        f"{human_bytes(d.layers.pull_bytes)} ({kind})"
    )
    return out


def render_text(d: ImageDiff, color: bool = False, limit: int = 20) -> str:
    lines = [
        _paint(f"A: {d.a.name}  ({d.a.source})", _BOLD, color),
        _paint(f"B: {d.b.name}  ({d.b.source})", _BOLD, color),
        "",
        headline(d),
        "",
        *figures(d),
    ]
    if d.identical:
        return "\n".join(lines) + "\n"
    lines += ["", "Layers (side, index in A, index in B, size, command):", *_layers(d, color)]
    dirs = key_directories(d, 15)
    if dirs:
        lines += ["", "Where it changed (directories, largest change first):"]
        lines += [
            f"  {signed_bytes(x.delta):>10}  +{x.added} -{x.removed} ~{x.changed}  {x.path}"
            for x in dirs
        ]
    if d.findings is not None:
        new = sum(1 for x in d.findings if x.change is FindingChange.NEW)
        lines += ["", f"Findings: {new} new, {len(d.findings) - new} fixed"]
        for x in d.findings[:limit]:
            mark = _paint("new  ", _RED, color) if x.change is FindingChange.NEW else "fixed"
            lines.append(
                f"  {mark} {x.finding.level.value:<8} {x.finding.rule.id}  {x.finding.title}"
            )
    if d.packages is not None:
        lines += ["", f"Packages: {len(d.packages)} changed"]
        lines += [
            f"  {p.change.value:<9} {p.ecosystem}:{p.name}  "
            f"{p.version_a or '-'} -> {p.version_b or '-'}"
            for p in d.packages[:limit]
        ]
        if len(d.packages) > limit:
            lines.append(f"  ... {len(d.packages) - limit} more (all of them with --json)")
    lines += ["", "Paths (largest change first):"]
    marks = {
        PathChange.ADDED: ("+", _GREEN),
        PathChange.REMOVED: ("-", _RED),
        PathChange.CHANGED: ("~", _YELLOW),
    }
    for p in d.paths[:limit]:
        sign, tint = marks[p.change]
        what = f"  ({', '.join(a.value for a in p.aspects)})" if p.aspects else ""
        lines.append(_paint(f"  {sign} {signed_bytes(p.delta):>10}  {p.path}{what}", tint, color))
    if len(d.paths) > limit:
        lines.append(f"  ... {len(d.paths) - limit} more (all of them with --json)")
    return "\n".join(lines) + "\n"
