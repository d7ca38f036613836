"""Stored copies of files, path patterns, and findings made from groups of copies."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import translate

from ...filetree import FileTree
from ...model import EntryKind, Image, readable_command
from ...units import human_bytes
from ..engine import path_ref
from ..model import Finding, PathRef, PathState, Rule


@dataclass(frozen=True, slots=True)
class Copy:
    """One stored copy of a regular file with content."""

    path: str
    """Clean path, no leading /."""
    layer: int
    size: int
    shipped: bool
    """It is the version in the final filesystem."""
    content_hash: int

    def ref(self, size: int | None = None) -> PathRef:
        return path_ref(
            "/" + self.path,
            self.layer,
            self.size if size is None else size,
            self.shipped,
            self.content_hash,
        )


def stored_copies(tree: FileTree) -> list[Copy]:
    out: list[Copy] = []
    for path, versions in tree.versions.items():
        last = len(versions) - 1
        for i, v in enumerate(versions):
            e = v.entry
            if e is None or e.kind is not EntryKind.FILE or not e.size:
                continue
            out.append(Copy(path, v.layer, e.size, i == last, e.content_hash))
    return out


def matcher(patterns: Iterable[str]) -> re.Pattern[str]:
    """One regex for fnmatch patterns over clean paths (`*` crosses `/`)."""
    return re.compile("|".join(f"(?:{translate(p)})" for p in patterns))


def instruction(image: Image, layer: int) -> str:
    return (
        readable_command(image.layers[layer].history.created_by)
        if layer < len(image.layers)
        else ""
    )


def by_layer(copies: Iterable[Copy]) -> dict[int, list[Copy]]:
    out: dict[int, list[Copy]] = {}
    for c in copies:
        out.setdefault(c.layer, []).append(c)
    return out


def shipped_note(refs: Iterable[PathRef]) -> str:
    refs = list(refs)
    shipped = sum(r.size for r in refs if r.state is PathState.PRESENT)
    hidden = sum(r.size for r in refs) - shipped
    parts = []
    if shipped:
        parts.append(f"{human_bytes(shipped)} still ship in the final image")
    if hidden:
        parts.append(f"{human_bytes(hidden)} are deleted later but still stored and pulled")
    return "; ".join(parts)


def layer_findings(
    rule: Rule, image: Image, copies: Iterable[Copy], what: str, fix: str
) -> list[Finding]:
    """One finding per layer that stored some of `copies`: `what` names them in the title."""
    out = []
    for layer, group in sorted(by_layer(copies).items()):
        refs = tuple(c.ref() for c in group)
        total = sum(r.size for r in refs)
        out.append(
            Finding(
                rule=rule,
                title=f"{what} in layer {layer}",
                layers=(layer,),
                instruction=instruction(image, layer),
                fix=fix,
                paths=refs,
                path_count=len(refs),
                recoverable_bytes=total,
                detail=shipped_note(refs),
            )
        )
    return out
