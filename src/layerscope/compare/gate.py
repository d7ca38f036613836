"""The comparison's CI gate: `--max-growth 10MB|5%` and `--fail-on-new SEVERITY`.

Evaluation is separate from rendering, as in `ci.py`. Growth is the uncompressed image size
(dive's sizeBytes) of B minus A; a rule fails when the growth is strictly above its limit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..findings.model import Severity
from ..units import human_bytes, parse_bytes
from .model import FindingChange, ImageDiff


@dataclass(frozen=True, slots=True)
class Growth:
    """A growth limit: bytes, or a fraction of A's size."""

    limit_bytes: int | None = None
    limit_ratio: float | None = None

    def allowed(self, base: int) -> float:
        if self.limit_bytes is not None:
            return self.limit_bytes
        assert self.limit_ratio is not None
        return base * self.limit_ratio

    def __str__(self) -> str:
        if self.limit_bytes is not None:
            return human_bytes(self.limit_bytes)
        assert self.limit_ratio is not None
        return f"{self.limit_ratio * 100:g}%"


def parse_growth(text: str) -> Growth:
    value = text.strip()
    try:
        if value.endswith("%"):
            ratio = float(value[:-1]) / 100
            if ratio < 0:
                raise ValueError("negative")
            return Growth(limit_ratio=ratio)
        return Growth(limit_bytes=parse_bytes(value))
    except ValueError:
        raise ConfigError(
            f"--max-growth: {text!r} is not a size (10MB) or a percentage (5%)"
        ) from None


def parse_severity(text: str) -> Severity:
    try:
        return Severity(text.strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in Severity)
        raise ConfigError(f"--fail-on-new: {text!r} is not a severity ({names})") from None


class Verdict(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class GateResult:
    rule: str
    verdict: Verdict
    detail: str


def evaluate(d: ImageDiff, growth: Growth | None, fail_on: Severity | None) -> list[GateResult]:
    out: list[GateResult] = []
    if growth is not None:
        allowed = growth.allowed(d.a.size)
        grew = d.growth
        verdict = Verdict.FAIL if grew > allowed else Verdict.PASS
        how = f"grew {human_bytes(grew)}" if grew >= 0 else f"shrank {human_bytes(-grew)}"
        limit = str(growth)
        if growth.limit_ratio is not None:
            limit += f" of A ({human_bytes(int(allowed))})"
        out.append(GateResult("max-growth", verdict, f"{how} ({grew:+,} bytes), limit {limit}"))
    if fail_on is not None:
        if d.findings is None:
            raise ConfigError("--fail-on-new: no findings were produced for these images")
        new = [
            x
            for x in d.findings
            if x.change is FindingChange.NEW and x.finding.level.at_least(fail_on)
        ]
        verdict = Verdict.FAIL if new else Verdict.PASS
        names = ", ".join(sorted({x.finding.rule.id for x in new}))
        out.append(
            GateResult(
                "fail-on-new",
                verdict,
                f"{len(new)} new finding(s) at {fail_on.value} or above"
                + (f": {names}" if names else ""),
            )
        )
    return out


def passed(results: list[GateResult]) -> bool:
    return all(r.verdict is Verdict.PASS for r in results)


def describe(results: list[GateResult]) -> list[dict[str, Any]]:
    return [{"rule": r.rule, "status": r.verdict.value, "detail": r.detail} for r in results]


def lines(results: list[GateResult]) -> list[str]:
    out = [f"{r.verdict.value}: {r.rule}: {r.detail}" for r in results]
    if results:
        out.append(f"Result:{'PASS' if passed(results) else 'FAIL'}")
    return out
