"""The package report for people (summary lines) and for machines (`layerscope.packages`)."""

from __future__ import annotations

from typing import Any

from ..units import human_bytes
from .analyse import PackageReport
from .attribution import ChangeKind, PackageChange, PackageUsage
from .reach import LABEL

_SIGN = {ChangeKind.ADDED: "+", ChangeKind.REMOVED: "-", ChangeKind.UPGRADED: "~"}


def _change(c: PackageChange) -> str:
    p = c.package
    what = (
        f"{p.label} {c.previous_version} -> {p.version}"
        if c.kind is ChangeKind.UPGRADED
        else f"{p.label} {p.version}"
    )
    note = " (still stored)" if c.kind is ChangeKind.REMOVED else ""
    return f"{_SIGN[c.kind]} {what} [{p.ecosystem}] {human_bytes(c.bytes)}{note}"


def summary_lines(report: PackageReport, limit: int = 15) -> list[str]:
    a = report.attribution
    present = [u for u in a.usages if u.present]
    lines = ["", "Packages:"]
    for notice in a.notices:
        lines.append(f"  note: {notice}")
    if not a.usages:
        lines.append("  no package database found (dpkg, rpm sqlite, apk, Python, npm)")
    lines.append(
        f"  {len(present)} in the final image: {human_bytes(a.owned_bytes)} owned, "
        f"{human_bytes(a.unowned_bytes)} unowned, of {human_bytes(a.total_bytes)} file bytes"
        + (
            f" ({human_bytes(a.shared_bytes)} listed by two packages, counted once)"
            if a.shared_bytes
            else ""
        )
    )
    if present:
        lines.append("  Largest:      Bytes   Stored  Layer  Package")
    for u in present[:limit]:
        lines.append(
            f"  {'':8}{human_bytes(u.final_bytes):>9} {human_bytes(u.stored_bytes):>8} "
            f"{u.installed_in:>6}  "
            f"{u.package.label} {u.package.version} [{u.package.ecosystem}]{_reached(report, u)}"
        )
    if len(present) > limit:
        lines.append(f"  ... {len(present) - limit} more (all of them with --json)")
    changed = sorted({c.layer for c in a.changes})
    if changed:
        lines.append("  Changes by layer:")
    for layer in changed:
        items = a.changes_in(layer)
        lines.append(
            f"    layer {layer}: {sum(1 for c in items if c.kind is ChangeKind.ADDED)} added, "
            f"{sum(1 for c in items if c.kind is ChangeKind.UPGRADED)} upgraded, "
            f"{sum(1 for c in items if c.kind is ChangeKind.REMOVED)} removed"
        )
        big = sorted(items, key=lambda c: -c.bytes)
        lines += [f"      {_change(c)}" for c in big[:8]]
        if len(big) > 8:
            lines.append(f"      ... {len(big) - 8} more")
    if a.unowned:
        lines.append("  Unowned (no package lists them), by directory:")
        lines += [
            f"  {human_bytes(d.bytes):>9}  /{d.directory} ({d.files} files)" for d in a.unowned[:8]
        ]
    lines += _reach_lines(report)
    return lines


def _reached(report: PackageReport, u: PackageUsage) -> str:
    r = report.reached(u)
    return "" if r is None or r else "  (not reached)"


def _reach_lines(report: PackageReport) -> list[str]:
    r = report.reach
    if r is None:
        return []
    lines = [
        f"  Entrypoint: {' '.join(r.argv) or '(none)'}"
        + (f"  -> /{r.program}" if r.program else "")
    ]
    lines.append(
        f"  not reached from the entrypoint: {len(report.unreached)} packages, "
        f"{human_bytes(report.unreached_bytes)} ({LABEL})"
    )
    for item in r.unresolved[:5]:
        lines.append(f"    not followed: {item}")
    lines += [f"    note: {n}" for n in r.notes[:3]]
    return lines


def _usage_doc(report: PackageReport, u: PackageUsage) -> dict[str, Any]:
    p = u.package
    return {
        "name": p.name,
        "version": p.version,
        "arch": p.arch,
        "type": p.ecosystem.value,
        "database": "/" + p.database,
        "installer": p.installer or None,
        "installedIn": u.installed_in,
        "removedIn": u.removed_in,
        "touchedIn": list(u.touched_in),
        "finalBytes": u.final_bytes,
        "storedBytes": u.stored_bytes,
        "reached": report.reached(u),
        "requires": list(p.requires),
        "files": ["/" + f for f in u.files],
    }


def to_json(report: PackageReport) -> dict[str, Any]:
    """`layerscope.packages`: every package, every layer's changes, unowned bytes, reachability."""
    a, r = report.attribution, report.reach
    doc: dict[str, Any] = {
        "totalFileBytes": a.total_bytes,
        "ownedBytes": a.owned_bytes,
        "unownedBytes": a.unowned_bytes,
        "sharedBytes": a.shared_bytes,
        "notices": list(a.notices),
        "packages": [_usage_doc(report, u) for u in a.usages],
        "layers": [
            {
                "layer": c.layer,
                "change": c.kind.value,
                "type": c.package.ecosystem.value,
                "name": c.package.name,
                "arch": c.package.arch,
                "version": c.package.version,
                "fromVersion": c.previous_version or None,
                "bytes": c.bytes,
            }
            for c in a.changes
        ],
        "unowned": [
            {"directory": "/" + d.directory, "bytes": d.bytes, "files": d.files} for d in a.unowned
        ],
    }
    if r is not None:
        doc["reach"] = {
            "estimate": LABEL,
            "argv": list(r.argv),
            "program": "/" + r.program if r.program else None,
            "files": ["/" + f for f in r.files],
            "unresolved": list(r.unresolved),
            "notes": list(r.notes),
            "unreachedPackages": len(report.unreached),
            "unreachedBytes": report.unreached_bytes,
        }
    return doc
