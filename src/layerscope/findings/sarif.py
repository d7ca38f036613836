"""Findings as SARIF 2.1.0 (`--sarif FILE`), for code-scanning UIs.

Every rule of the registry is listed in `tool.driver.rules`; each finding is a result whose
location is its Dockerfile line when `--dockerfile` was given, else a logical location naming
the image and layer. The byte figures are result properties.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..model import Image
from .advice import Advice
from .model import Finding, Rule, Severity
from .registry import all_rules

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.title.split()[:6] if w.isalnum()),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title}. Fix: {rule.fix}"},
        "help": {"text": rule.fix, "markdown": rule.fix},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"category": rule.category.value, "tags": [rule.category.value]},
    }


def _location(f: Finding, image: Image) -> dict[str, Any]:
    if f.location:
        uri, _, line = f.location.rpartition(":")
        return {
            "physicalLocation": {
                "artifactLocation": {"uri": uri},
                "region": {"startLine": int(line)},
            }
        }
    layer = f.cited
    return {
        "logicalLocations": [
            {
                "name": f"layer {layer}" if layer is not None else image.name,
                "fullyQualifiedName": f"{image.name}/layer/{layer}",
                "kind": "module",
            }
        ]
    }


def _result(f: Finding, index: dict[str, int], image: Image) -> dict[str, Any]:
    text = f"{f.title}. Fix: {f.fix}"
    return {
        "ruleId": f.rule.id,
        "ruleIndex": index[f.rule.id],
        "level": LEVELS[f.level],
        "message": {"text": text},
        "locations": [_location(f, image)],
        "partialFingerprints": {
            "layerscope/v1": f"{f.rule.id}:{','.join(map(str, f.layers))}:{f.title}"
        },
        "properties": {
            "severity": f.level.value,
            "layers": list(f.layers),
            "instruction": f.instruction,
            "recoverableBytes": f.recoverable_bytes,
            "shippedBytes": f.shipped_bytes,
            "hiddenBytes": f.hidden_bytes,
            "pullBytes": f.pull_bytes,
            "paths": [p.path for p in f.paths[:20]],
        },
    }


def to_sarif(advice: Advice, image: Image) -> dict[str, Any]:
    rules = list(all_rules())
    known = {r.id for r in rules}
    rules += sorted({f.rule for f in advice.findings if f.rule.id not in known}, key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "layerscope",
                        "version": __version__,
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "results": [_result(f, index, image) for f in advice.findings],
                "properties": {"image": image.name, "configDigest": image.config_digest},
            }
        ],
    }
