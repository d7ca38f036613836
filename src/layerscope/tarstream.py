"""A fast, streaming tar reader: headers, long names, PAX records, content hashes.

It reads from any `ByteSource` (a stream of chunks, or a seekable file that skips over data),
so one parser serves layer blobs (decompressed on the fly) and outer archives (seeked over).
"""

from __future__ import annotations

import posixpath
import struct
from collections.abc import Callable, Iterator
from typing import IO, NamedTuple, Protocol
from zlib import adler32

import xxhash

from .errors import CorruptLayer, NotATar
from .model import Entry, EntryKind

BLOCK = 512
# name mode uid gid size mtime chksum typeflag linkname magic+version (uname gname devs) prefix
_HEADER = struct.Struct("100s8s8s8s12s12s8sB100s8s80s155s")
_ZERO_BLOCK = bytes(BLOCK)
MAX_EXTENDED = 1 << 20
"""The most a PAX or GNU long-name header may hold (archive/tar's maxSpecialFileSize)."""
_EXTENDED_NAMES = {
    ord("x"): "PAX",
    ord("g"): "global PAX",
    ord("L"): "GNU long name",
    ord("K"): "GNU long link name",
}

# Typeflags whose header is followed by no data, whatever the size field says (as Go and CPython).
_HEADER_ONLY = frozenset(b"123456")
_EXTENDED = frozenset(b"xgLK")  # PAX local and global, GNU long name and long link
_DIR, _FILE, _SPARSE = ord("5"), ord("0"), ord("S")
_KINDS: dict[int, EntryKind] = {
    ord("0"): EntryKind.FILE,
    ord("7"): EntryKind.FILE,
    ord("S"): EntryKind.FILE,
    ord("1"): EntryKind.HARDLINK,
    ord("2"): EntryKind.SYMLINK,
    ord("3"): EntryKind.CHAR,
    ord("4"): EntryKind.BLOCK,
    ord("5"): EntryKind.DIR,
    ord("D"): EntryKind.DIR,
    ord("6"): EntryKind.FIFO,
}


class ByteSource(Protocol):
    """Where tar bytes come from: read exactly, skip, or hash the next bytes."""

    pos: int
    """Offset of the next byte in the underlying file; -1 where there is no file."""

    def read(self, size: int) -> bytes: ...

    def skip(self, size: int) -> None: ...

    def hash_next(self, size: int, pad: int = 0) -> int:
        """xxh3-64 of the next `size` bytes, then skip `pad` more."""
        ...


class ChunkSource:
    """A ByteSource over an iterator of byte chunks (a decompressed, hashed blob stream)."""

    pos = -1  # a decompressed stream has no file offset

    def __init__(self, chunks: Iterator[bytes], what: str) -> None:
        self._chunks = chunks
        self._buf = b""
        self._pos = 0
        self._what = what

    def _next_chunk(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self._buf = chunk
                self._pos = 0
                return True
        return False

    def read(self, size: int) -> bytes:
        buf, pos = self._buf, self._pos
        if len(buf) - pos >= size:
            self._pos = pos + size
            return buf[pos : pos + size]
        parts = [buf[pos:]]
        got = len(parts[0])
        self._buf, self._pos = b"", 0
        while got < size and self._next_chunk():
            take = min(size - got, len(self._buf))
            parts.append(self._buf[:take])
            self._pos = take
            got += take
        return b"".join(parts)

    def skip(self, size: int) -> None:
        while True:
            avail = len(self._buf) - self._pos
            if avail >= size:
                self._pos += size
                return
            size -= avail
            if not self._next_chunk():
                raise CorruptLayer(f"{self._what}: tar stream ends inside an entry (truncated)")

    def hash_next(self, size: int, pad: int = 0) -> int:
        avail = len(self._buf) - self._pos
        if avail >= size + pad:
            start = self._pos
            self._pos += size + pad
            return int(xxhash.xxh3_64_intdigest(memoryview(self._buf)[start : start + size]))
        hasher = xxhash.xxh3_64()
        while size:
            avail = len(self._buf) - self._pos
            if not avail:
                if not self._next_chunk():
                    raise CorruptLayer(f"{self._what}: tar stream ends inside an entry (truncated)")
                continue
            take = min(avail, size)
            hasher.update(memoryview(self._buf)[self._pos : self._pos + take])
            self._pos += take
            size -= take
        if pad:
            self.skip(pad)
        return int(hasher.intdigest())

    def drain(self) -> None:
        """Consume the rest, so that digests computed upstream cover every byte."""
        self._buf, self._pos = b"", 0
        for _ in self._chunks:
            pass


class FileSource:
    """A ByteSource over a seekable file region: data is skipped by seeking, never read."""

    def __init__(self, fh: IO[bytes], what: str, start: int = 0, end: int | None = None) -> None:
        self._fh = fh
        self._what = what
        self.pos = start
        # Bounded by the file's size, so that a member declaring 2^80 bytes is a truncated
        # archive, not a seek past what an offset can hold.
        self._end = fh.seek(0, 2) if end is None else end
        fh.seek(start)

    def read(self, size: int) -> bytes:
        size = max(0, min(size, self._end - self.pos))
        data = self._fh.read(size)
        self.pos += len(data)
        return data

    def skip(self, size: int) -> None:
        if self.pos + size > self._end:
            raise CorruptLayer(f"{self._what}: tar ends inside an entry (truncated)")
        self.pos += size
        self._fh.seek(self.pos)

    def hash_next(self, size: int, pad: int = 0) -> int:
        hasher = xxhash.xxh3_64()
        while size:
            data = self.read(min(size, 1 << 20))
            if not data:
                raise CorruptLayer(f"{self._what}: tar ends inside an entry (truncated)")
            hasher.update(data)
            size -= len(data)
        if pad:
            self.skip(pad)
        return int(hasher.intdigest())


class Member(NamedTuple):
    """A raw tar member as it stands in the stream, with where its data starts."""

    name: str
    typeflag: int
    size: int
    mode: int
    uid: int
    gid: int
    mtime: int
    linkname: str
    data_offset: int


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _cstr(field: bytes) -> bytes:
    end = field.find(b"\0")
    return field if end < 0 else field[:end]


def _number(field: bytes, what: str) -> int:
    try:
        # The common case: octal digits, then NUL or space padding.
        return int(field.rstrip(b"\0 ") or b"0", 8)
    except ValueError:
        return _number_slow(field, what)


def _number_slow(field: bytes, what: str) -> int:
    if field and field[0] & 0x80:
        # GNU base-256: big-endian two's complement with the top bit as a marker.
        value = int.from_bytes(field, "big") & ~(0x80 << (8 * (len(field) - 1)))
        if field[0] & 0x40:
            value -= 1 << (8 * len(field) - 1)
        return value
    text = field.replace(b"\0", b" ").strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise CorruptLayer(f"{what}: bad number {text!r} in a tar header") from None


# The six numeric fields (mode uid gid size mtime chksum), bytes 100-155 of a header.
_NUMBERS = struct.Struct("8s8s8s12s12s8s")
_NUL_TO_SPACE = bytes.maketrans(b"\0", b" ")


def _numbers(block: bytes, what: str) -> tuple[int, int, int, int, int, int]:
    """mode, uid, gid, size, mtime and checksum: one translate and six int() in the common case
    of octal digits padded with NUL or space (this runs once per entry: 1M entries, 1M calls)."""
    fields = _NUMBERS.unpack(block[100:156].translate(_NUL_TO_SPACE))
    try:
        mode, uid, gid, size, mtime, chksum = fields
        return int(mode, 8), int(uid, 8), int(gid, 8), int(size, 8), int(mtime, 8), int(chksum, 8)
    except ValueError:
        # An empty field, GNU base-256, or garbage: field by field, from the raw bytes.
        # The checksum first, so that a block of garbage reads as "not a tar", not a bad number.
        raw = _NUMBERS.unpack(block[100:156])
        chksum = _number(raw[5], what)
        _check_sum(block, raw[5], chksum, what)
        m, u, g, sz, mt = (_number(f, what) for f in raw[:5])
        return m, u, g, sz, mt, chksum


def _check_sum(block: bytes, field: bytes, recorded: int, what: str) -> None:
    # The byte sum of the block, exactly: adler32's low half is 1 + the byte sum modulo 65521,
    # and a half block sums to at most 256 * 255 = 65280, so each half is exact (and a C loop,
    # where sum(block) is a Python one: this runs once per entry).
    total = (adler32(block[:256]) & 0xFFFF) + (adler32(block[256:]) & 0xFFFF) - 2
    unsigned = total - sum(field) + 256  # the checksum field counts as eight spaces
    if recorded == unsigned:
        return
    signed = unsigned - sum(b for b in block[:148] + block[156:] if b > 127) * 2
    if recorded != signed:
        raise CorruptLayer(f"{what}: tar header checksum mismatch (not a tar, or corrupt)")


def _pax_records(data: bytes, what: str) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            break
        space = data.find(b" ", pos, pos + 12)
        digits = data[pos:space] if space > pos else b""
        length = int(digits) if digits.isdigit() else 0
        bad = space <= pos or length <= space - pos or pos + length > len(data)
        if bad or data[pos + length - 1] != 10:
            raise CorruptLayer(f"{what}: malformed PAX record at byte {pos} of a PAX header")
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[_decode(key)] = _decode(value)
        pos += length
    return records


def _pax_number(pax: dict[str, str], key: str, what: str) -> int:
    """A PAX size, uid or gid: decimal digits only (no sign, NaN, infinity or exponent)."""
    text = pax[key]
    if not (text.isascii() and text.isdigit()) or len(text) > 20:
        raise CorruptLayer(f"{what}: PAX record {key}={text[:40]!r} is not a valid number")
    return int(text)


def _pax_time(text: str, what: str) -> int:
    """A PAX mtime: decimal seconds, maybe negative, maybe with a fraction (POSIX pax)."""
    whole, _, frac = text.removeprefix("-").partition(".")
    ok = whole.isascii() and whole.isdigit() and len(whole) <= 20
    if not ok or not (frac == "" or (frac.isascii() and frac.isdigit())):
        raise CorruptLayer(f"{what}: PAX record mtime={text[:40]!r} is not a valid time")
    return -int(whole) if text.startswith("-") else int(whole)


def _no_pending(
    pax: dict[str, str], long_name: str | None, long_link: str | None, what: str
) -> None:
    if pax or long_name is not None or long_link is not None:
        kind = "PAX" if pax else "GNU long name"
        raise CorruptLayer(f"{what}: a {kind} header with no member after it (truncated)")


def _skip_gnu_sparse_extensions(src: ByteSource, block: bytes, what: str) -> None:
    # Old GNU sparse headers chain extra 512-byte blocks while the "isextended" byte is set.
    extended = block[482]
    while extended:
        ext = src.read(BLOCK)
        if len(ext) < BLOCK:
            raise CorruptLayer(f"{what}: truncated GNU sparse header")
        extended = ext[504]


DataSink = Callable[[Member], Callable[[Iterator[bytes]], None] | None]
"""Asked for each member with data: a function that consumes its bytes, or None to skip them."""


def _data(src: ByteSource, size: int, what: str) -> Iterator[bytes]:
    while size:
        data = src.read(min(size, 1 << 20))
        if not data:
            raise CorruptLayer(f"{what}: tar stream ends inside an entry (truncated)")
        size -= len(data)
        yield data


def iter_members(
    src: ByteSource, what: str, *, hash_content: bool = False, sink: DataSink | None = None
) -> Iterator[tuple[Member, int]]:
    """Yield each member with its content hash (0 unless asked and it has data).

    With a `sink`, a member's data is offered to it before the member is yielded; whatever the
    sink leaves unread is skipped.

    Stops at the first zero block (the end-of-archive marker) or at a clean end of stream;
    raises CorruptLayer on a truncated or malformed archive.
    """
    global_pax: dict[str, str] = {}
    local_pax: dict[str, str] = {}
    long_name: str | None = None
    long_link: str | None = None
    first = True
    shared: dict[int, int] = {}
    same = shared.setdefault
    while True:
        block = src.read(BLOCK)
        if not block:
            if first:
                raise NotATar(f"{what}: empty stream, not a tar")
            _no_pending(local_pax, long_name, long_link, what)
            return
        if len(block) < BLOCK:
            if first:
                raise NotATar(f"{what}: not a tar ({len(block)} bytes, less than a header)")
            raise CorruptLayer(f"{what}: tar stream ends inside a header (truncated)")
        if block == _ZERO_BLOCK:
            _no_pending(local_pax, long_name, long_link, what)
            return
        (
            name_f,
            _,
            _,
            _,
            _,
            _,
            sum_f,
            typeflag,
            link_f,
            magic,
            _,
            prefix_f,
        ) = _HEADER.unpack_from(block)
        try:
            mode, uid, gid, size, mtime, recorded = _numbers(block, what)
            _check_sum(block, sum_f, recorded, what)
        except CorruptLayer as exc:
            raise (NotATar(f"{exc} in its first header") if first else exc) from None
        # One int object per distinct value (a layer has few modes, owners and mtimes): 60 MB
        # fewer for a million entries.
        mode, uid, gid, mtime = same(mode, mode), same(uid, uid), same(gid, gid), same(mtime, mtime)
        first = False
        if size < 0:
            raise CorruptLayer(f"{what}: negative size in a tar header")
        padded = -(-size // BLOCK) * BLOCK
        if typeflag in _EXTENDED:
            if size > MAX_EXTENDED:
                # Read whole, so capped as Go's archive/tar caps them (1 MiB).
                raise CorruptLayer(
                    f"{what}: {_EXTENDED_NAMES[typeflag]} header declares {size} bytes "
                    f"(limit {MAX_EXTENDED})"
                )
            payload = src.read(padded)[:size]
            if len(payload) < size:
                raise CorruptLayer(f"{what}: tar stream ends inside an extended header")
            if typeflag == ord("x"):
                local_pax.update(_pax_records(payload, what))
            elif typeflag == ord("g"):
                # POSIX: a global header applies to every later member (dive rejects the layer).
                global_pax.update(_pax_records(payload, what))
            elif typeflag == ord("L"):
                long_name = _decode(_cstr(payload))
            else:
                long_link = _decode(_cstr(payload))
            continue
        # Per entry, so kept lean: no PAX dict work, no link decoding, where there is none.
        name_raw = name_f.partition(b"\0")[0]
        if prefix_f[0] and magic[:6] == b"ustar\x00":
            name_raw = prefix_f.partition(b"\0")[0] + b"/" + name_raw
        name = long_name if long_name is not None else name_raw.decode("utf-8", "surrogateescape")
        if long_link is not None:
            linkname = long_link
        else:
            linkname = _decode(link_f.partition(b"\0")[0]) if link_f[0] else ""
        if global_pax or local_pax:
            pax = {**global_pax, **local_pax}
            name = pax.get("path", name)
            linkname = pax.get("linkpath", linkname)
            if "size" in pax:
                size = _pax_number(pax, "size", what)
                padded = -(-size // BLOCK) * BLOCK
            uid = _pax_number(pax, "uid", what) if "uid" in pax else uid
            gid = _pax_number(pax, "gid", what) if "gid" in pax else gid
            mtime = _pax_time(pax["mtime"], what) if "mtime" in pax else mtime
            local_pax = {}
        if typeflag == 0:
            typeflag = _DIR if name.endswith("/") else _FILE
        if typeflag == _SPARSE:
            _skip_gnu_sparse_extensions(src, block, what)
        member = Member(name, typeflag, size, mode, uid, gid, mtime, linkname, src.pos)
        long_name = long_link = None
        content_hash = 0
        consume = sink(member) if sink is not None and typeflag not in _HEADER_ONLY else None
        if consume is not None and size:
            chunks = _data(src, size, what)
            consume(chunks)
            for _ in chunks:
                pass
            src.skip(padded - size)
        elif typeflag not in _HEADER_ONLY and size:
            if hash_content:
                content_hash = src.hash_next(size, padded - size)
            else:
                src.skip(padded)
        yield member, content_hash


def clean_name(name: str, what: str) -> str:
    """A member name as a path from the root: no leading `/` or `./`, `..` rejected."""
    if name and name[0] not in "./" and "//" not in name and "/." not in name:
        return name.rstrip("/")  # already clean: the usual `usr/lib/x.py` or `usr/lib/`
    cleaned = posixpath.normpath("/" + name).lstrip("/")
    if name.startswith("..") or "/../" in f"/{name}/":
        # normpath above already clamped the escape at the root; refuse it instead.
        parts = [p for p in name.split("/") if p not in ("", ".")]
        depth = 0
        for part in parts:
            depth += -1 if part == ".." else 1
            if depth < 0:
                raise CorruptLayer(f"{what}: entry {name!r} escapes the layer root")
    return "" if cleaned == "." else cleaned


def member_to_entry(member: Member, path: str, content_hash: int) -> Entry:
    m = member  # positional: this runs once per entry
    kind = _KINDS.get(m.typeflag, EntryKind.OTHER)
    return Entry(path, kind, m.typeflag, m.size, m.mode, m.uid, m.gid, m.mtime, m.linkname,
                 content_hash)  # fmt: skip
