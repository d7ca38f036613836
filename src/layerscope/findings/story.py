"""The story of each layer: one or two plain sentences grouping its changes by what they are.

"Why did adding a user change 8 files?" answers itself: the account databases were rewritten
with their `-` backups, the login logs touched, a home directory created. Groups come from
`GROUPS`, a table of well-known paths; add a line to teach it a new one. A path goes to the
first group that matches; what no group claims is summed by top directory.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from ..analysis import Analysis
from ..filetree import Change
from ..model import EntryKind
from ..units import human_bytes


@dataclass(frozen=True, slots=True)
class Group:
    pattern: re.Pattern[str]
    phrase: str
    """A format string: {n} paths, {size} bytes, {verb} added/updated/removed, {names} the
    matched names (group 1 of the pattern), {count} distinct group-1 values."""


def _g(regex: str, phrase: str) -> Group:
    return Group(re.compile(regex), phrase)


GROUPS: tuple[Group, ...] = (
    _g(
        r"etc/(passwd|shadow|group|gshadow|subuid|subgid)-?$",
        "account databases {verb} ({names}) with their - backups",
    ),
    _g(r"var/log/(lastlog|faillog|wtmp|btmp)$", "login logs {verb} ({names})"),
    _g(r"home/([^/]+)(?:/|$)", "home directory {names} {verb}"),
    _g(r"var/lib/apt/lists/", "apt lists {verb} ({size})"),
    _g(r"var/cache/apt/", "apt caches {verb} ({size})"),
    _g(r"var/lib/dpkg/info/([^/]+)\.list$", "{count} Debian packages {verb}"),
    _g(r"var/lib/dpkg/", "dpkg database updated"),
    _g(r"var/cache/debconf/", "debconf database updated"),
    _g(r"lib/apk/db/", "apk database updated"),
    _g(r"var/lib/rpm/", "rpm database updated"),
    _g(
        r"usr/(?:local/)?lib/python3[^/]*/(?:site|dist)-packages/([^/]+)\.dist-info/",
        "{count} Python packages {verb}",
    ),
    _g(r".*/__pycache__/.*\.pyc$", "bytecode {verb} ({n} .pyc files, {size})"),
    _g(r".*/node_modules/((?:@[^/]+/)?[^/]+)/package\.json$", "{count} npm packages {verb}"),
    _g(r"(?:root|home/[^/]+)/\.cache/pip/", "pip cache {verb} ({size})"),
    _g(r"(?:root|home/[^/]+)/\.npm/", "npm cache {verb} ({size})"),
    _g(r"var/cache/(apk|dnf|yum)/", "{names} cache {verb} ({size})"),
    _g(
        r"(?:etc/ssl/certs/|usr/share/ca-certificates/|etc/ca-certificates)",
        "certificates regenerated",
    ),
    _g(r"(?:etc/ld\.so\.cache|var/cache/ldconfig/)", "ldconfig cache rebuilt"),
    _g(r"etc/alternatives/", "alternatives updated"),
    _g(r"var/log/", "logs {verb} ({names})"),
    _g(r"usr/(?:share/)?(?:doc|man|info)/", "docs and man pages {verb} ({n} files, {size})"),
    _g(r"usr/share/locale/", "locales {verb} ({size})"),
    _g(r"(?:.*/)?\.git/", "a .git directory {verb} ({n} files)"),
)

_VERBS = {Change.ADDED: "created", Change.MODIFIED: "rewritten", Change.REMOVED: "removed"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _names(values: list[str]) -> str:
    uniq = sorted(set(values))
    shown = ", ".join(uniq[:4])
    return shown + (f" and {len(uniq) - 4} more" if len(uniq) > 4 else "")


def _other(analysis: Analysis, paths: list[tuple[str, int, Change]]) -> str:
    """What no group claimed, by top-two directories: `340 files under /usr/lib (12 MB)`."""
    by_dir: Counter[str] = Counter()
    count: Counter[str] = Counter()
    removed = 0
    for path, size, change in paths:
        if change is Change.REMOVED:
            removed += 1
            continue
        parent = path.rpartition("/")[0]
        top = "/" + "/".join(parent.split("/")[:2])
        by_dir[top] += size
        count[top] += 1
    parts = [
        f"{_plural(count[d], 'file')} under {d} ({human_bytes(b)})"
        for d, b in sorted(by_dir.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    ]
    if removed:
        parts.append(f"{_plural(removed, 'path')} removed")
    return ", ".join(parts)


def layer_story(analysis: Analysis, index: int) -> str:
    """One or two sentences on what layer `index` did, grouped by well-known paths."""
    hits: dict[int, list[tuple[str, int, Change, str]]] = defaultdict(list)
    rest: list[tuple[str, int, Change]] = []
    meta = 0
    for path in dict.fromkeys(analysis.tree.layer_paths[index]):
        version = next(v for v in analysis.tree.versions[path] if v.layer == index)
        entry = version.entry
        if version.change is Change.UNMODIFIED or (
            entry is not None and entry.kind is EntryKind.DIR and version.change is not Change.ADDED
        ):
            continue
        size = entry.size if entry is not None else _size_before(analysis, path, index)
        if _attributes_only(analysis, path, index):
            meta += 1
            continue
        for i, group in enumerate(GROUPS):
            m = group.pattern.match(path)
            if m:
                name = m.group(1) if m.groups() and m.group(1) else path.rsplit("/", 1)[-1]
                hits[i].append((path, size, version.change, name))
                break
        else:
            if entry is None or entry.kind is not EntryKind.DIR:
                rest.append((path, size, version.change))
    phrases = [_phrase(GROUPS[i], items) for i, items in sorted(hits.items())]
    first = "; ".join(phrases)
    other = _other(analysis, rest)
    if meta:
        changed = f"owner or mode changed on {_plural(meta, 'file')} (content unchanged)"
        other = f"{other}, {changed}" if other else changed
    if not first and not other:
        return "No file changes." if not analysis.image.layers[index].entries else "Only metadata."
    if not first:
        return other[0].upper() + other[1:] + "."
    text = first[0].upper() + first[1:] + "."
    return text + (f" Also {other}." if other else "")


def _size_before(analysis: Analysis, path: str, index: int) -> int:
    """The size of the version a removal hid."""
    before = analysis.tree.state_at(path, index - 1) if index else None
    return before.size if before is not None else 0


def _attributes_only(analysis: Analysis, path: str, index: int) -> bool:
    """A regular file stored again with the same content (a chown or chmod)."""
    now = analysis.tree.state_at(path, index)
    before = analysis.tree.state_at(path, index - 1) if index else None
    return (
        now is not None
        and before is not None
        and now.kind is EntryKind.FILE
        and before.kind is EntryKind.FILE
        and now.size == before.size
        and now.content_hash == before.content_hash
        and now.size > 0
    )


def _phrase(group: Group, items: list[tuple[str, int, Change, str]]) -> str:
    changes = Counter(c for _, _, c, _ in items)
    verb = _VERBS[changes.most_common(1)[0][0]]
    if verb == "created" and "{count}" in group.phrase:
        verb = "installed"
    if verb == "created" and group.phrase.startswith("bytecode"):
        verb = "compiled"
    return group.phrase.format(
        n=len(items),
        size=human_bytes(sum(s for _, s, _, _ in items)),
        verb=verb,
        names=_names([n for _, _, _, n in items]),
        count=len({n for _, _, _, n in items}),
    )


def stories(analysis: Analysis) -> list[str]:
    return [layer_story(analysis, i) for i in range(len(analysis.image.layers))]
