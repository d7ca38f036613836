"""Copies hidden by a later layer: deleted (packages purged later too), overwritten, or stored
again with only owner or mode changed."""

from __future__ import annotations

import re

from ...analysis import WasteCause, WasteModel
from ...model import Image
from ..engine import path_ref
from ..model import Finding, PathRef, Severity
from . import rules
from .paths import instruction, matcher

BOOKKEEPING = matcher(
    (
        "var/lib/dpkg/*",
        "var/cache/debconf/*",
        "etc/ld.so.cache",
        "etc/passwd*",
        "etc/shadow*",
        "etc/group*",
        "etc/gshadow*",
        "etc/subuid*",
        "etc/subgid*",
        "var/log/*",
        "var/lib/rpm/*",
        "var/lib/dnf/*",
        "lib/apk/db/*",
        "etc/ssl/certs/*",
        "etc/alternatives/*",
        "var/lib/systemd/*",
        "etc/mtab",
        "var/cache/ldconfig/*",
    )
)

PURGE = re.compile(
    r"\b(apt-get|apt)\s+(-\S+\s+)*(purge|remove|autoremove)\b|\bdpkg\s+(-P|-r|--purge|--remove)"
    r"|\bapk\s+del\b|\b(dnf|yum|microdnf)\s+(-\S+\s+)*(remove|erase|autoremove)\b"
    r"|\bpip3?\s+uninstall\b|\bnpm\s+(uninstall|prune)\b"
)
_DELETED = {
    WasteCause.DELETED,
    WasteCause.DIRECTORY_DELETED,
    WasteCause.OPAQUE,
    WasteCause.REPLACED,
}


def _groups(waste: WasteModel, causes: set[WasteCause]) -> dict[tuple[int, int], list[PathRef]]:
    groups: dict[tuple[int, int], list[PathRef]] = {}
    for f in waste.files:
        for copy in f.wasted:
            if copy.cause in causes:
                groups.setdefault((copy.layer, copy.ended_by), []).append(
                    path_ref(f.path, copy.layer, copy.size, shipped=False)
                )
    return groups


def deleted_findings(image: Image, waste: WasteModel) -> list[Finding]:
    out = []
    for (layer, ended), refs in sorted(_groups(waste, _DELETED).items()):
        total = sum(r.size for r in refs)
        later = instruction(image, ended)
        if PURGE.search(later):
            title = (
                f"packages removed in layer {ended} free nothing: their files are still "
                f"stored in layer {layer}"
            )
            fix = (
                f"remove them in the RUN that installed them (layer {layer}), after the "
                "step that needs them, or build in a stage"
            )
        else:
            title = f"files created in layer {layer} and deleted in layer {ended}"
            fix = (
                f"delete them in the RUN that created them (layer {layer}) and drop the "
                f"later delete, or build in a stage and COPY the result"
            )
        out.append(
            Finding(
                rule=rules.DELETED_LATER,
                title=title,
                layers=(layer, ended),
                instruction=instruction(image, layer),
                fix=fix,
                paths=tuple(refs),
                path_count=len(refs),
                recoverable_bytes=total,
                detail=f"deleted by: {later}",
                evidence=(("deletedIn", str(ended)),),
            )
        )
    return out


def overwritten_findings(image: Image, waste: WasteModel) -> list[Finding]:
    out = []
    for (layer, ended), refs in sorted(_groups(waste, {WasteCause.OVERWRITTEN}).items()):
        total = sum(r.size for r in refs)
        # Every layer that installs packages or adds a user rewrites these databases: expected,
        # and informational (merging such RUNs stores them once).
        bookkeeping = all(BOOKKEEPING.match(r.path[1:]) for r in refs)
        out.append(
            Finding(
                rule=rules.OVERWRITTEN,
                title=f"files written in layer {layer} and overwritten in layer {ended}"
                + (" (package and account databases)" if bookkeeping else ""),
                severity=Severity.INFO if bookkeeping else None,
                layers=(layer, ended),
                instruction=instruction(image, layer),
                fix=rules.OVERWRITTEN.fix,
                paths=tuple(refs),
                path_count=len(refs),
                recoverable_bytes=total,
                detail=f"overwritten by: {instruction(image, ended)}",
                evidence=(("overwrittenIn", str(ended)),),
            )
        )
    return out


def rewritten_findings(image: Image, waste: WasteModel) -> list[Finding]:
    """Grouped by the rewriting layer (a `chown -R`): that instruction is the one to change."""
    by_ender: dict[int, list[PathRef]] = {}
    for (_, ended), refs in _groups(waste, {WasteCause.REWRITTEN_UNCHANGED}).items():
        by_ender.setdefault(ended, []).extend(refs)
    out = []
    for ended, refs in sorted(by_ender.items()):
        total = sum(r.size for r in refs)
        creators = sorted({r.layer for r in refs})
        out.append(
            Finding(
                rule=rules.REWRITTEN,
                title=f"layer {ended} stored files again with the same content: only owner or mode "
                "changed",
                layers=(*creators, ended),
                cited_layer=ended,
                instruction=instruction(image, ended),
                fix="set owner and mode where the files are created: `COPY --chown=USER:GROUP`, or "
                f"the chown in the creating RUN (layers {', '.join(map(str, creators))})",
                paths=tuple(refs),
                path_count=len(refs),
                recoverable_bytes=total,
                evidence=(("createdIn", ",".join(map(str, creators))),),
            )
        )
    return out
