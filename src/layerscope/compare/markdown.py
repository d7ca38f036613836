"""The comparison as a pull-request comment: a headline, tables, long lists folded in `<details>`.

GitHub refuses comments over 65,536 characters, so long lists are shortened (halving the rows
until it fits) and say how many rows were left out.
"""

from __future__ import annotations

from ..units import human_bytes
from .model import FindingChange, ImageDiff, LayerSide, PathChange
from .summary import headline, key_directories, percent, signed_bytes

COMMENT_LIMIT = 65_536
_SIDE = {
    LayerSide.SHARED: "shared",
    LayerSide.REUSED: "reused",
    LayerSide.ONLY_A: "removed",
    LayerSide.ONLY_B: "**new**",
}


def code(text: str) -> str:
    """An inline code span safe inside a table cell."""
    text = text.replace("\n", " ").replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def cell(text: str) -> str:
    return text.replace("\n", " ").replace("|", "\\|").replace("<", "&lt;")


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(head: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    marks = [("---:" if c == "r" else "---") for c in (align or "l" * len(head))]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(marks) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _bytes_row(name: str, x: int, y: int) -> list[str]:
    return [name, human_bytes(x), human_bytes(y), f"{signed_bytes(y - x)} {percent(y - x, x)}"]


def _count_row(name: str, x: int, y: int) -> list[str]:
    return [name, f"{x:,}", f"{y:,}", f"{y - x:+,}"]


def _summary(d: ImageDiff) -> list[str]:
    a, b = d.a, d.b
    rows = [
        _bytes_row("image size", a.size, b.size),
        _bytes_row("stored size", a.compressed_size, b.compressed_size),
        _count_row("layers", a.layers, b.layers),
        _count_row("files", a.files, b.files),
        [
            "efficiency",
            f"{a.efficiency:.2%}",
            f"{b.efficiency:.2%}",
            f"{(b.efficiency - a.efficiency) * 100:+.2f} pt",
        ],
        _bytes_row("wasted (dive)", a.wasted_bytes, b.wasted_bytes),
        _bytes_row("reclaimable", a.reclaimable_bytes, b.reclaimable_bytes),
    ]
    head = ["", f"A {code(_short(a.name, 40))}", f"B {code(_short(b.name, 40))}", "change"]
    return _table(head, rows, "lrrr")


def _layers(d: ImageDiff) -> list[str]:
    rows = [
        [
            _SIDE[r.side],
            "" if r.index_a is None else str(r.index_a),
            "" if r.index_b is None else str(r.index_b),
            human_bytes(r.size),
            code(_short(r.command or "(no command)")),
        ]
        for r in d.layers.rows
    ]
    pull = human_bytes(d.layers.pull_bytes)
    kind = "compressed" if d.layers.pull_compressed else "as stored (uncompressed tar)"
    title = (
        f"Layers: {d.layers.shared_prefix} shared at the bottom, {d.layers.pull_layers} new "
        f"({pull} to pull, {kind})"
    )
    return _details(title, _table(["layer", "A", "B", "size", "command"], rows, "lrrrl"))


def _directories(d: ImageDiff, limit: int = 15) -> list[str]:
    dirs = key_directories(d, limit)
    if not dirs:
        return []
    rows = [
        [
            code(x.path),
            signed_bytes(x.delta),
            f"{x.added:,}",
            f"{x.removed:,}",
            f"{x.changed:,}",
            f"{human_bytes(x.size_a)} → {human_bytes(x.size_b)}",
        ]
        for x in dirs
    ]
    head = ["directory", "bytes", "added", "removed", "changed", "size"]
    return ["### Where it changed", "", *_table(head, rows, "lrrrrr"), ""]


def _paths(d: ImageDiff, limit: int) -> list[str]:
    if not d.paths:
        return []
    shown = d.paths[:limit]
    rows = [
        [
            p.change.value,
            code(p.path),
            signed_bytes(p.delta),
            ", ".join(a.value for a in p.aspects),
        ]
        for p in shown
    ]
    body = _table(["change", "path", "bytes", "what"], rows, "llrl")
    if len(shown) < len(d.paths):
        body += ["", f"… {len(d.paths) - len(shown):,} more paths not shown (all with `--json`)."]
    counts = ", ".join(f"{d.count(c):,} {c.value}" for c in PathChange)
    return _details(f"Paths: {counts} (largest change first)", body)


def _findings(d: ImageDiff, limit: int) -> list[str]:
    if d.findings is None:
        return []
    new = [x for x in d.findings if x.change is FindingChange.NEW]
    fixed = [x for x in d.findings if x.change is FindingChange.FIXED]
    out = [f"### Findings: {len(new)} new, {len(fixed)} fixed", ""]
    if not d.findings:
        return [*out, "No finding appeared or went away.", ""]
    rows = [
        [
            x.change.value,
            x.finding.level.value,
            code(x.finding.rule.id),
            cell(_short(x.finding.title, 90)),
            human_bytes(x.finding.recoverable_bytes) if x.finding.recoverable_bytes else "",
        ]
        for x in d.findings[:limit]
    ]
    out += _table(["", "severity", "rule", "finding", "bytes"], rows, "lllll")
    if len(d.findings) > limit:
        out += ["", f"… {len(d.findings) - limit} more findings not shown."]
    return [*out, ""]


def _packages(d: ImageDiff, limit: int) -> list[str]:
    if d.packages is None:
        return []
    if not d.packages:
        return ["### Packages", "", "No package was added, removed or upgraded.", ""]
    rows = [
        [p.change.value, cell(p.ecosystem), code(p.name), cell(p.version_a), cell(p.version_b)]
        for p in d.packages[:limit]
    ]
    body = _table(["", "ecosystem", "package", "A", "B"], rows)
    if len(d.packages) > limit:
        body += ["", f"… {len(d.packages) - limit:,} more packages not shown (all with `--json`)."]
    counts = ", ".join(
        f"{sum(1 for p in d.packages if p.change is c)} {c.value}"
        for c in sorted({p.change for p in d.packages})
    )
    return _details(f"Packages: {counts}", body)


def _render(d: ImageDiff, limit: int, gate: list[str]) -> str:
    lines = [f"## layerscope diff: {code(_short(d.a.name, 60))} → {code(_short(d.b.name, 60))}", ""]
    lines += [headline(d), ""]
    lines += gate
    lines += [*_summary(d), ""]
    if not d.identical:
        lines += _layers(d)
        lines += _directories(d)
        lines += _findings(d, limit)
        lines += _packages(d, limit)
        lines += _paths(d, limit)
    return "\n".join(lines).rstrip("\n") + "\n"


def render_markdown(d: ImageDiff, gate: list[str] | None = None) -> str:
    """The comment, at most `COMMENT_LIMIT` characters."""
    limit = 1000
    while True:
        text = _render(d, limit, gate or [])
        if len(text) <= COMMENT_LIMIT:
            return text
        if limit == 0:
            note = "\n\n… (shortened to fit a comment; the full report: `--json`)\n"
            return text[: COMMENT_LIMIT - len(note)] + note
        limit //= 2
