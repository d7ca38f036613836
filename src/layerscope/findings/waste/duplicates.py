"""The same content stored at several paths (a copied virtualenv, a vendored library twice)."""

from __future__ import annotations

from ...model import Image
from ...units import human_bytes
from ..model import Finding, PathRef
from . import rules
from .leftovers import BOOKKEEPING
from .paths import Copy, instruction

MIN_SIZE = 4096
"""Smaller files are left out: duplicates that small are licences and stubs, not waste."""


def duplicate_findings(image: Image, copies: list[Copy]) -> list[Finding]:
    """Shipped files whose content another shipped path also holds; the first path (by layer,
    then name) is the one kept, the others are what a fix recovers. One finding per layer and
    top directories of the redundant copies. Package databases' own backups (`status-old`,
    `passwd-`) are left out: the tools keep them on purpose."""
    sets: dict[tuple[int, int], list[Copy]] = {}
    for c in copies:
        if c.shipped and c.size >= MIN_SIZE and c.content_hash and not BOOKKEEPING.match(c.path):
            sets.setdefault((c.content_hash, c.size), []).append(c)
    groups: dict[tuple[int, str], list[tuple[Copy, Copy]]] = {}
    for same in sets.values():
        if len(same) < 2:
            continue
        same.sort(key=lambda c: (c.layer, c.path))
        kept = same[0]
        for extra in same[1:]:
            top = "/" + "/".join(extra.path.split("/")[:2])
            groups.setdefault((extra.layer, top), []).append((kept, extra))
    out = []
    for (layer, top), pairs in sorted(groups.items()):
        refs: tuple[PathRef, ...] = tuple(extra.ref() for _, extra in pairs)
        total = sum(r.size for r in refs)
        kept, extra = max(pairs, key=lambda p: p[1].size)
        out.append(
            Finding(
                rule=rules.DUPLICATES,
                title=f"{len(refs)} files under {top} in layer {layer} duplicate content stored "
                f"elsewhere ({human_bytes(total)})",
                layers=(layer,),
                instruction=instruction(image, layer),
                fix=rules.DUPLICATES.fix,
                paths=refs,
                path_count=len(refs),
                recoverable_bytes=total,
                detail=f"e.g. /{extra.path} = /{kept.path} (layer {kept.layer})",
            )
        )
    return out
