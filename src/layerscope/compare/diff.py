"""`compare(a, b)`: two opened images -> an `ImageDiff`.

Layers are matched by diff_id (the digest of the uncompressed tar, so a layer stored as gzip in
one image and as plain tar in the other is the same layer). Final filesystems are compared path
by path on kind, content (xxh3 and size), permission bits, owner and link target; mtimes are
ignored, as every rebuild changes them. Findings and packages join in when the caller has them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..analysis import Analysis
from ..filetree import FileTree
from ..findings.model import Finding, FindingSet
from ..model import Entry, EntryKind, Image, Layer, readable_command
from ..session import OpenedImage
from .model import (
    Aspect,
    DirDelta,
    FindingChange,
    FindingDiff,
    ImageDiff,
    LayerDiff,
    LayerRow,
    LayerSide,
    PackageChange,
    PackageDiff,
    PackageRecord,
    PathChange,
    PathDiff,
    Totals,
)


@dataclass(frozen=True, slots=True)
class Extras:
    """What capabilities above the core found in one image, where they exist."""

    findings: FindingSet | None = None
    packages: tuple[PackageRecord, ...] | None = None


def compare(
    a: OpenedImage | Analysis,
    b: OpenedImage | Analysis,
    extras_a: Extras | None = None,
    extras_b: Extras | None = None,
) -> ImageDiff:
    """What B changes relative to A (A is the baseline, e.g. the last release)."""
    an_a = a.analysis if isinstance(a, OpenedImage) else a
    an_b = b.analysis if isinstance(b, OpenedImage) else b
    ea, eb = extras_a or Extras(), extras_b or Extras()
    paths = diff_paths(an_a.tree, an_b.tree)
    findings = None
    if ea.findings is not None and eb.findings is not None:
        findings = diff_findings(ea.findings, eb.findings)
    packages = None
    if ea.packages is not None and eb.packages is not None:
        packages = diff_packages(ea.packages, eb.packages)
    return ImageDiff(
        a=totals(an_a),
        b=totals(an_b),
        layers=diff_layers(an_a.image, an_b.image),
        paths=paths,
        directories=summarise(paths, an_a.tree.live, an_b.tree.live),
        packages=packages,
        findings=findings,
    )


def totals(analysis: Analysis) -> Totals:
    image = analysis.image
    return Totals(
        name=image.name,
        source=image.source,
        size=analysis.dive.size_bytes,
        compressed_size=image.compressed_size,
        layers=len(image.layers),
        files=sum(1 for e in analysis.tree.live.values() if e.kind is not EntryKind.DIR),
        efficiency=analysis.dive.efficiency,
        wasted_bytes=analysis.dive.wasted_bytes,
        reclaimable_bytes=analysis.waste.reclaimable_bytes,
    )


# -- layers -------------------------------------------------------------------------------------
def _command(layer: Layer) -> str:
    """The command as people read it: BuildKit's `RUN |N A=B ...` build-argument values (tokens,
    often) are left out, so a pull-request comment does not repeat them."""
    return readable_command(layer.history.created_by)


def diff_layers(a: Image, b: Image) -> LayerDiff:
    prefix = 0
    while (
        prefix < min(len(a.layers), len(b.layers))
        and a.layers[prefix].diff_id == b.layers[prefix].diff_id
    ):
        prefix += 1
    ids_a = {layer.diff_id for layer in a.layers}
    ids_b = {layer.diff_id for layer in b.layers}
    rows = [
        LayerRow(LayerSide.SHARED, i, i, x.diff_id, x.size, x.compressed_size, _command(x))
        for i, x in enumerate(b.layers[:prefix])
    ]
    for x in a.layers[prefix:]:
        if x.diff_id not in ids_b:
            rows.append(
                LayerRow(
                    LayerSide.ONLY_A,
                    x.index,
                    None,
                    x.diff_id,
                    x.size,
                    x.compressed_size,
                    _command(x),
                )
            )
    first_a: dict[str, int] = {}
    for x in a.layers:
        first_a.setdefault(x.diff_id, x.index)
    pulled: dict[str, tuple[int, bool]] = {}
    for x in b.layers[prefix:]:
        side = LayerSide.REUSED if x.diff_id in ids_a else LayerSide.ONLY_B
        rows.append(
            LayerRow(
                side, first_a.get(x.diff_id), x.index, x.diff_id, x.size, x.compressed_size,
                _command(x),
            )
        )  # fmt: skip
        if side is LayerSide.ONLY_B:
            # A blob stored as plain tar has its diff_id as digest: its size is not compressed.
            pulled[x.diff_id] = (x.compressed_size, x.blob_digest != x.diff_id)
    return LayerDiff(
        rows=tuple(rows),
        shared_prefix=prefix,
        pull_bytes=sum(size for size, _ in pulled.values()),
        pull_compressed=all(compressed for _, compressed in pulled.values()),
        pull_layers=len(pulled),
    )


# -- paths --------------------------------------------------------------------------------------
def _size(entry: Entry | None) -> int:
    return entry.size if entry is not None and entry.kind is EntryKind.FILE else 0


def aspects(a: Entry, b: Entry) -> tuple[Aspect, ...]:
    """How two entries at one path differ; empty when they are the same file (mtime ignored)."""
    if a.kind is not b.kind:
        return (Aspect.TYPE,)
    out: list[Aspect] = []
    if a.kind is EntryKind.FILE and (a.content_hash != b.content_hash or a.size != b.size):
        out.append(Aspect.CONTENT)
    if a.mode & 0o7777 != b.mode & 0o7777:
        out.append(Aspect.MODE)
    if (a.uid, a.gid) != (b.uid, b.gid):
        out.append(Aspect.OWNER)
    if a.linkname != b.linkname:
        out.append(Aspect.LINK)
    return tuple(out)


def diff_paths(a: FileTree, b: FileTree) -> tuple[PathDiff, ...]:
    out: list[PathDiff] = []
    live_a, live_b = a.live, b.live
    for path, ea in live_a.items():
        eb = live_b.get(path)
        if eb is None:
            # A directory B has only implicitly (a parent of its files) is still there.
            if ea.kind is EntryKind.DIR and b.exists(path):
                continue
            out.append(
                PathDiff("/" + path, PathChange.REMOVED, (), _size(ea), 0, ea.kind.value, "")
            )
            continue
        how = aspects(ea, eb)
        if how:
            out.append(
                PathDiff(
                    "/" + path, PathChange.CHANGED, how, _size(ea), _size(eb), ea.kind.value,
                    eb.kind.value,
                )
            )  # fmt: skip
    for path, eb in live_b.items():
        if path in live_a or (eb.kind is EntryKind.DIR and a.exists(path)):
            continue
        out.append(PathDiff("/" + path, PathChange.ADDED, (), 0, _size(eb), "", eb.kind.value))
    out.sort(key=lambda p: (-abs(p.delta), p.path))
    return tuple(out)


def _dir_sizes(live: Mapping[str, Entry], wanted: set[str]) -> dict[str, int]:
    sizes = dict.fromkeys(wanted, 0)
    for path, entry in live.items():
        size = _size(entry)
        if not size:
            continue
        parent = path
        while parent:
            parent = parent.rpartition("/")[0]
            if parent in sizes:
                sizes[parent] += size
    return sizes


def summarise(
    paths: Iterable[PathDiff], live_a: Mapping[str, Entry], live_b: Mapping[str, Entry]
) -> tuple[DirDelta, ...]:
    """Every directory with a change below it: counts and byte delta, largest change first."""
    acc: dict[str, list[int]] = {}  # delta, added, removed, changed
    slot = {PathChange.ADDED: 1, PathChange.REMOVED: 2, PathChange.CHANGED: 3}
    for p in paths:
        parent = p.path[1:]
        while parent:
            parent = parent.rpartition("/")[0]
            row = acc.setdefault(parent, [0, 0, 0, 0])
            row[0] += p.delta
            row[slot[p.change]] += 1
    size_a, size_b = _dir_sizes(live_a, set(acc)), _dir_sizes(live_b, set(acc))
    dirs = [DirDelta("/" + d, v[0], v[1], v[2], v[3], size_a[d], size_b[d]) for d, v in acc.items()]
    dirs.sort(key=lambda d: (-abs(d.delta), -(d.added + d.removed + d.changed), d.path))
    return tuple(dirs)


# -- findings and packages ---------------------------------------------------------------------
def finding_key(f: Finding) -> tuple[str, tuple[str, ...]]:
    """The rule and the paths it is about: independent of layer numbers, which move."""
    paths = tuple(sorted({p.path for p in f.paths}))
    return (f.rule.id, paths) if paths else (f.rule.id, (f.title,))


def diff_findings(a: FindingSet, b: FindingSet) -> tuple[FindingDiff, ...]:
    keys_a = {finding_key(f): f for f in a}
    keys_b = {finding_key(f): f for f in b}
    new = [FindingDiff(FindingChange.NEW, f) for k, f in keys_b.items() if k not in keys_a]
    fixed = [FindingDiff(FindingChange.FIXED, f) for k, f in keys_a.items() if k not in keys_b]
    rank = {f: i for i, f in enumerate((*b.findings, *a.findings))}
    return tuple(sorted(new, key=lambda d: rank[d.finding])) + tuple(
        sorted(fixed, key=lambda d: rank[d.finding])
    )


def _versions(records: Iterable[PackageRecord]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], set[str]] = {}
    for r in records:
        found.setdefault((str(r.ecosystem), r.name), set()).add(r.version)
    return {k: ", ".join(sorted(v)) for k, v in found.items()}


def diff_packages(
    a: Iterable[PackageRecord], b: Iterable[PackageRecord]
) -> tuple[PackageDiff, ...]:
    va, vb = _versions(a), _versions(b)
    out: list[PackageDiff] = []
    for key in sorted(va.keys() | vb.keys()):
        old, new = va.get(key), vb.get(key)
        if old == new:
            continue
        if old is None:
            change = PackageChange.ADDED
        elif new is None:
            change = PackageChange.REMOVED
        else:
            change = PackageChange.UPGRADED
        out.append(PackageDiff(key[0], key[1], change, old or "", new or ""))
    order = {PackageChange.ADDED: 0, PackageChange.UPGRADED: 1, PackageChange.REMOVED: 2}
    out.sort(key=lambda p: (order[p.change], p.ecosystem, p.name))
    return tuple(out)
