"""`--fix`: the mechanical Dockerfile changes the findings call for, as a unified diff.

Only changes that keep what the image installs: clean-ups appended to the RUN that made the
mess (`rm -rf /var/lib/apt/lists/*`, `apt-get clean`, `npm cache clean --force` ...),
`pip install --no-cache-dir`, `apk add --no-cache`, `COPY --chown` instead of a later
`chown -R`, a later `rm` folded into the RUN that created the files (a COPY whose every file is
deleted later is dropped), and a later package removal folded into the block of consecutive
RUNs that installed the packages. The diff is for review: it cannot know whether a step between
needed what is removed earlier.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis import Analysis, WasteCause
from .advise import Advice
from .dockerfile import Instruction, parse
from .policy import glob_regex
from .wasterules import (
    APK_CACHE,
    APT_CACHE,
    APT_LISTS,
    DNF_CACHE,
    NPM_CACHE,
    PACKAGE_REMOVAL,
    PIP_CACHE,
    PURGED,
    REWRITTEN,
)

_PIP = re.compile(r"\b((?:python3?\s+-m\s+)?pip3?\s+install)\b(?![^&|;]*--no-cache-dir)")
_APK = re.compile(r"\bapk\s+add\b(?![^&|;]*--no-cache)")
_OWNER = re.compile(r"^\s*(chown|chmod)\s+(?:-\S+\s+)*(\S+)\s+(.+)$")


@dataclass
class _Edit:
    ins: Instruction
    segments: list[str]
    flags: list[str] = field(default_factory=list)
    purge: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    deleted: bool = False
    changed: bool = False


def _segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("&&") if s.strip()]


class _Fixer:
    def __init__(self, analysis: Analysis, advice: Advice, stages: list[list[Instruction]]) -> None:
        self.analysis = analysis
        self.advice = advice
        self.final = stages[-1]
        self.edits = {i.line: _Edit(i, _segments(i.text)) for i in self.final}
        self.moved: dict[int, int] = {}

    def edit(self, layer: int) -> _Edit | None:
        if not 0 <= layer < len(self.advice.instructions):
            return None
        ins = self.advice.instructions[layer]
        if ins is None:
            return None
        line = ins.line
        while line in self.moved and self.moved[line] != line:
            line = self.moved[line]
        return self.edits.get(line)

    def append(self, layer: int, segment: str) -> None:
        e = self.edit(layer)
        if e is None or e.ins.keyword != "RUN":
            return
        if segment not in e.tail and segment not in e.segments:
            e.tail.append(segment)
            e.changed = True

    # -- the fixes -----------------------------------------------------------------------------
    def run(self) -> None:
        by_rule = defaultdict(list)
        for f in self.advice.findings:
            by_rule[f.rule.id].append(f)
        for f in by_rule[PURGED.id]:
            self.fold_removal(f.layers[-1], min(f.layers))
        self.fold_rm()
        for f in by_rule[REWRITTEN.id]:
            self.chown_to_copy(f.layers[-1], [p.layer for p in f.paths])
        for rule, segment in (
            (APT_LISTS, "rm -rf /var/lib/apt/lists/*"),
            (APT_CACHE, "apt-get clean"),
            (NPM_CACHE, "npm cache clean --force"),
        ):
            for f in by_rule[rule.id]:
                self.append(self._stored_in(f.paths), segment)
        for f in by_rule[DNF_CACHE.id]:
            layer = self._stored_in(f.paths)
            e = self.edit(layer)
            tool = "yum" if e is not None and "yum" in e.ins.text else "dnf"
            self.append(layer, f"{tool} clean all")
        for rule, pattern, repl in (
            (PIP_CACHE, _PIP, r"\1 --no-cache-dir"),
            (APK_CACHE, _APK, "apk add --no-cache"),
        ):
            for f in by_rule[rule.id]:
                e = self.edit(self._stored_in(f.paths) if f.paths else f.layers[0])
                if e is not None and e.ins.keyword == "RUN":
                    new = [pattern.sub(repl, s) for s in e.segments]
                    e.changed |= new != e.segments
                    e.segments = new

    @staticmethod
    def _stored_in(paths: tuple) -> int:  # type: ignore[type-arg]
        return min(p.layer for p in paths) if paths else -1

    def fold_removal(self, removing: int, installed: int) -> None:
        """Move `apt-get purge ...` from a later RUN into the RUN block that installed."""
        late, early = self.edit(removing), self.edit(installed)
        if late is None or early is None or late is early or early.ins.keyword != "RUN":
            return
        moving = [s for s in late.segments if PACKAGE_REMOVAL.search(s)]
        if not moving:
            return
        start = self.final.index(early.ins)
        for ins in self.final[start + 1 :]:
            if ins.keyword != "RUN" or self.edits[ins.line] is late:
                break
            other = self.edits[ins.line]
            early.segments += other.segments
            early.tail += [t for t in other.tail if t not in early.tail]
            other.deleted = True
            self.moved[ins.line] = early.ins.line
        early.purge += moving
        early.changed = True
        late.segments = [s for s in late.segments if s not in moving]
        late.changed = True
        self._drop_if_empty(late)

    def _drop_if_empty(self, e: _Edit) -> None:
        if not e.segments and not e.tail and not e.purge:
            e.deleted = True

    def fold_rm(self) -> None:
        """Each `rm` of a later RUN moves into the instruction(s) that created its files."""
        first = self._first_layers()
        for layer, e_ins in enumerate(self.advice.instructions):
            e = self.edit(layer)
            if e is None or e.ins.keyword != "RUN" or e_ins is None or e.deleted:
                continue
            for seg in list(e.segments):
                words = shlex.split(seg) if "'" not in seg else seg.split()
                if not words or words[0] != "rm":
                    continue
                flags = [w for w in words[1:] if w.startswith("-")]
                args = [w for w in words[1:] if not w.startswith("-")]
                creators = {a: self._creators(a, layer, first) for a in args}
                if not any(creators.values()):
                    continue
                for arg, layers in creators.items():
                    for c in layers:
                        self._remove_at(c, " ".join(["rm", *flags, arg]))
                kept = [a for a in args if not creators[a]]
                at = e.segments.index(seg)
                e.segments[at : at + 1] = [" ".join(["rm", *flags, *kept])] if kept else []
                e.changed = True
            self._drop_if_empty(e)

    def _first_layers(self) -> dict[tuple[str, int], int]:
        """(path, layer it was deleted in) -> the layer that first created that version chain."""
        out: dict[tuple[str, int], int] = {}
        for f in self.analysis.waste.files:
            start = None
            for w in f.wasted:
                start = w.layer if start is None else start
                if w.cause in (WasteCause.DELETED, WasteCause.DIRECTORY_DELETED):
                    out[(f.path, w.ended_by)] = start
                    start = None
                elif w.cause is not WasteCause.REWRITTEN_UNCHANGED:
                    start = None
        return out

    def _creators(self, arg: str, layer: int, first: dict[tuple[str, int], int]) -> set[int]:
        rx = glob_regex(arg.rstrip("/") + "/**") if "*" not in arg else glob_regex(arg)
        exact = arg.rstrip("/")
        return {
            c
            for (path, ended), c in first.items()
            if ended == layer and (path == exact or rx.match(path.lstrip("/")))
        }

    def _remove_at(self, layer: int, segment: str) -> None:
        e = self.edit(layer)
        if e is None:
            return
        if e.ins.keyword == "RUN":
            self.append(layer, segment)
        elif e.ins.keyword in ("COPY", "ADD") and self._all_deleted(layer):
            e.deleted = True

    def _all_deleted(self, layer: int) -> bool:
        return all(
            p not in self.analysis.tree.live or self.analysis.tree.versions[p][-1].layer != layer
            for p in self.analysis.tree.layer_paths[layer]
        )

    def chown_to_copy(self, rewriting: int, stored: list[int]) -> None:
        late = self.edit(rewriting)
        if late is None or late.ins.keyword != "RUN" or late.deleted:
            return
        cmds = [_OWNER.match(s) for s in late.segments]
        if not cmds or not all(cmds):
            return
        for m in cmds:
            assert m is not None
            verb, owner = m.group(1), m.group(2)
            for layer in sorted(set(stored)):
                e = self.edit(layer)
                if e is None or e.deleted:
                    continue
                if e.ins.keyword in ("COPY", "ADD"):
                    flag = f"--{verb}={owner}"
                    if flag not in e.flags and f"--{verb}" not in e.ins.text:
                        e.flags.append(flag)
                        e.changed = True
                elif e.ins.keyword == "RUN":
                    self.append(layer, m.group(0).strip())
        late.segments = []
        late.deleted = True
        late.changed = True

    # -- output -------------------------------------------------------------------------------
    def render(self, lines: list[str]) -> list[str]:
        out = list(lines)
        for e in sorted(self.edits.values(), key=lambda e: -e.ins.line):
            if not (e.changed or e.deleted):
                continue
            start, end = e.ins.line - 1, e.ins.end_line
            if e.deleted:
                out[start:end] = []
                continue
            if e.ins.keyword == "RUN":
                parts = e.segments + e.purge + e.tail
                text = "RUN " + " \\\n && ".join(parts)
            else:
                text = " ".join([e.ins.keyword, *e.flags, e.ins.text])
            out[start:end] = text.split("\n")
        return out


def fix_diff(analysis: Analysis, advice: Advice) -> str:
    """The unified diff of the mechanical fixes to `advice.dockerfile` (empty when none)."""
    path = advice.dockerfile
    assert path is not None
    text = Path(path).read_text(encoding="utf-8")
    fixer = _Fixer(analysis, advice, parse(text))
    fixer.run()
    before = text.splitlines()
    after = fixer.render(before)
    diff = difflib.unified_diff(
        before, after, fromfile=f"a/{path.name}", tofile=f"b/{path.name}", lineterm=""
    )
    out = "\n".join(diff)
    return out + "\n" if out else ""
