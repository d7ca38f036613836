"""Package rules for CI, from the `packages:` section of `.layerscope.yaml`:

    packages:
      deny: [gcc*, "python3-pip", "build-essential"]   # fnmatch patterns on package names
      maxUnreachedBytes: 50MB                            # dive's units; disabled when absent

Each rule becomes a `ci.RuleResult`, so the CI report and its verdict include it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..ci import DISABLED, Rule, RuleResult, Status
from ..errors import ConfigError
from ..units import human_bytes, parse_bytes
from .analyse import PackageReport

SECTION = "packages"


@dataclass(frozen=True, slots=True)
class PackagePolicy:
    deny: tuple[str, ...] = ()
    max_unreached_bytes: int | None = None

    @property
    def empty(self) -> bool:
        return not self.deny and self.max_unreached_bytes is None

    @property
    def needs_reach(self) -> bool:
        return self.max_unreached_bytes is not None


def parse_policy(doc: Any, where: str) -> PackagePolicy:
    """The `packages:` section of a parsed `.layerscope.yaml` (other sections are not ours)."""
    if doc is None:
        return PackagePolicy()
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: expected a mapping at the top")
    section = doc.get(SECTION)
    if section is None:
        return PackagePolicy()
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: '{SECTION}' must be a mapping (deny, maxUnreachedBytes)")
    unknown = set(section) - {"deny", "maxUnreachedBytes", "max-unreached-bytes"}
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) in '{SECTION}': {', '.join(sorted(map(str, unknown)))}"
        )
    deny = section.get("deny") or []
    if isinstance(deny, str):
        deny = [deny]
    if not isinstance(deny, list) or not all(isinstance(d, str) and d for d in deny):
        raise ConfigError(f"{where}: '{SECTION}.deny' must be a list of package names or patterns")
    raw = section.get("maxUnreachedBytes", section.get("max-unreached-bytes"))
    limit = None
    if raw is not None and str(raw).strip().lower() not in DISABLED:
        try:
            limit = parse_bytes(str(raw))
        except (ValueError, ConfigError):
            raise ConfigError(
                f"{where}: '{SECTION}.maxUnreachedBytes' {raw!r} is not a size (e.g. 50MB)"
            ) from None
    return PackagePolicy(tuple(deny), limit)


def load_policy(path: Path) -> PackagePolicy:
    import yaml  # noqa: PLC0415

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse_policy(doc, str(path))


def evaluate(policy: PackagePolicy, report: PackageReport) -> list[RuleResult]:
    out: list[RuleResult] = []
    if policy.deny:
        present = [u.package for u in report.attribution.usages if u.present]
        hits = sorted(
            {
                p.label
                for p in present
                if any(fnmatch.fnmatchcase(p.name, pat) for pat in policy.deny)
            }
        )
        rule = Rule("packages.deny", float(len(policy.deny)), ", ".join(policy.deny))
        msg = (
            f"denied packages in the final image: {', '.join(hits)}"
            if hits
            else "no denied package in the final image"
        )
        out.append(RuleResult(rule, Status.FAIL if hits else Status.PASS, float(len(hits)), msg))
    if policy.max_unreached_bytes is not None:
        limit = policy.max_unreached_bytes
        rule = Rule("packages.maxUnreachedBytes", float(limit), str(limit))
        if report.reach is None:
            out.append(RuleResult(rule, Status.SKIP, 0.0, "no reachability estimate"))
        else:
            value = report.unreached_bytes
            status = Status.FAIL if value > limit else Status.PASS
            op = ">" if status is Status.FAIL else "<="
            msg = (
                f"not reached from the entrypoint: {human_bytes(value)} {op} "
                f"{human_bytes(limit)} (a static estimate)"
            )
            out.append(RuleResult(rule, status, float(value), msg))
    return out
