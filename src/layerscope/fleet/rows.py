"""An analysed image -> the rows of the fleet tables; the tables' columns are declared here.

Files of interest are the stored copies that do not ship (the waste model) and the paths that
findings name, never every file. Findings come from `collect_findings`: the one function through
which every finding producer reaches the fleet.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from ..export import to_document
from ..findings.model import FindingSet
from ..session import OpenedImage

Row = dict[str, Any]

# Column name -> DuckDB type, per table, in table order.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "images": (
        ("image", "VARCHAR"), ("ref", "VARCHAR"), ("status", "VARCHAR"), ("stage", "VARCHAR"),
        ("error", "VARCHAR"), ("attempts", "INTEGER"), ("name", "VARCHAR"), ("format", "VARCHAR"),
        ("config_digest", "VARCHAR"), ("platform", "VARCHAR"), ("created", "VARCHAR"),
        ("layer_count", "INTEGER"), ("size_bytes", "BIGINT"), ("compressed_bytes", "BIGINT"),
        ("reclaimable_bytes", "BIGINT"), ("efficiency", "DOUBLE"), ("user_size_bytes", "BIGINT"),
        ("user_reclaimable_bytes", "BIGINT"), ("user_wasted_percent", "DOUBLE"),
        ("dive_wasted_bytes", "BIGINT"), ("dive_efficiency", "DOUBLE"),
        ("base_layers", "INTEGER"), ("base_source", "VARCHAR"), ("base_name", "VARCHAR"),
        ("base_top_diff_id", "VARCHAR"), ("wasted_files", "INTEGER"), ("findings", "INTEGER"),
        ("recoverable_bytes", "BIGINT"), ("document_sha256", "VARCHAR"),
        ("analysed_as", "VARCHAR"), ("seconds", "DOUBLE"), ("worker", "VARCHAR"),
    ),
    "layers": (
        ("diff_id", "VARCHAR"), ("blob_digest", "VARCHAR"), ("media_type", "VARCHAR"),
        ("compressed_bytes", "BIGINT"), ("size_bytes", "BIGINT"), ("files", "INTEGER"),
        ("parsed", "BOOLEAN"), ("parse_seconds", "DOUBLE"), ("worker", "VARCHAR"),
    ),
    "image_layers": (
        ("image", "VARCHAR"), ("position", "INTEGER"), ("diff_id", "VARCHAR"),
        ("blob_digest", "VARCHAR"), ("compressed_bytes", "BIGINT"), ("size_bytes", "BIGINT"),
        ("in_base", "BOOLEAN"), ("empty", "BOOLEAN"), ("command", "VARCHAR"),
        ("created", "VARCHAR"),
    ),
    "files": (
        ("image", "VARCHAR"), ("path", "VARCHAR"), ("layer", "INTEGER"), ("bytes", "BIGINT"),
        ("reason", "VARCHAR"), ("cause", "VARCHAR"), ("ended_by", "INTEGER"),
        ("rule_id", "VARCHAR"),
    ),
    "findings": (
        ("image", "VARCHAR"), ("rule_id", "VARCHAR"), ("category", "VARCHAR"),
        ("severity", "VARCHAR"), ("severity_rank", "INTEGER"), ("title", "VARCHAR"),
        ("layers", "INTEGER[]"), ("instruction", "VARCHAR"), ("fix", "VARCHAR"),
        ("recoverable_bytes", "BIGINT"), ("shipped_bytes", "BIGINT"), ("pull_bytes", "BIGINT"),
        ("path_count", "INTEGER"), ("detail", "VARCHAR"), ("location", "VARCHAR"),
    ),
    "packages": (
        ("image", "VARCHAR"), ("ecosystem", "VARCHAR"), ("name", "VARCHAR"),
        ("version", "VARCHAR"), ("arch", "VARCHAR"), ("layer", "INTEGER"),
        ("removed_in", "INTEGER"), ("present", "BOOLEAN"), ("final_bytes", "BIGINT"),
        ("stored_bytes", "BIGINT"),
    ),
}  # fmt: skip


def collect_findings(opened: OpenedImage) -> FindingSet:
    """Every finding producer's findings for one image, as `layerscope --findings` collects them
    (the waste advisor and the security rules, no byte counted twice; metadata only: contents
    are not scanned for secrets)."""
    from ..findings.engine import FindingOptions, collect  # noqa: PLC0415
    from ..findings.producers import default_producers  # noqa: PLC0415

    return collect(opened, FindingOptions(), default_producers())


def canonical_sha256(doc: Any) -> str:
    """sha256 of a JSON document in compact form (the C encoder: 5x faster than indented)."""
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def core(doc: dict[str, Any]) -> dict[str, Any]:
    """A `--json` document without the keys the capabilities add under `layerscope`."""
    kept = {k: v for k, v in doc["layerscope"].items() if k in ("schemaVersion", "waste")}
    return {**doc, "layerscope": kept}


def package_rows(opened: OpenedImage, image: str) -> list[Row]:
    """Every package the image's databases list over its history (`layerscope.packages`)."""
    from ..packages.analyse import analyse_packages  # noqa: PLC0415  (only with --packages)

    report = analyse_packages(opened, reach=False)
    return [
        {
            "image": image,
            "ecosystem": u.package.ecosystem.value,
            "name": u.package.name,
            "version": u.package.version,
            "arch": u.package.arch,
            "layer": u.installed_in,
            "removed_in": u.removed_in,
            "present": u.present,
            "final_bytes": u.final_bytes,
            "stored_bytes": u.stored_bytes,
        }
        for u in report.attribution.usages
    ]


def document_sha256(opened: OpenedImage) -> str:
    """The document `layerscope --json FILE IMAGE` writes for the same image, without the
    capabilities' extensions (dive's schema, `layerscope.schemaVersion` and `.waste`), hashed
    compact: `canonical_sha256(core(json.load(FILE)))` equals it."""
    return canonical_sha256(to_document(opened.analysis))


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def image_row(
    opened: OpenedImage, image: str, ref: str, findings: FindingSet, json_digest: bool
) -> Row:
    a = opened.analysis
    img, w, dive = a.image, a.waste, a.dive
    base_top = img.layers[w.base.layers - 1].diff_id if w.base.layers else None
    return {
        "image": image, "ref": ref, "status": "ok", "stage": None, "error": None,
        "name": img.name, "format": img.format, "config_digest": img.config_digest,
        "platform": str(img.platform) if img.platform else None, "created": img.created,
        "layer_count": len(img.layers), "size_bytes": img.size,
        "compressed_bytes": img.compressed_size, "reclaimable_bytes": w.reclaimable_bytes,
        "efficiency": w.efficiency, "user_size_bytes": w.user_size_bytes,
        "user_reclaimable_bytes": w.user_reclaimable_bytes,
        "user_wasted_percent": w.user_wasted_percent, "dive_wasted_bytes": dive.wasted_bytes,
        "dive_efficiency": _finite(dive.efficiency), "base_layers": w.base.layers,
        "base_source": w.base.source, "base_name": w.base.name or None,
        "base_top_diff_id": base_top, "wasted_files": len(w.files),
        "findings": len(findings), "recoverable_bytes": findings.recoverable_bytes,
        "document_sha256": document_sha256(opened) if json_digest else None,
        "analysed_as": image,
    }  # fmt: skip


def image_layer_rows(opened: OpenedImage, image: str) -> list[Row]:
    base = opened.analysis.waste.base.layers
    return [
        {
            "image": image,
            "position": layer.index,
            "diff_id": layer.diff_id,
            "blob_digest": layer.blob_digest,
            "compressed_bytes": layer.compressed_size,
            "size_bytes": layer.size,
            "in_base": layer.index < base,
            "empty": layer.is_empty,
            "command": layer.command,
            "created": layer.history.created,
        }
        for layer in opened.image.layers
    ]


def layer_row(opened: OpenedImage, index: int, parsed: bool, seconds: float, worker: str) -> Row:
    layer = opened.image.layers[index]
    return {
        "diff_id": layer.diff_id, "blob_digest": layer.blob_digest,
        "media_type": layer.media_type, "compressed_bytes": layer.compressed_size,
        "size_bytes": layer.size, "files": len(layer.entries), "parsed": parsed,
        "parse_seconds": seconds, "worker": worker,
    }  # fmt: skip


def file_rows(opened: OpenedImage, image: str, findings: FindingSet) -> list[Row]:
    rows: list[Row] = [
        {
            "image": image,
            "path": f.path,
            "layer": copy.layer,
            "bytes": copy.size,
            "reason": "wasted",
            "cause": copy.cause.value,
            "ended_by": copy.ended_by,
            "rule_id": None,
        }
        for f in opened.analysis.waste.files
        for copy in f.wasted
    ]
    for finding in findings:
        rows.extend(
            {
                "image": image,
                "path": p.path,
                "layer": p.layer,
                "bytes": p.size,
                "reason": "finding",
                "cause": p.state.value,
                "ended_by": None,
                "rule_id": finding.rule.id,
            }
            for p in finding.paths
        )
    return rows


def finding_rows(image: str, findings: FindingSet) -> list[Row]:
    return [
        {
            "image": image,
            "rule_id": f.rule.id,
            "category": f.rule.category.value,
            "severity": f.level.value,
            "severity_rank": f.level.rank,
            "title": f.title,
            "layers": list(f.layers),
            "instruction": f.instruction,
            "fix": f.fix,
            "recoverable_bytes": f.recoverable_bytes,
            "shipped_bytes": f.shipped_bytes,
            "pull_bytes": f.pull_bytes,
            "path_count": f.path_count or len(f.paths),
            "detail": f.detail,
            "location": f.location,
        }
        for f in findings
    ]


def failed_image_row(image: str, ref: str, stage: str, error: str, attempts: int) -> Row:
    row: Row = dict.fromkeys((name for name, _ in TABLES["images"]), None)
    row.update(image=image, ref=ref, status="failed", stage=stage, error=error, attempts=attempts)
    return row
