"""The findings and layer stories for people (the summary) and machines (the JSON)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..analysis import Analysis
from ..units import human_bytes
from .model import Category, Finding, FindingSet, Severity

JSON_PATHS = 50
"""Paths per finding in the JSON (all are counted in `pathCount`)."""


def reclaimable_by_layer(findings: FindingSet) -> dict[int, tuple[int, int]]:
    """Layer -> (recoverable bytes stored in it, of which still shipped)."""
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for f in findings:
        if not f.recoverable_bytes:
            continue
        for p in f.paths:
            out[p.layer][0] += p.size
            if p.state.value == "present":
                out[p.layer][1] += p.size
    return {k: (v[0], v[1]) for k, v in out.items()}


def advice_totals(findings: FindingSet) -> dict[str, int]:
    waste = findings.in_category(Category.WASTE)
    above = [f for f in waste if f.level is not Severity.INFO]
    return {
        "recoverableBytes": waste.recoverable_bytes,
        "shippedBytes": waste.shipped_bytes,
        "hiddenBytes": waste.recoverable_bytes - waste.shipped_bytes,
        "pullBytes": sum(f.pull_bytes for f in waste),
        "recoverableAboveInfoBytes": sum(f.recoverable_bytes for f in above),
        "pullAboveInfoBytes": sum(f.pull_bytes for f in above),
    }


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "ruleId": f.rule.id,
        "category": f.rule.category.value,
        "severity": f.level.value,
        "title": f.title,
        "layers": list(f.layers),
        "instruction": f.instruction,
        "location": f.location or None,
        "fix": f.fix,
        "detail": f.detail,
        "recoverableBytes": f.recoverable_bytes,
        "shippedBytes": f.shipped_bytes,
        "hiddenBytes": f.hidden_bytes,
        "pullBytes": f.pull_bytes,
        "pathCount": f.path_count or len(f.paths),
        "paths": [
            {"path": p.path, "layer": p.layer, "sizeBytes": p.size, "state": p.state.value}
            for p in f.paths[:JSON_PATHS]
        ],
        "evidence": dict(f.evidence),
    }


def layers_json(
    analysis: Analysis, findings: FindingSet, stories: list[str], locations: list[str]
) -> list[dict[str, Any]]:
    by_layer = reclaimable_by_layer(findings)
    return [
        {
            "index": i,
            "story": stories[i],
            "reclaimableBytes": by_layer.get(i, (0, 0))[0],
            "reclaimableShippedBytes": by_layer.get(i, (0, 0))[1],
            "location": locations[i] or None,
        }
        for i in range(len(analysis.image.layers))
    ]


def extensions(
    analysis: Analysis, findings: FindingSet, stories: list[str], locations: list[str]
) -> dict[str, Any]:
    """`layerscope.findings`, `layerscope.layers` and `layerscope.advice` of the JSON."""
    return {
        "findings": [finding_json(f) for f in findings],
        "layers": layers_json(analysis, findings, stories, locations),
        "advice": advice_totals(findings),
    }


def _where(f: Finding) -> str:
    layers = ", ".join(map(str, f.layers))
    return f"layer{'s' if len(f.layers) > 1 else ''} {layers}" + (
        f", {f.location}" if f.location else ""
    )


def advice_text(analysis: Analysis, findings: FindingSet, stories: list[str]) -> str:
    """The summary's advisor section: waste findings ranked by bytes, totals, the stories."""
    waste = sorted(findings.in_category(Category.WASTE), key=lambda f: -f.recoverable_bytes)
    t = advice_totals(findings)
    lines = [
        "",
        f"Advisor: {human_bytes(t['recoverableBytes'])} recoverable "
        f"(~{human_bytes(t['pullBytes'])} to pull): {human_bytes(t['hiddenBytes'])} hidden by "
        f"later layers, {human_bytes(t['shippedBytes'])} still shipped; "
        f"{human_bytes(t['recoverableAboveInfoBytes'])} above info",
    ]
    for f in waste:
        lines.append(
            f"  {human_bytes(f.recoverable_bytes):>9}  [{f.level.value}] {f.rule.id} {f.title}"
        )
        lines.append(f"             {_where(f)}: {f.instruction}")
        lines.append(f"             fix: {f.fix}")
    lines += ["", "Layer stories:"]
    for i, story in enumerate(stories):
        lines.append(f"  {i:>3}  {story}")
    return "\n".join(lines) + "\n"
