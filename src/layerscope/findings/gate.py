"""The CI gate's layerscope rules, beside dive's: `.layerscope.yaml` (or `--policy FILE`).

```yaml
rules:
  maxReclaimableBytes: 50MB      # bytes the findings above info would recover
  failOn: [LS-W001, high]        # rule ids, or severities (that severity or worse)
  denyPaths: ["**/.git/**"]      # globs over every path stored in any layer
  maxLayerSize: 200MB            # the largest layer, uncompressed
```

Each is reported PASS/FAIL/SKIP with dive's rules, as a `ci.RuleResult`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..analysis import Analysis
from ..ci import DISABLED, RuleResult, Status
from ..ci import Rule as CiRule
from ..errors import ConfigError
from ..units import human_bytes, parse_bytes
from .advice import Advice
from .model import Severity

DEFAULT_FILE = ".layerscope.yaml"
KEYS = ("maxReclaimableBytes", "failOn", "denyPaths", "maxLayerSize")


@dataclass(frozen=True, slots=True)
class Policy:
    path: str
    max_reclaimable: int | None = None
    fail_on: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    max_layer: int | None = None


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A path glob: `**` any depth (`**/` also none), `*` and `?` within one name."""
    text = pattern.strip().lstrip("/")
    out, i = [], 0
    while i < len(text):
        if text.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif text.startswith("**", i):
            out.append(".*")
            i += 2
        elif text[i] == "*":
            out.append("[^/]*")
            i += 1
        elif text[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(text[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _size(path: Path, key: str, value: Any) -> int | None:
    if value is False or value is None or str(value).strip().lower() in DISABLED:
        return None
    try:
        return parse_bytes(str(value))
    except ValueError as exc:
        raise ConfigError(f"{path}: {key}: {exc}") from None


def _strings(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key} must be a list of strings")
    return tuple(value)


def load_policy(path: Path) -> Policy:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    doc = doc or {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping")
    rules = doc.get("rules", doc) or {}
    if not isinstance(rules, dict):
        raise ConfigError(f"{path}: 'rules' must be a mapping")
    # Other capabilities keep their own sections in the same file (`packages:` ...): a mapping
    # at the top level is theirs; an unknown scalar there is a misspelt rule.
    unknown = sorted(
        str(k)
        for k, v in rules.items()
        if str(k) not in KEYS
        and str(k) != "rules"
        and (rules is not doc or not isinstance(v, dict))
    )
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    fail_on = _strings(path, "failOn", rules.get("failOn"))
    severities = {s.value for s in Severity}
    for item in fail_on:
        if item.lower() not in severities and not re.fullmatch(r"[A-Z]+-[A-Z]+\d+", item):
            raise ConfigError(f"{path}: failOn: {item!r} is neither a rule id nor a severity")
    deny = _strings(path, "denyPaths", rules.get("denyPaths"))
    return Policy(
        str(path),
        _size(path, "maxReclaimableBytes", rules.get("maxReclaimableBytes")),
        fail_on,
        deny,
        _size(path, "maxLayerSize", rules.get("maxLayerSize")),
    )


def find_policy(option: str | None) -> Policy | None:
    """`--policy FILE` (must exist), else `.layerscope.yaml` in the working directory if any."""
    if option:
        path = Path(option)
        if not path.is_file():
            raise ConfigError(f"{path}: policy file not found")
        return load_policy(path)
    default = Path(DEFAULT_FILE)
    return load_policy(default) if default.is_file() else None


def _result(name: str, raw: str, failed: bool | None, value: float, msg: str) -> RuleResult:
    if failed is None:
        return RuleResult(CiRule(name, None, raw), Status.SKIP, value, "rule disabled")
    status = Status.FAIL if failed else Status.PASS
    return RuleResult(CiRule(name, value, raw), status, value, msg)


def evaluate(policy: Policy, analysis: Analysis, advice: Advice) -> list[RuleResult]:
    out = []
    actionable = advice.findings.at_least(Severity.LOW).recoverable_bytes
    limit = policy.max_reclaimable
    out.append(
        _result(
            "maxReclaimableBytes",
            str(limit),
            None if limit is None else actionable > limit,
            actionable,
            f"reclaimable={actionable} ({human_bytes(actionable)}) threshold="
            f"{human_bytes(limit or 0)}",
        )
    )
    wanted = {x.lower() for x in policy.fail_on}
    hits = [
        f
        for f in advice.findings
        if f.rule.id.lower() in wanted
        or any(f.level.at_least(s) for s in Severity if s.value in wanted)
    ]
    out.append(
        _result(
            "failOn",
            ",".join(policy.fail_on),
            None if not wanted else bool(hits),
            len(hits),
            f"{len(hits)} finding(s) match"
            + (f", first: {hits[0].rule.id} {hits[0].title}" if hits else ""),
        )
    )
    out.append(_deny(policy, analysis))
    biggest = max(analysis.image.layers, key=lambda x: x.size, default=None)
    size = biggest.size if biggest else 0
    limit = policy.max_layer
    out.append(
        _result(
            "maxLayerSize",
            str(limit),
            None if limit is None else size > limit,
            size,
            f"largest layer {biggest.index if biggest else '-'}: {size} ({human_bytes(size)}) "
            f"threshold={human_bytes(limit or 0)}",
        )
    )
    return out


def _deny(policy: Policy, analysis: Analysis) -> RuleResult:
    if not policy.deny:
        return _result("denyPaths", "", None, 0, "")
    patterns = [glob_regex(p) for p in policy.deny]
    found: list[tuple[str, int]] = []
    for path, versions in analysis.tree.versions.items():
        stored = [v.layer for v in versions if v.entry is not None]
        if stored and any(p.match(path) for p in patterns):
            found.append((path, stored[0]))
    found.sort()
    msg = f"{len(found)} denied path(s)"
    if found:
        msg += f", first: /{found[0][0]} (layer {found[0][1]})"
    return _result("denyPaths", ",".join(policy.deny), bool(found), len(found), msg)
