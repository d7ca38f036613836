"""The one record every finding producer uses: waste rules, security rules, package policies.

A `Finding` says which rule fired, how bad it is, which layers and instruction caused it, which
paths (with bytes), what a fix would recover and the fix itself. Bytes are attributed to at most
one finding (producers take care of that; `FindingSet.check_disjoint` verifies it), so totals add.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


class Severity(enum.StrEnum):
    """How much a finding matters; ordered by `rank` (info < low < medium < high < critical)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


class Category(enum.StrEnum):
    """Which family of rules a finding belongs to."""

    WASTE = "waste"
    SECURITY = "security"
    PACKAGES = "packages"
    POLICY = "policy"


class PathState(enum.StrEnum):
    """Where the bytes of a path in a finding are."""

    PRESENT = "present"
    """In the final filesystem: every container gets it."""
    HIDDEN = "hidden"
    """Deleted or overwritten by a later layer, but still stored (and pulled) in its layer."""


@dataclass(frozen=True, slots=True)
class PathRef:
    """One path a finding is about, at the layer that stored it."""

    path: str
    """Absolute path in the image (`/var/lib/apt/lists/...`)."""
    layer: int
    size: int
    """The bytes a fix recovers at this path and layer (all of them, for waste findings)."""
    state: PathState
    content_hash: int = 0
    """xxh3-64 of the content (0 when unknown): duplicates and rewrites are told apart by it."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule as the rules table documents it; its id never changes once released."""

    id: str
    """Stable id, e.g. `LS-W001`; the prefix says the category (W waste, S security, ...)."""
    category: Category
    severity: Severity
    """The default severity; a finding may raise or lower it with a reason."""
    title: str
    fix: str
    """The generic fix; a finding's own `fix` is the concrete one."""


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    title: str
    """This instance's headline, e.g. `apt package lists left in layer 3 (46 MB)`."""
    layers: tuple[int, ...]
    """The layers that caused it (stored the bytes, or recorded the secret), lowest first."""
    instruction: str
    """The history command of the first layer, as recorded (redacted where secrets are known)."""
    fix: str
    """The concrete change to make, e.g. `add && rm -rf /var/lib/apt/lists/* to this RUN`."""
    paths: tuple[PathRef, ...] = ()
    """The paths, largest first (producers may keep only the top ones; see `path_count`)."""
    path_count: int = 0
    recoverable_bytes: int = 0
    """Uncompressed bytes the fix removes from the image's layers."""
    shipped_bytes: int = 0
    """Of `recoverable_bytes`, those still present in the final filesystem."""
    pull_bytes: int = 0
    """Estimated compressed (pull) bytes the fix saves, from each layer's compression ratio."""
    severity: Severity | None = None
    """Overrides the rule's default severity when set."""
    detail: str = ""
    """More words: why it matters, what was seen (never a secret value)."""
    location: str = ""
    """`Dockerfile:LINE` when a Dockerfile was given, else empty."""
    evidence: tuple[tuple[str, str], ...] = field(default=())
    """Extra facts as (name, value) pairs, redacted (e.g. ("secret", "AKIA…(20) #3f2a")."""
    cited_layer: int | None = None
    """The layer whose instruction the finding cites (and `--fix` edits); default `layers[0]`."""

    @property
    def cited(self) -> int | None:
        if self.cited_layer is not None:
            return self.cited_layer
        return self.layers[0] if self.layers else None

    @property
    def level(self) -> Severity:
        return self.severity or self.rule.severity

    @property
    def hidden_bytes(self) -> int:
        """Recoverable bytes that no longer ship in the final filesystem but are still pulled."""
        return self.recoverable_bytes - self.shipped_bytes


@dataclass(frozen=True, slots=True)
class FindingSet:
    """The findings of one image, ranked: severity, then recoverable bytes, then rule id."""

    findings: tuple[Finding, ...]

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> FindingSet:
        ranked = sorted(
            findings, key=lambda f: (-f.level.rank, -f.recoverable_bytes, f.rule.id, f.title)
        )
        return cls(tuple(ranked))

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def merged(self, other: FindingSet) -> FindingSet:
        return FindingSet.of((*self.findings, *other.findings))

    def at_least(self, severity: Severity) -> FindingSet:
        return FindingSet(tuple(f for f in self.findings if f.level.at_least(severity)))

    def in_category(self, category: Category) -> FindingSet:
        return FindingSet(tuple(f for f in self.findings if f.rule.category is category))

    @property
    def recoverable_bytes(self) -> int:
        return sum(f.recoverable_bytes for f in self.findings)

    @property
    def shipped_bytes(self) -> int:
        return sum(f.shipped_bytes for f in self.findings)

    def check_disjoint(self) -> list[tuple[str, int]]:
        """(path, layer) pairs whose bytes two findings both count; empty when none do."""
        seen: set[tuple[str, int]] = set()
        twice: list[tuple[str, int]] = []
        for f in self.findings:
            if not f.recoverable_bytes:
                continue
            for p in f.paths:
                key = (p.path, p.layer)
                if key in seen:
                    twice.append(key)
                seen.add(key)
        return twice
