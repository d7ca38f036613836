"""What every rendering of a comparison says first: the headline, signed sizes, key directories."""

from __future__ import annotations

from ..units import human_bytes
from .model import DirDelta, ImageDiff, LayerSide, PathChange


def signed_bytes(delta: int) -> str:
    """`+1.2 MB`, `-340 kB`, `0 B` (a real minus sign is avoided: terminals and CI logs)."""
    if delta == 0:
        return "0 B"
    return ("+" if delta > 0 else "-") + human_bytes(abs(delta))


def percent(delta: int, base: int) -> str:
    return "" if not base else f"{delta / base * 100:+.1f}%"


def key_directories(d: ImageDiff, limit: int) -> list[DirDelta]:
    """The directories worth naming, largest change first: not `/`, and not a directory whose
    changes all sit in one child directory (that child says the same, more precisely)."""
    by_path = {x.path: x for x in d.directories}
    redundant: set[str] = set()
    for x in d.directories:
        parent = x.path.rpartition("/")[0] or "/"
        up = by_path.get(parent)
        if up is not None and (up.delta, up.added, up.removed, up.changed) == (
            x.delta,
            x.added,
            x.removed,
            x.changed,
        ):
            redundant.add(parent)
    out = [x for x in d.directories if x.path != "/" and x.path not in redundant]
    return out[:limit]


def headline(d: ImageDiff) -> str:
    """One sentence: growth, layers reused, pull bytes, paths changed."""
    if d.identical:
        layers = f"{d.a.layers} layer" + ("" if d.a.layers == 1 else "s")
        return f"No difference: the same {layers} and the same files ({human_bytes(d.a.size)})."
    growth = d.growth
    verb = "grew" if growth > 0 else "shrank" if growth < 0 else "kept its size"
    size = f" by {human_bytes(abs(growth))} ({percent(growth, d.a.size)})" if growth else ""
    reused = sum(1 for r in d.layers.rows if r.side in (LayerSide.SHARED, LayerSide.REUSED))
    pull = human_bytes(d.layers.pull_bytes)
    if not d.layers.pull_compressed:
        pull += " uncompressed"
    return (
        f"The image {verb}{size}: {human_bytes(d.a.size)} -> {human_bytes(d.b.size)}. "
        f"{reused} of {d.b.layers} layers are already on a node that has A; it pulls {pull} "
        f"more. Files: {d.count(PathChange.ADDED)} added, {d.count(PathChange.REMOVED)} removed, "
        f"{d.count(PathChange.CHANGED)} changed."
    )
