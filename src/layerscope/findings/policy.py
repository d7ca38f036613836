"""CI rules on findings and paths, from the `findings:` section of `.layerscope.yaml`:

    findings:
      maxReclaimableBytes: 50MB          # fail if the advisor's recoverable bytes exceed it
      failOn: [high, LS-W001]            # fail on any finding of these severities (or worse)
                                         # or rule ids
      denyPaths: ["**/.git/**", "**/*.pem"]   # fail if a final-image path matches
      maxLayerSize: 200MB                # fail if one layer is bigger

Each rule becomes a `ci.RuleResult`, reported PASS/FAIL beside dive's; other sections of the
file belong to other capabilities. `.dive-ci` is read as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis import Analysis
from ..ci import DISABLED, Rule, RuleResult, Status
from ..errors import ConfigError
from ..units import human_bytes, parse_bytes
from .model import FindingSet, Severity

SECTION = "findings"
DEFAULT_FILE = ".layerscope.yaml"
_KEYS = {"maxReclaimableBytes", "failOn", "denyPaths", "maxLayerSize"}


@dataclass(frozen=True, slots=True)
class Policy:
    max_reclaimable: int | None = None
    fail_on: tuple[str, ...] = ()
    deny_paths: tuple[str, ...] = ()
    max_layer_size: int | None = None


def _size(where: str, key: str, raw: Any) -> int | None:
    if raw is None or str(raw).strip().lower() in DISABLED:
        return None
    try:
        return parse_bytes(str(raw))
    except (ValueError, ConfigError):
        raise ConfigError(f"{where}: '{SECTION}.{key}' {raw!r} is not a size (e.g. 50MB)") from None


def _strings(where: str, key: str, raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise ConfigError(f"{where}: '{SECTION}.{key}' must be a list of strings")
    return tuple(raw)


def parse_policy(doc: Any, where: str) -> Policy:
    if doc is None:
        return Policy()
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: expected a mapping at the top")
    section = doc.get(SECTION)
    if section is None:
        return Policy()
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: '{SECTION}' must be a mapping ({', '.join(sorted(_KEYS))})")
    unknown = set(map(str, section)) - _KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) in '{SECTION}': {', '.join(sorted(unknown))}")
    fail_on = _strings(where, "failOn", section.get("failOn"))
    severities = {s.value for s in Severity}
    for item in fail_on:
        if item.lower() not in severities and not re.fullmatch(r"LS-[A-Z]\d{3}", item.upper()):
            raise ConfigError(
                f"{where}: '{SECTION}.failOn' {item!r} is neither a severity nor a rule id"
            )
    return Policy(
        _size(where, "maxReclaimableBytes", section.get("maxReclaimableBytes")),
        fail_on,
        _strings(where, "denyPaths", section.get("denyPaths")),
        _size(where, "maxLayerSize", section.get("maxLayerSize")),
    )


def load_policy(path: Path) -> Policy:
    """The `findings:` section of `path`; an empty policy when the file does not exist."""
    if not path.is_file():
        return Policy()
    import yaml  # noqa: PLC0415

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    return parse_policy(doc, str(path))


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A path glob: `**` any number of directories, `*` and `?` within one name."""
    out = ""
    i = 0
    pat = pattern.lstrip("/")
    while i < len(pat):
        if pat.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pat.startswith("**", i):
            out += ".*"
            i += 2
        elif pat[i] == "*":
            out += "[^/]*"
            i += 1
        elif pat[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pat[i])
            i += 1
    return re.compile(out + "$")


def _result(name: str, raw: str, failed: bool, value: float, msg: str) -> RuleResult:
    return RuleResult(Rule(name, value, raw), Status.FAIL if failed else Status.PASS, value, msg)


def evaluate_policy(policy: Policy, analysis: Analysis, findings: FindingSet) -> list[RuleResult]:
    out = []
    if policy.max_reclaimable is not None:
        got = findings.recoverable_bytes
        out.append(
            _result(
                "maxReclaimableBytes",
                human_bytes(policy.max_reclaimable),
                got > policy.max_reclaimable,
                float(got),
                f"reclaimableBytes={got} ({human_bytes(got)}) "
                f"threshold={human_bytes(policy.max_reclaimable)}",
            )
        )
    if policy.fail_on:
        wanted = {x.upper() for x in policy.fail_on}
        floor = min(
            (
                Severity(x.lower())
                for x in policy.fail_on
                if x.lower() in {s.value for s in Severity}
            ),
            key=lambda s: s.rank,
            default=None,
        )
        hits = [
            f
            for f in findings
            if f.rule.id in wanted or (floor is not None and f.level.at_least(floor))
        ]
        ids = ", ".join(sorted({f.rule.id for f in hits}))
        out.append(
            _result(
                "failOn",
                ",".join(policy.fail_on),
                bool(hits),
                float(len(hits)),
                f"{len(hits)} finding(s) match [{', '.join(policy.fail_on)}]"
                + (f": {ids}" if ids else ""),
            )
        )
    if policy.deny_paths:
        rx = [glob_regex(p) for p in policy.deny_paths]
        denied = sorted("/" + p for p in analysis.tree.live if any(r.match(p) for r in rx))
        shown = ", ".join(denied[:3]) + (f" and {len(denied) - 3} more" if len(denied) > 3 else "")
        out.append(
            _result(
                "denyPaths",
                ",".join(policy.deny_paths),
                bool(denied),
                float(len(denied)),
                f"{len(denied)} denied path(s)" + (f": {shown}" if denied else ""),
            )
        )
    if policy.max_layer_size is not None:
        biggest = max(analysis.image.layers, key=lambda x: x.size, default=None)
        size = biggest.size if biggest else 0
        out.append(
            _result(
                "maxLayerSize",
                human_bytes(policy.max_layer_size),
                size > policy.max_layer_size,
                float(size),
                f"largest layer={biggest.index if biggest else '-'} {human_bytes(size)} "
                f"threshold={human_bytes(policy.max_layer_size)}",
            )
        )
    return out
