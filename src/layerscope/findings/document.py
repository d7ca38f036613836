"""Findings as JSON: `layerscope.findings[]`, `layerscope.findingsSummary` and
`layerscope.layers[]` (each layer's story and recoverable bytes), through `export.to_document`'s
extensions."""

from __future__ import annotations

from typing import Any

from .advice import Advice
from .model import Finding, FindingSet, Severity

MAX_PATHS = 200
"""Paths listed per finding in JSON (all are counted in `pathCount` and the byte totals)."""


def finding_json(f: Finding, max_paths: int = MAX_PATHS) -> dict[str, Any]:
    return {
        "ruleId": f.rule.id,
        "category": f.rule.category.value,
        "severity": f.level.value,
        "title": f.title,
        "ruleTitle": f.rule.title,
        "layers": list(f.layers),
        "citedLayer": f.cited,
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
            {
                "path": p.path,
                "layer": p.layer,
                "sizeBytes": p.size,
                "state": p.state.value,
                "contentHash": f"{p.content_hash:016x}" if p.content_hash else None,
            }
            for p in f.paths[:max_paths]
        ],
        "evidence": dict(f.evidence),
    }


def summary_json(found: FindingSet) -> dict[str, Any]:
    return {
        "count": len(found),
        "bySeverity": {s.value: sum(1 for f in found if f.level is s) for s in Severity},
        "recoverableBytes": found.recoverable_bytes,
        "shippedBytes": found.shipped_bytes,
        "hiddenBytes": found.recoverable_bytes - found.shipped_bytes,
        "pullBytes": sum(f.pull_bytes for f in found),
        "actionableRecoverableBytes": found.at_least(Severity.LOW).recoverable_bytes,
    }


def extension(advice: Advice) -> dict[str, Any]:
    """The `layerscope.*` keys the findings add to the JSON document."""
    return {
        "findings": [finding_json(f) for f in advice.findings],
        "findingsSummary": summary_json(advice.findings),
        "layers": [
            {"index": i, "story": story, "recoverableBytes": advice.layer_recoverable[i]}
            for i, story in enumerate(advice.stories)
        ],
    }
