"""SARIF 2.1.0 for every finding (waste and security), so code scanning UIs show them.

Each result names its rule, a level from its severity, the message (title and fix), the image
layers as logical locations, and the Dockerfile line as a physical location when one was given.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .. import __version__
from .model import Category, Finding, FindingSet, Rule, Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "warning",
    Severity.INFO: "note",
}
# GitHub code scanning reads `security-severity` (0-10) on security rules.
_SECURITY_SCORE = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _rule(rule: Rule) -> dict[str, Any]:
    props: dict[str, Any] = {"category": rule.category.value, "tags": [rule.category.value]}
    if rule.category is Category.SECURITY:
        props["security-severity"] = _SECURITY_SCORE[rule.severity]
    return {
        "id": rule.id,
        "name": rule.title,
        "shortDescription": {"text": rule.title},
        "help": {"text": rule.fix},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": props,
    }


def _location(f: Finding, dockerfile: str) -> list[dict[str, Any]]:
    logical = [
        {"name": f"layer {i}", "kind": "module", "fullyQualifiedName": f"image/layer/{i}"}
        for i in f.layers
    ]
    loc: dict[str, Any] = {"logicalLocations": logical}
    if f.location and dockerfile:
        line = int(f.location.rpartition(":")[2] or 1)
        loc["physicalLocation"] = {
            "artifactLocation": {"uri": dockerfile},
            "region": {"startLine": line},
        }
    return [loc]


def _result(f: Finding, index: int, dockerfile: str) -> dict[str, Any]:
    key = f"{f.rule.id}|{','.join(map(str, f.layers))}|{f.paths[0].path if f.paths else ''}"
    return {
        "ruleId": f.rule.id,
        "ruleIndex": index,
        "level": _LEVEL[f.level],
        "message": {"text": f"{f.title}. Fix: {f.fix}"},
        "locations": _location(f, dockerfile),
        "partialFingerprints": {"layerscopeFinding/v1": hashlib.sha256(key.encode()).hexdigest()},
        "properties": {
            "severity": f.level.value,
            "recoverableBytes": f.recoverable_bytes,
            "shippedBytes": f.shipped_bytes,
            "pullBytes": f.pull_bytes,
            "instruction": f.instruction,
            "paths": [p.path for p in f.paths[:20]],
        },
    }


def to_sarif(
    findings: FindingSet, rules: tuple[Rule, ...], image: str, dockerfile: str = ""
) -> dict[str, Any]:
    """The SARIF log of one image's findings; `rules` is every rule that could fire."""
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
                "automationDetails": {"id": f"layerscope/{image}"},
                "results": [_result(f, index[f.rule.id], dockerfile) for f in findings],
            }
        ],
    }
