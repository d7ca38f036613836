"""The comparison as JSON (`layerscope diff --json`); the HTML report renders this same document."""

from __future__ import annotations

from typing import Any

from ..findings.model import Finding
from .model import (
    DirDelta,
    FindingDiff,
    ImageDiff,
    LayerRow,
    PackageDiff,
    PathChange,
    PathDiff,
    Totals,
)
from .summary import headline

SCHEMA_VERSION = 1
PATH_LIMIT = 100_000
"""At most this many paths are listed (largest change first); the counts cover them all."""


def _totals(t: Totals) -> dict[str, Any]:
    return {
        "name": t.name,
        "source": t.source,
        "sizeBytes": t.size,
        "compressedSizeBytes": t.compressed_size,
        "layers": t.layers,
        "files": t.files,
        "efficiencyScore": t.efficiency,
        "inefficientBytes": t.wasted_bytes,
        "reclaimableBytes": t.reclaimable_bytes,
    }


def _delta(d: ImageDiff) -> dict[str, Any]:
    a, b = d.a, d.b
    return {
        "sizeBytes": b.size - a.size,
        "sizePercent": None if not a.size else (b.size - a.size) / a.size,
        "compressedSizeBytes": b.compressed_size - a.compressed_size,
        "layers": b.layers - a.layers,
        "files": b.files - a.files,
        "efficiencyScore": b.efficiency - a.efficiency,
        "inefficientBytes": b.wasted_bytes - a.wasted_bytes,
        "reclaimableBytes": b.reclaimable_bytes - a.reclaimable_bytes,
    }


def _layer(r: LayerRow) -> dict[str, Any]:
    return {
        "side": r.side.value,
        "indexA": r.index_a,
        "indexB": r.index_b,
        "digestId": r.diff_id,
        "sizeBytes": r.size,
        "compressedSizeBytes": r.compressed_size,
        "command": r.command,
    }


def _path(p: PathDiff) -> dict[str, Any]:
    return {
        "path": p.path,
        "change": p.change.value,
        "aspects": [x.value for x in p.aspects],
        "sizeA": p.size_a,
        "sizeB": p.size_b,
        "delta": p.delta,
        "kindA": p.kind_a,
        "kindB": p.kind_b,
    }


def _dir(x: DirDelta) -> dict[str, Any]:
    return {
        "path": x.path,
        "delta": x.delta,
        "added": x.added,
        "removed": x.removed,
        "changed": x.changed,
        "sizeA": x.size_a,
        "sizeB": x.size_b,
    }


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "ruleId": f.rule.id,
        "category": f.rule.category.value,
        "severity": f.level.value,
        "title": f.title,
        "layers": list(f.layers),
        "fix": f.fix,
        "recoverableBytes": f.recoverable_bytes,
        "paths": [p.path for p in f.paths],
    }


def _finding(x: FindingDiff) -> dict[str, Any]:
    return {"change": x.change.value, **finding_json(x.finding)}


def _package(p: PackageDiff) -> dict[str, Any]:
    return {
        "ecosystem": p.ecosystem,
        "name": p.name,
        "change": p.change.value,
        "versionA": p.version_a,
        "versionB": p.version_b,
    }


def to_document(d: ImageDiff, gate: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "a": _totals(d.a),
        "b": _totals(d.b),
        "delta": _delta(d),
        "identical": d.identical,
        "headline": headline(d),
        "layers": {
            "sharedPrefix": d.layers.shared_prefix,
            "pullBytes": d.layers.pull_bytes,
            "pullCompressed": d.layers.pull_compressed,
            "pullLayers": d.layers.pull_layers,
            "rows": [_layer(r) for r in d.layers.rows],
        },
        "pathCounts": {c.value: d.count(c) for c in PathChange},
        "pathsListed": min(len(d.paths), PATH_LIMIT),
        "paths": [_path(p) for p in d.paths[:PATH_LIMIT]],
        "directories": [_dir(x) for x in d.directories],
        "packages": None if d.packages is None else [_package(p) for p in d.packages],
        "findings": None if d.findings is None else [_finding(x) for x in d.findings],
    }
    if gate is not None:
        body["gate"] = gate
    return {"layerscope": {"schemaVersion": SCHEMA_VERSION, "diff": body}}
