"""CI rules as dive defines them: parse, evaluate, render (rendering separate from evaluation)."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .analysis import Analysis
from .errors import ConfigError
from .units import human_bytes, parse_bytes

DISABLED = frozenset({"", "disabled", "off", "false"})
DEFAULTS = {
    "lowestEfficiency": "0.9",
    "highestWastedBytes": "disabled",
    "highestUserWastedPercent": "0.1",
}
_SNAKE = {
    "lowest-efficiency": "lowestEfficiency",
    "highest-wasted-bytes": "highestWastedBytes",
    "highest-user-wasted-percent": "highestUserWastedPercent",
}


class Status(enum.Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    threshold: float | None
    """None when the rule is disabled."""
    raw: str


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: Rule
    status: Status
    value: float
    message: str


def _fraction(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"rule {name}: {raw!r} is not a number between 0 and 1") from None
    if not 0 <= value <= 1 or math.isnan(value):
        raise ConfigError(f"rule {name}: {raw!r} is outside the allowed range 0..1")
    return value


def parse_rule(name: str, raw: str) -> Rule:
    text = str(raw).strip()
    if text.lower() in DISABLED:
        return Rule(name, None, text)
    if name == "highestWastedBytes":
        try:
            return Rule(name, float(parse_bytes(text)), text)
        except ValueError as exc:
            raise ConfigError(f"rule {name}: {exc}") from None
    return Rule(name, _fraction(name, text), text)


def load_rules_file(path: Path) -> dict[str, str]:
    """A `.dive-ci` file: `rules:` with dive's camelCase keys (snake-case accepted too)."""
    import yaml  # noqa: PLC0415  (only runs with a .dive-ci file pay for the YAML parser)

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read CI config ({exc.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'rules' key")
    rules = doc.get("rules") or {}
    if not isinstance(rules, dict):
        raise ConfigError(f"{path}: 'rules' must be a mapping")
    out: dict[str, str] = {}
    for key, value in rules.items():
        name = _SNAKE.get(str(key), str(key))
        if name in DEFAULTS:
            out[name] = "disabled" if value is False else str(value)
    return out


def resolve_rules(file_rules: Mapping[str, str], flags: Mapping[str, str | None]) -> list[Rule]:
    """dive 0.13.1's precedence: a flag given on the command line, else the file, else default."""
    rules = []
    for name, default in DEFAULTS.items():
        flag = flags.get(name)
        raw = flag if flag is not None else file_rules.get(name, default)
        rules.append(parse_rule(name, raw))
    return rules


def evaluate(rules: list[Rule], analysis: Analysis) -> list[RuleResult]:
    dive = analysis.dive
    out = []
    for rule in rules:
        if rule.name == "lowestEfficiency":
            value = dive.efficiency
            failed = rule.threshold is not None and rule.threshold > value
            msg = f"efficiency={value:.4f} threshold={rule.raw}"
        elif rule.name == "highestWastedBytes":
            value = float(dive.wasted_bytes)
            failed = rule.threshold is not None and value > rule.threshold
            msg = (
                f"wastedBytes={dive.wasted_bytes} ({human_bytes(dive.wasted_bytes)}) "
                f"threshold={rule.raw}"
            )
        else:
            value = dive.reported_user_wasted_percent
            failed = rule.threshold is not None and value > rule.threshold
            msg = f"userWastedPercent={value:.4f} threshold={rule.raw}"
        if rule.threshold is None:
            status, msg = Status.SKIP, "rule disabled"
        else:
            status = Status.FAIL if failed else Status.PASS
        out.append(RuleResult(rule, status, value, msg))
    return out


def passed(results: list[RuleResult]) -> bool:
    return all(r.status is not Status.FAIL for r in results)


def describe(results: list[RuleResult]) -> dict[str, Any]:
    """The evaluation as plain data (for JSON)."""
    return {
        "passed": passed(results),
        "rules": [
            {
                "name": r.rule.name,
                "status": r.status.value,
                "threshold": r.rule.raw,
                "value": r.value,
            }
            for r in results
        ],
    }
