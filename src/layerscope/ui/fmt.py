"""How the explorer writes modes, sizes and changes."""

from __future__ import annotations

from rich.style import Style

from ..filetree import Change
from ..model import Entry, EntryKind
from ..units import human_bytes

CHANGE_STYLE = {
    Change.ADDED: Style(color="green"),
    Change.REMOVED: Style(color="red"),
    Change.MODIFIED: Style(color="yellow"),
    Change.UNMODIFIED: Style(),
}
CHANGE_MARK = {Change.ADDED: "+", Change.REMOVED: "-", Change.MODIFIED: "~", Change.UNMODIFIED: " "}
_KIND = {
    EntryKind.DIR: "d",
    EntryKind.SYMLINK: "l",
    EntryKind.CHAR: "c",
    EntryKind.BLOCK: "b",
    EntryKind.FIFO: "p",
}


def mode_string(entry: Entry | None, is_dir: bool) -> str:
    """`drwxr-xr-x`, with s/S, s/S and t/T for setuid, setgid and sticky (as `ls -l`)."""
    if entry is None:
        return "d---------" if is_dir else "----------"
    mode = entry.mode
    out = [_KIND.get(entry.kind, "-")]
    for shift, special, letter in ((6, 0o4000, "s"), (3, 0o2000, "s"), (0, 0o1000, "t")):
        bits = (mode >> shift) & 7
        out.append("r" if bits & 4 else "-")
        out.append("w" if bits & 2 else "-")
        execute = bool(bits & 1)
        if mode & special:
            out.append(letter if execute else letter.upper())
        else:
            out.append("x" if execute else "-")
    return "".join(out)


def owner(entry: Entry | None) -> str:
    return "" if entry is None else f"{entry.uid}:{entry.gid}"


def size_text(size: int) -> str:
    return human_bytes(size)
