"""How the explorer writes modes, sizes and changes."""

from __future__ import annotations

from rich.style import Style

from ..filetree import Change
from ..model import Entry, EntryKind, readable_command
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


def shorten_middle(path: str, width: int) -> str:
    """`path` in at most `width` cells, cut in the middle: the top directory and the file name
    stay (`/root/…/http/wheel0.bin`), so rows that differ at the end stay apart."""
    if len(path) <= width:
        return path
    if width <= 1:
        return "…"[:width]
    head, _, _ = path.lstrip("/").partition("/")
    head = ("/" if path.startswith("/") else "") + head + "/"
    tail_room = width - len(head) - 1
    if tail_room < len(path.rpartition("/")[2]) + 1:
        head = ""  # no room for both: the file name comes first
        tail_room = width - 1
    tail = path[len(path) - tail_room :]
    if head and "/" in tail:
        tail = tail[tail.index("/") :]  # whole directory names only
    return head + "…" + tail


def command_text(created_by: str, whole: bool = True) -> str:
    """A layer's command as the explorer shows it: whole (build arguments included), or as
    the lists show it (`readable_command`: BuildKit's and the shell's prefixes removed).

    Every command the explorer shows goes through here, so a redaction of secrets has one place
    to hook in."""
    return created_by if whole else readable_command(created_by)
