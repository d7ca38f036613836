"""The waste advisor: every stored copy of every file that a fix would remove, in one finding.

Each stored copy (a path at the layer that stored it) goes to the first rule that claims it:
well-known caches and lists (shipped or not: dive calls a cache that ships efficient, it is not),
system databases rewritten by later layers, then the waste model's causes (rewritten unchanged,
deleted, overwritten, removed packages), then what only the final image shows (build-context
junk, toolchains, duplicate content, docs). So the hidden bytes of all waste findings add up to
the waste model's reclaimable bytes, and nothing is counted twice.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..analysis import Analysis, WasteCause
from ..model import EntryKind, readable_command
from ..session import OpenedImage
from ..units import human_bytes
from .engine import Options
from .model import Finding, PathRef, PathState, Rule, Severity
from .wasterules import (
    CACHES,
    CONTEXT_ENTRIES,
    CONTEXT_JUNK,
    DELETED,
    DOC_PATHS,
    DOCS,
    DUPLICATE,
    OVERWRITTEN,
    PACKAGE_REMOVAL,
    PIP_CACHE,
    PURGED,
    REWRITTEN,
    SYSTEM_PATHS,
    SYSTEM_STATE,
    TOOLCHAIN,
    TOOLCHAIN_PATHS,
)

SMALL = 64 * 1024
"""Below this, a generic waste finding is informational."""
DUPLICATE_MIN = 4096
"""Smaller files are not worth deduplicating."""


@dataclass(frozen=True, slots=True)
class Copy:
    """One stored copy of a regular file: where, how big, and why it does not ship (if so)."""

    path: str
    """Clean path (no leading `/`)."""
    layer: int
    size: int
    cause: WasteCause | None
    """None for the copy that ships."""
    ended_by: int = -1
    content_hash: int = 0

    @property
    def state(self) -> PathState:
        return PathState.PRESENT if self.cause is None else PathState.HIDDEN


def stored_copies(analysis: Analysis) -> tuple[list[Copy], list[Copy]]:
    """The hidden copies (the waste model's) and the shipped regular files with bytes."""
    hidden = [
        Copy(f.path.lstrip("/"), w.layer, w.size, w.cause, w.ended_by)
        for f in analysis.waste.files
        for w in f.wasted
    ]
    versions = analysis.tree.versions
    present = [
        Copy(p, versions[p][-1].layer, e.size, None, content_hash=e.content_hash)
        for p, e in analysis.tree.live.items()
        if e.kind is EntryKind.FILE and e.size
    ]
    return hidden, present


class _Advisor:
    def __init__(self, analysis: Analysis, options: Options) -> None:
        self.analysis = analysis
        self.options = options
        layers = analysis.image.layers
        self.ratio = [(x.compressed_size / x.size if x.size else 0.0) for x in layers]
        self.base = analysis.waste.base.layers
        self.groups: dict[tuple[Rule, int, int], list[Copy]] = defaultdict(list)
        """(rule, layer to change, other layer or -1) -> the copies claimed."""

    # -- helpers -----------------------------------------------------------------------------
    def command(self, layer: int) -> str:
        if not 0 <= layer < len(self.analysis.image.layers):
            return ""
        created_by = self.analysis.image.layers[layer].history.created_by
        return self.options.scrub(readable_command(created_by))

    def is_copy(self, layer: int) -> bool:
        return self.command(layer).split(" ", 1)[0] in ("COPY", "ADD")

    def removes_packages(self, layer: int) -> bool:
        return bool(PACKAGE_REMOVAL.search(self.command(layer)))

    # -- claiming ----------------------------------------------------------------------------
    def claim(self, hidden: list[Copy], present: list[Copy]) -> None:
        rest_hidden = [c for c in hidden if not self._cache(c)]
        rest_present = [c for c in present if not self._cache(c)]
        for c in rest_hidden:
            self._hidden(c)
        dup_candidates = []
        for c in rest_present:
            if c.layer >= self.base and self._final(c):
                continue
            dup_candidates.append(c)
        self._duplicates(dup_candidates)

    def _cache(self, c: Copy) -> bool:
        for pr in CACHES:
            if pr.pattern.match(c.path):
                self.groups[(pr.rule, c.layer, -1)].append(c)
                return True
        return False

    def _hidden(self, c: Copy) -> None:
        assert c.cause is not None
        if SYSTEM_PATHS.match(c.path):
            self.groups[(SYSTEM_STATE, c.ended_by, -1)].append(c)
        elif c.cause is WasteCause.REWRITTEN_UNCHANGED:
            self.groups[(REWRITTEN, c.ended_by, -1)].append(c)
        elif self.removes_packages(c.ended_by):
            self.groups[(PURGED, c.ended_by, -1)].append(c)
        elif c.cause in (WasteCause.OVERWRITTEN, WasteCause.REPLACED):
            self.groups[(OVERWRITTEN, c.layer, c.ended_by)].append(c)
        else:
            self.groups[(DELETED, c.layer, c.ended_by)].append(c)

    def _final(self, c: Copy) -> bool:
        """Rules on the final image's own layers; True when one claimed the copy."""
        if self.is_copy(c.layer) and any(rx.search(c.path) for rx, _ in CONTEXT_ENTRIES):
            self.groups[(CONTEXT_JUNK, c.layer, -1)].append(c)
        elif TOOLCHAIN_PATHS.match(c.path):
            self.groups[(TOOLCHAIN, c.layer, -1)].append(c)
        elif DOC_PATHS.match(c.path):
            self.groups[(DOCS, c.layer, -1)].append(c)
        else:
            return False
        return True

    def _duplicates(self, present: list[Copy]) -> None:
        by_content: dict[tuple[int, int], list[Copy]] = defaultdict(list)
        for c in present:
            if c.size >= DUPLICATE_MIN and c.content_hash:
                by_content[(c.content_hash, c.size)].append(c)
        for copies in by_content.values():
            if len(copies) < 2:
                continue
            copies.sort(key=lambda c: (c.layer, len(c.path), c.path))
            for extra in copies[1:]:
                if extra.layer >= self.base:
                    self.groups[(DUPLICATE, extra.layer, -1)].append(extra)

    # -- findings ----------------------------------------------------------------------------
    def findings(self) -> Iterator[Finding]:
        for (rule, layer, other), copies in self.groups.items():
            yield self._finding(rule, layer, other, copies)

    def _finding(self, rule: Rule, layer: int, other: int, copies: list[Copy]) -> Finding:
        copies.sort(key=lambda c: (-c.size, c.path, c.layer))
        total = sum(c.size for c in copies)
        shipped = sum(c.size for c in copies if c.cause is None)
        stored_in = sorted({c.layer for c in copies})
        ended = sorted({c.ended_by for c in copies if c.cause is not None})
        involved = tuple(sorted({*stored_in, *ended, layer}))
        pull = round(sum(c.size * self.ratio[c.layer] for c in copies))
        title = self._title(rule, layer, other, copies)
        return Finding(
            rule=rule,
            title=title,
            layers=involved,
            instruction=self.command(layer),
            fix=self._fix(rule, layer, ended),
            paths=tuple(PathRef("/" + c.path, c.layer, c.size, c.state) for c in copies),
            path_count=len(copies),
            recoverable_bytes=total,
            shipped_bytes=shipped,
            pull_bytes=pull,
            severity=self._severity(rule, total),
            detail=self._detail(total, shipped, ended),
            location=self.options.locate(layer),
            evidence=(("instruction layer", str(layer)),)
            + ((("removed by layers", ", ".join(map(str, ended))),) if ended else ()),
        )

    @staticmethod
    def _severity(rule: Rule, total: int) -> Severity | None:
        if rule.severity is Severity.INFO or rule is REWRITTEN:
            return None
        if total < SMALL:
            return Severity.INFO
        if rule.severity is Severity.MEDIUM and total < 1_000_000:
            return Severity.LOW
        if total >= 50_000_000:
            return Severity.HIGH
        return None

    def _title(self, rule: Rule, layer: int, other: int, copies: list[Copy]) -> str:
        total = sum(c.size for c in copies)
        stored_in = sorted({c.layer for c in copies})
        ended = sorted({c.ended_by for c in copies if c.cause is not None})
        size = human_bytes(total)
        n = len(copies)
        what = next((pr.what for pr in CACHES if pr.rule is rule), "")
        if what:
            where = "still in the final image" if not ended else f"removed in layer {ended[-1]}"
            if ended and any(c.cause is None for c in copies):
                where = f"partly removed in layer {ended[-1]}, the rest ships"
            return f"{what} left in layer {layer}: {n} files, {size} ({where})"
        if rule is REWRITTEN:
            return f"layer {layer} stored {n} files again with only owner or mode changed ({size})"
        if rule is PURGED:
            return (
                f"layer {layer} removed packages installed in layer(s) "
                f"{', '.join(map(str, stored_in))}: {n} files, {size} still stored"
            )
        if rule is SYSTEM_STATE:
            return f"layer {layer} rewrote {n} system database files ({size} of older copies)"
        if rule is DELETED:
            return f"{n} files created in layer {layer} and deleted in layer {other} ({size})"
        if rule is OVERWRITTEN:
            return f"{n} files created in layer {layer} and overwritten in layer {other} ({size})"
        if rule is CONTEXT_JUNK:
            entries = sorted({e for c in copies for rx, e in CONTEXT_ENTRIES if rx.search(c.path)})
            return f"layer {layer} copied {n} build-context files ({size}): {', '.join(entries)}"
        if rule is TOOLCHAIN:
            return f"build toolchain and headers from layer {layer}: {n} files, {size}"
        if rule is DUPLICATE:
            return f"{n} files in layer {layer} duplicate content stored elsewhere ({size})"
        if rule is DOCS:
            return f"docs, man pages and locales from layer {layer}: {n} files, {size}"
        return f"{rule.title}: {n} files in layer {layer}, {size}"

    def _fix(self, rule: Rule, layer: int, ended: list[int]) -> str:
        fix = rule.fix
        if rule is CONTEXT_JUNK:
            return fix + " (.dockerignore: " + ", ".join(self._ignores(layer)) + ")"
        if ended and rule in {pr.rule for pr in CACHES}:
            later = ", ".join(map(str, ended))
            fix += f"; the clean-up in layer {later} frees nothing, it only hides the files"
        return fix

    def _ignores(self, layer: int) -> list[str]:
        copies = self.groups[(CONTEXT_JUNK, layer, -1)]
        return sorted({e for c in copies for rx, e in CONTEXT_ENTRIES if rx.search(c.path)})

    @staticmethod
    def _detail(total: int, shipped: int, ended: list[int]) -> str:
        hidden = total - shipped
        parts = []
        if shipped:
            parts.append(f"{human_bytes(shipped)} still ship in the final image")
        if hidden:
            parts.append(
                f"{human_bytes(hidden)} are hidden by later layers but still stored and pulled"
            )
        return "; ".join(parts)


_PIP_INSTALL = re.compile(r"\bpip3?\s+install\b")


def pip_without_no_cache(advisor: _Advisor, found: list[Finding]) -> Iterator[Finding]:
    """`pip install` without `--no-cache-dir` where no cache was stored (yet): from history."""
    if any(e.startswith("PIP_NO_CACHE_DIR=") for e in advisor.analysis.image.env):
        return
    cached = {f.layers[0] for f in found if f.rule is PIP_CACHE}
    for layer in range(len(advisor.analysis.image.layers)):
        cmd = advisor.command(layer)
        if layer in cached or not _PIP_INSTALL.search(cmd) or "--no-cache-dir" in cmd:
            continue
        yield Finding(
            rule=PIP_CACHE,
            title=f"layer {layer} runs pip install without --no-cache-dir (no cache stored here)",
            layers=(layer,),
            instruction=cmd,
            fix=PIP_CACHE.fix,
            severity=Severity.INFO,
            detail="the history shows the command; this build stored no cache, another may",
            location=advisor.options.locate(layer),
        )


def waste_findings(analysis: Analysis, options: Options | None = None) -> list[Finding]:
    """The waste findings of an analysed image (no file contents needed)."""
    advisor = _Advisor(analysis, options or Options())
    hidden, present = stored_copies(analysis)
    advisor.claim(hidden, present)
    found = list(advisor.findings())
    return found + list(pip_without_no_cache(advisor, found))


def produce(opened: OpenedImage, options: Options) -> Iterable[Finding]:
    """The waste advisor as an `engine.Producer`."""
    return waste_findings(opened.analysis, options)
