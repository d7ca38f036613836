"""rpm (Fedora, RHEL, SUSE ...): the sqlite rpmdb and the header blobs in it.

rpm 4.16+ keeps `rpmdb.sqlite` in `var/lib/rpm/` or `usr/lib/sysimage/rpm/`; its `Packages`
table holds one header blob per package: `il` index entries and `dl` data bytes (big-endian
counts), each entry `tag, type, offset, count` (rpm's lib/header.c, "Header structure"). The
older Berkeley DB (`Packages`) and ndb (`Packages.db`) backends are not read: `legacy_backend`
names them so the caller can say so in one line.
"""

from __future__ import annotations

import sqlite3
import struct
from dataclasses import dataclass

from .model import Ecosystem, Package, PackageError

DIRS = ("var/lib/rpm/", "usr/lib/sysimage/rpm/")
SQLITE = "rpmdb.sqlite"
LEGACY = {"Packages": "Berkeley DB", "Packages.db": "ndb"}

TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_EPOCH, TAG_ARCH = 1000, 1001, 1002, 1003, 1022
TAG_VENDOR, TAG_FILESIZES, TAG_FILEMODES, TAG_REQUIRENAME = 1011, 1028, 1030, 1049
TAG_DIRINDEXES, TAG_BASENAMES, TAG_DIRNAMES, TAG_LONGFILESIZES = 1116, 1117, 1118, 5008
T_INT16, T_INT32, T_INT64, T_STRING, T_STRING_ARRAY, T_I18N = 3, 4, 5, 6, 8, 9
_S_IFMT, _S_IFDIR = 0o170000, 0o040000


def is_database(path: str) -> bool:
    return any(path == d + SQLITE for d in DIRS)


def legacy_backend(path: str) -> str | None:
    """The name of an rpmdb backend layerscope does not read, if `path` is one's main file."""
    for d in DIRS:
        if path.startswith(d) and path[len(d) :] in LEGACY:
            return LEGACY[path[len(d) :]]
    return None


@dataclass(frozen=True, slots=True)
class Header:
    """The tags of one header blob, decoded: strings, string arrays and integer arrays."""

    tags: dict[int, str | tuple[str, ...] | tuple[int, ...]]

    def text(self, tag: int) -> str:
        v = self.tags.get(tag, "")
        return v if isinstance(v, str) else (str(v[0]) if v else "")

    def strings(self, tag: int) -> tuple[str, ...]:
        v = self.tags.get(tag, ())
        return (v,) if isinstance(v, str) else tuple(str(x) for x in v)

    def ints(self, tag: int) -> tuple[int, ...]:
        v = self.tags.get(tag, ())
        return tuple(x for x in v if isinstance(x, int)) if not isinstance(v, str) else ()


_INT = {T_INT16: ("h", 2), T_INT32: ("i", 4), T_INT64: ("q", 8)}


def parse_header(blob: bytes, what: str) -> Header:
    """Decode the tags layerscope uses from one header blob (without the 8-byte magic)."""
    if len(blob) < 8:
        raise PackageError(f"{what}: header blob of {len(blob)} bytes is too short")
    il, dl = struct.unpack_from(">ii", blob, 0)
    start = 8 + 16 * il
    if il < 0 or dl < 0 or start + dl > len(blob):
        raise PackageError(f"{what}: header blob says {il} tags and {dl} data bytes, has less")
    data = blob[start : start + dl]
    tags: dict[int, str | tuple[str, ...] | tuple[int, ...]] = {}
    for i in range(il):
        tag, typ, off, count = struct.unpack_from(">iiii", blob, 8 + 16 * i)
        if off < 0 or off > dl:
            raise PackageError(f"{what}: tag {tag} points outside the header's data")
        if typ in (T_STRING, T_STRING_ARRAY, T_I18N):
            parts = data[off:].split(b"\0", count)[:count]
            strings = tuple(p.decode("utf-8", "surrogateescape") for p in parts)
            tags[tag] = strings[0] if typ == T_STRING and strings else strings
        elif typ in _INT:
            code, size = _INT[typ]
            if off + size * count > dl:
                raise PackageError(f"{what}: tag {tag} runs past the header's data")
            tags[tag] = struct.unpack_from(f">{count}{code}", data, off)
    return Header(tags)


def _files(h: Header) -> tuple[tuple[str, ...], tuple[int, ...]]:
    dirs, bases, idx = h.strings(TAG_DIRNAMES), h.strings(TAG_BASENAMES), h.ints(TAG_DIRINDEXES)
    modes = h.ints(TAG_FILEMODES)
    paths = []
    for i, base in enumerate(bases):
        if i < len(modes) and (modes[i] & 0xFFFF) & _S_IFMT == _S_IFDIR:
            continue  # a directory the package owns: no bytes of its own
        d = dirs[idx[i]] if i < len(idx) and idx[i] < len(dirs) else "/"
        paths.append((d + base).strip("/"))
    sizes = h.ints(TAG_LONGFILESIZES) or h.ints(TAG_FILESIZES)
    return tuple(paths), sizes


def package_of(h: Header, database: str) -> Package:
    epoch = h.text(TAG_EPOCH)
    version = f"{h.text(TAG_VERSION)}-{h.text(TAG_RELEASE)}"
    requires = tuple(
        r for r in h.strings(TAG_REQUIRENAME) if not r.startswith(("/", "rpmlib(")) and "(" not in r
    )
    return Package(
        Ecosystem.RPM,
        h.text(TAG_NAME),
        f"{epoch}:{version}" if epoch and epoch != "0" else version,
        h.text(TAG_ARCH),
        _files(h)[0],
        database,
        requires=tuple(dict.fromkeys(requires)),
        distro=(h.text(TAG_VENDOR) or "rpm").split()[0].lower().strip(",."),
    )


def parse_sqlite(data: bytes, database: str) -> list[Package]:
    """Every package in an rpmdb.sqlite file's bytes."""
    if not data.startswith(b"SQLite format 3\0"):
        raise PackageError(f"/{database}: not an SQLite database")
    image = bytearray(data)
    if image[18:20] == b"\x02\x02":
        image[18:20] = b"\x01\x01"  # WAL mode needs a -shm file: read it as a rollback journal
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(bytes(image))
        rows = conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
    except sqlite3.Error as exc:
        raise PackageError(f"/{database}: cannot read the rpm database ({exc})") from None
    finally:
        conn.close()
    return [
        package_of(parse_header(bytes(b), f"/{database} header {n}"), database) for n, b in rows
    ]
