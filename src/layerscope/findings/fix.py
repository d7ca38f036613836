"""`--fix`: a unified diff of the mechanical Dockerfile changes that recover the findings' bytes.

Never changes what the image installs: clean-ups appended to the RUN that created the files
(`apt-get clean`, `rm -rf /var/lib/apt/lists/*`, `npm cache clean --force` ...), `--no-cache-dir`
for pip, `apk add --no-cache`, `--chown` on the COPY whose files a later `chown -R` stored
again, a later `rm` folded into the RUN that created the files, and a later package removal
folded into the RUN that installed the package (with the RUNs right after it that still use the
package's programs moved into it first). Findings below `low` are left alone.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from ..analysis import Analysis
from .advice import Advice
from .dockerfile import Dockerfile, DockerfileMap, Instruction, flags
from .model import Finding, PathState, Severity
from .waste import rules
from .waste.leftovers import PURGE

CLEANUPS = {
    rules.APT_CACHE.id: "apt-get clean",
    rules.APT_LISTS.id: "rm -rf /var/lib/apt/lists/*",
    rules.NPM_CACHE.id: "npm cache clean --force",
    rules.YARN_CACHE.id: "yarn cache clean",
    rules.PNPM_STORE.id: "pnpm store prune",
}
_CLEANUP_ORDER = list(CLEANUPS.values())


@dataclass(slots=True)
class _Edit:
    """What changes in one instruction."""

    segments: list[str]
    """The RUN's commands (split on `&&`), possibly rewritten or removed."""
    moved: list[str] = field(default_factory=list)
    cleanups: list[str] = field(default_factory=list)
    new_flags: dict[str, str] = field(default_factory=dict)
    deleted: bool = False


def _segments(ins: Instruction) -> list[str]:
    body = flags(ins.text)[1] if ins.keyword == "RUN" else ins.text
    return [s.strip() for s in body.split("&&") if s.strip()] if ins.keyword == "RUN" else [body]


class _Plan:
    def __init__(self, df: Dockerfile, mapping: DockerfileMap, analysis: Analysis) -> None:
        self.df, self.mapping, self.analysis = df, mapping, analysis
        self.edits: dict[int, _Edit] = {}
        self.ended_by = {
            (f.path, c.layer): c.ended_by for f in analysis.waste.files for c in f.wasted
        }

    def edit(self, ins: Instruction) -> _Edit:
        return self.edits.setdefault(ins.line, _Edit(_segments(ins)))

    def ins(self, layer: int | None) -> Instruction | None:
        if layer is None or layer < 0 or layer >= len(self.mapping.by_layer):
            return None
        return self.mapping.by_layer[layer]

    def cleanup(self, ins: Instruction, command: str) -> None:
        e = self.edit(ins)
        if command not in e.cleanups and not any(command in s for s in e.segments):
            e.cleanups.append(command)

    def drop_later_rm(self, f: Finding, creator: Instruction, keep: bool) -> None:
        """Remove the args of later `rm`s that delete this finding's hidden paths; with `keep`,
        append them to the creating RUN instead (a clean-up that already covers them does not
        need them)."""
        for p in f.paths:
            if p.state is not PathState.HIDDEN:
                continue
            later = self.ins(self.ended_by.get((p.path, p.layer)))
            if later is None or later.keyword != "RUN" or later is creator or "\n" in later.text:
                continue
            e = self.edit(later)
            for i, seg in enumerate(e.segments):
                args = _rm_args(seg)
                hit = [a for a in args if _covers(a, p.path)]
                if not hit:
                    continue
                left = [a for a in args if a not in hit]
                e.segments[i] = ("rm -rf " + " ".join(left)) if left else ""
                if keep:
                    for a in hit:
                        self.cleanup(creator, f"rm -rf {a}")


def _rm_args(segment: str) -> list[str]:
    try:
        words = shlex.split(segment)
    except ValueError:
        return []
    if not words or words[0] != "rm":
        return []
    return [w for w in words[1:] if not w.startswith("-")]


def _covers(arg: str, path: str) -> bool:
    arg = arg.rstrip("/")
    return fnmatchcase(path, arg) or path.startswith(arg + "/") or fnmatchcase(path, arg + "/*")


def _chown_owner(ins: Instruction) -> str:
    m = re.search(r"\bchown\s+(?:-\S+\s+)*([^\s-][^\s]*)\s", ins.text + " ")
    return m.group(1) if m else ""


def _apply_rewrite(plan: _Plan, f: Finding) -> None:
    chown = plan.ins(f.cited)
    if chown is None or chown.keyword != "RUN":
        return
    owner = _chown_owner(chown)
    if not owner:
        return
    creators = [plan.ins(layer) for layer in f.layers if layer != f.cited]
    runs = [c for c in creators if c is not None and c.keyword == "RUN"]
    for c in creators:
        if c is not None and c.keyword in ("COPY", "ADD"):
            plan.edit(c).new_flags["chown"] = owner
    e = plan.edit(chown)
    for i, seg in enumerate(e.segments):
        if re.match(r"chown\b", seg):
            e.segments[i] = ""
            if runs:
                plan.cleanup(max(runs, key=lambda r: r.line), seg)


def _apply_purge(plan: _Plan, f: Finding, creator: Instruction, later: Instruction) -> None:
    e_later = plan.edit(later)
    purges = [s for s in e_later.segments if PURGE.search(s)]
    if not purges:
        return
    programs = {p.path.rsplit("/", 1)[-1] for p in f.paths if "/bin/" in p.path}
    between = [i for i in plan.df.instructions if creator.line < i.line < later.line]
    users = [i for i in between if i.keyword == "RUN" and programs & _invoked(i.text)]
    if users:
        last = max(u.line for u in users)
        span = [i for i in between if i.line <= last]
        if any(i.keyword not in ("RUN", "ENV", "ARG", "LABEL") for i in span):
            return  # a COPY or WORKDIR in between: moving the RUNs up is not mechanical
        for i in span:
            if i.keyword == "RUN":
                e = plan.edit(i)
                plan.edit(creator).moved += [s for s in e.segments if s]
                e.deleted = True
    for s in purges:
        plan.edit(creator).moved.append(s)
        e_later.segments[e_later.segments.index(s)] = ""


def _invoked(script: str) -> set[str]:
    """The programs a shell script runs (first word of each command, `python -m X` as X)."""
    out: set[str] = set()
    for command in re.split(r"&&|\|\||;|\|", script):
        words = command.split()
        if not words:
            continue
        out.add(words[0].rsplit("/", 1)[-1])
        if len(words) > 2 and words[1] == "-m" and words[0].startswith("python"):
            out.add(words[2])
    return out


def _apply(plan: _Plan, f: Finding) -> None:
    rid = f.rule.id
    if rid == rules.REWRITTEN.id:
        _apply_rewrite(plan, f)
        return
    creator = plan.ins(f.cited)
    if creator is None or creator.keyword != "RUN" or "\n" in creator.text:
        return  # a here-document RUN is left to people
    if rid in CLEANUPS:
        plan.cleanup(creator, CLEANUPS[rid])
        plan.drop_later_rm(f, creator, keep=False)
    elif rid == rules.PIP_CACHE.id:
        e = plan.edit(creator)
        e.segments = [
            re.sub(
                r"\b(pip3?|pip3\.\d+)\s+install\b(?!.*--no-cache-dir)",
                r"\1 install --no-cache-dir",
                s,
            )
            for s in e.segments
        ]
        plan.drop_later_rm(f, creator, keep=False)
    elif rid == rules.APK_CACHE.id:
        e = plan.edit(creator)
        e.segments = [
            re.sub(r"\bapk add\b(?!.*--no-cache)", "apk add --no-cache", s) for s in e.segments
        ]
    elif rid == rules.DNF_CACHE.id:
        tool = "yum" if "yum " in creator.text else "dnf"
        plan.cleanup(creator, f"{tool} clean all")
    elif rid == rules.DELETED_LATER.id:
        later = plan.ins(int(dict(f.evidence).get("deletedIn", "-1")))
        if later is not None and later.keyword == "RUN" and PURGE.search(later.text):
            _apply_purge(plan, f, creator, later)
        else:
            plan.drop_later_rm(f, creator, keep=True)


def _render(ins: Instruction, e: _Edit) -> list[str]:
    if e.deleted:
        return []
    found, rest = flags(ins.text)
    if ins.keyword != "RUN":
        words = [f"--{k}={v}" if v else f"--{k}" for k, v in {**found, **e.new_flags}.items()]
        return [" ".join([ins.keyword, *words, rest])]
    commands = [s for s in e.segments if s] + e.moved
    if not commands:
        return []  # every command moved or dropped: clean-ups alone have nothing to clean
    commands += sorted(e.cleanups, key=lambda c: (_order(c), c))
    head = " ".join([ins.keyword, *[f"--{k}={v}" if v else f"--{k}" for k, v in found.items()]])
    lines = [f"{head} {commands[0]}"]
    lines += [f" && {c}" for c in commands[1:]]
    return [line + " \\" for line in lines[:-1]] + [lines[-1]]


def _order(command: str) -> int:
    return _CLEANUP_ORDER.index(command) if command in _CLEANUP_ORDER else len(_CLEANUP_ORDER)


def fixed_lines(
    df: Dockerfile, mapping: DockerfileMap, advice: Advice, analysis: Analysis
) -> list[str]:
    plan = _Plan(df, mapping, analysis)
    # Flag fixes (`--no-cache-dir`, `apk add --no-cache`) go first, at any severity (the history
    # alone shows them), so a RUN folded into another later carries its rewritten commands.
    flagged = {rules.PIP_CACHE.id, rules.APK_CACHE.id}
    ordered = sorted(advice.findings, key=lambda f: f.rule.id not in flagged)
    for f in ordered:
        if f.level.at_least(Severity.LOW) or f.rule.id in {rules.REWRITTEN.id, *flagged}:
            _apply(plan, f)
    by_line = {i.line: i for i in df.instructions}
    out: list[str] = []
    n = 0
    while n < len(df.lines):
        ins = by_line.get(n + 1)
        if ins is not None and ins.line in plan.edits:
            out += _render(ins, plan.edits[ins.line])
            n = ins.end_line
            continue
        out.append(df.lines[n])
        n += 1
    return out


def fix_diff(df: Dockerfile, mapping: DockerfileMap, advice: Advice, analysis: Analysis) -> str:
    """A unified diff (`patch -p0` applies it) of `df` with the mechanical fixes; empty if none."""
    new = fixed_lines(df, mapping, advice, analysis)
    old = [line + "\n" for line in df.lines]
    return "".join(difflib.unified_diff(old, [line + "\n" for line in new], df.path, df.path))
