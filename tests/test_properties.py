"""Property-based tests: the tar header reader against Python's tarfile writer, and layer
application against a straightforward model of the OCI rules (image-spec layer.md)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import xxhash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerscope.errors import LayerscopeError
from layerscope.model import Entry, EntryKind
from layerscope.tarstream import ChunkSource, iter_members

from helpers import analysed
from imagebuilder import OPQ, D, F, ImageDef, Layer, W, write_docker_archive

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# -- the tar header reader ------------------------------------------------------------------
_NAME_PART = st.text(
    st.characters(codec="utf-8", exclude_characters="/\0", exclude_categories=["Cs"]),
    min_size=1,
    max_size=40,
).filter(lambda s: s not in (".", ".."))
_TYPES = [
    tarfile.REGTYPE,
    tarfile.DIRTYPE,
    tarfile.SYMTYPE,
    tarfile.LNKTYPE,
    tarfile.FIFOTYPE,
    tarfile.CHRTYPE,
]


@dataclass
class Spec:
    name: str
    type: bytes
    data: bytes
    mode: int
    uid: int
    gid: int
    mtime: int
    link: str


@st.composite
def tar_member(draw: st.DrawFn, fmt: int) -> Spec:
    short = fmt == tarfile.USTAR_FORMAT
    parts = draw(st.lists(_NAME_PART, min_size=1, max_size=2 if short else 8))
    name = "/".join(parts)
    limit = 99 if short else 10_000
    if len(name.encode()) > limit:
        name = name.encode()[:limit].decode("utf-8", "ignore") or "x"
    kind = draw(st.sampled_from(_TYPES))
    big = 2**21 - 1 if short else 2**40
    return Spec(
        name=name.rstrip("/") or "x",
        type=kind,
        data=draw(st.binary(max_size=2000)) if kind == tarfile.REGTYPE else b"",
        mode=draw(st.integers(0, 0o7777)),
        uid=draw(st.integers(0, big)),
        gid=draw(st.integers(0, big)),
        mtime=draw(st.integers(0, 2**33 - 1 if short else 2**40)),
        link=draw(_NAME_PART) * draw(st.integers(1, 1 if short else 9))
        if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE)
        else "",
    )


def write(specs: list[Spec], fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8") as tar:
        for s in specs:
            info = tarfile.TarInfo(s.name)
            info.type, info.mode, info.uid, info.gid = s.type, s.mode, s.uid, s.gid
            info.mtime, info.linkname, info.size = s.mtime, s.link, len(s.data)
            tar.addfile(info, io.BytesIO(s.data) if s.data else None)
    return buf.getvalue()


def chunked(data: bytes, sizes: list[int]) -> Iterator[bytes]:
    pos = 0
    for size in sizes:
        yield data[pos : pos + size]
        pos += size
    yield data[pos:]


_FORMATS = st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])


@SETTINGS
@given(data=st.data(), fmt=_FORMATS)
def test_header_reader_reads_what_tarfile_writes(data: st.DataObject, fmt: int) -> None:
    specs = data.draw(st.lists(tar_member(fmt), max_size=12))
    raw = write(specs, fmt)
    cuts = data.draw(st.lists(st.integers(1, 3000), max_size=10))
    got = list(iter_members(ChunkSource(chunked(raw, cuts), "t"), "t", hash_content=True))
    assert len(got) == len(specs)
    for (member, content_hash), s in zip(got, specs, strict=True):
        assert member.name.rstrip("/") == s.name
        assert member.typeflag == s.type[0]
        assert (member.mode, member.uid, member.gid, member.mtime) == (
            s.mode, s.uid, s.gid, s.mtime,
        )  # fmt: skip
        assert member.linkname == s.link
        assert member.size == len(s.data)
        if s.data:
            assert content_hash == xxhash.xxh3_64_intdigest(s.data)


@SETTINGS
@given(data=st.data(), fmt=_FORMATS)
def test_damaged_tar_is_an_error_never_a_crash(data: st.DataObject, fmt: int) -> None:
    raw = bytearray(write(data.draw(st.lists(tar_member(fmt), min_size=1, max_size=4)), fmt))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    try:
        for _ in iter_members(ChunkSource(iter([bytes(raw)]), "t"), "t", hash_content=True):
            pass
    except LayerscopeError:
        pass  # any other exception fails the test


# -- layer application -------------------------------------------------------------------
def _all_paths() -> list[str]:
    out = []
    for a in "abc":
        out.append(a)
        for b in "abc":
            out.append(f"{a}/{b}")
            out.extend(f"{a}/{b}/{c}" for c in "ab")
    return out


PATHS = _all_paths()


@dataclass(frozen=True)
class Node:
    kind: str  # file, dir, symlink, hardlink
    mode: int
    data: bytes = b""
    link: str = ""


Model = dict[str, Node]


def _under(path: str, state: Model) -> list[str]:
    return [p for p in state if p.startswith(path + "/")]


def apply_model(state: Model, entries: list[F]) -> Model:
    """layer.md in the plainest terms: opaque markers and whiteouts hide what the layers below
    hold, then each entry in order replaces what is at its path (a directory over a directory
    only changes its attributes; anything else replaces the whole subtree), and a non-directory
    standing where a parent directory must be is replaced."""
    lower = dict(state)
    new = dict(state)
    for e in entries:
        parent, _, name = e.path.rpartition("/")
        if name == ".wh..wh..opq":
            for p in _under(parent, lower):
                new.pop(p, None)
        elif name.startswith(".wh."):
            target = f"{parent}/{name[4:]}" if parent else name[4:]
            for p in [target, *_under(target, lower)]:
                new.pop(p, None)
    for e in entries:
        if e.path.rpartition("/")[2].startswith(".wh."):
            continue
        parts = e.path.split("/")
        for i in range(1, len(parts)):
            ancestor = "/".join(parts[:i])
            if ancestor in new and new[ancestor].kind != "dir":
                del new[ancestor]
        old = new.get(e.path)
        if e.kind != "dir" or (old is not None and old.kind != "dir"):
            for p in _under(e.path, new):
                del new[p]
        new[e.path] = Node(e.kind, e.mode, e.data, e.link)
    return new


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _has_used_child(used: set[str], path: str) -> bool:
    return any(u.startswith(path + "/") for u in used)


def _is_dir(state: Model, path: str) -> bool:
    node = state.get(path)
    if node is not None:
        return node.kind == "dir"
    return path == "" or any(p.startswith(path + "/") for p in state)


def _parents_as_dirs(state: Model, entries: list[F], used: set[str], path: str) -> bool:
    """Give `path` directory entries for ancestors that are not directories now, as a real
    diff has them (runtimes refuse to write under a file); False if an ancestor is a
    non-directory written in this very layer."""
    now = apply_model(state, entries)
    parts = path.split("/")
    for i in range(1, len(parts)):
        ancestor = "/".join(parts[:i])
        if ancestor in used:
            if now.get(ancestor, Node("dir", 0)).kind != "dir":
                return False
        elif ancestor not in now or now[ancestor].kind != "dir":
            # Layer writers (docker, buildah) name the parents of what they write; a parent
            # that no layer names is a directory only implicitly, which layerscope drops once
            # its content is deleted while a runtime keeps it, empty.
            entries.append(D(ancestor))
            used.add(ancestor)
    return True


@st.composite
def layer_stack(draw: st.DrawFn, realistic: bool = False) -> list[list[F]]:
    """Layers of adds, overwrites, whiteouts, opaque directories, dir<->file swaps and
    hardlinks to files that exist; each path at most once per layer. `realistic`: also as a
    runtime can apply them (no entry under what is a file at that point)."""
    state: Model = {}
    layers = []
    for _ in range(draw(st.integers(1, 5))):
        entries: list[F] = []
        used: set[str] = set()
        for _ in range(draw(st.integers(0, 7))):
            op = draw(st.sampled_from(["file", "file", "dir", "symlink", "hardlink", "wh", "opq"]))
            path = draw(st.sampled_from(PATHS))
            if path in used:
                continue
            if realistic and op != "wh" and not _parents_as_dirs(state, entries, used, path):
                continue
            parent = path.rpartition("/")[0]
            if realistic and op == "wh" and not _is_dir(apply_model(state, entries), parent):
                continue  # a diff never whites out inside a directory that is not there
            if realistic and op not in ("dir", "wh", "opq") and _has_used_child(used, path):
                continue  # nor writes a file over what it just wrote beneath that path
            mode = draw(st.sampled_from([0o644, 0o755, 0o600, 0o4755]))
            if op == "file":
                entries.append(F(path, draw(st.binary(max_size=40)), mode))
            elif op == "dir":
                entries.append(D(path, mode))
            elif op == "symlink":
                entries.append(F(path, kind="symlink", link=draw(st.sampled_from(PATHS))))
            elif op == "hardlink":
                seen = apply_model(state, entries)
                # A target that writing `path` itself replaces (an ancestor turned into a
                # directory, or something under it) would be a hardlink to nothing.
                files = sorted(
                    p for p, n in seen.items() if n.kind == "file" and not _related(p, path)
                )
                if not files:
                    continue
                target = draw(st.sampled_from(files))
                # One inode: tar writers record the target's mode (a runtime chmods the inode).
                entries.append(F(path, mode=seen[target].mode, kind="hardlink", link=target))
            elif op == "wh":
                if any(u == path or u.startswith(path + "/") for u in used):
                    continue  # a whiteout and an entry under it in one layer: not generated
                entries.append(W(path))
            else:
                if any(u.startswith(path + "/") for u in used):
                    continue
                entries += [D(path, mode), OPQ(path)]
            used.add(path)
        layers.append(entries)
        state = apply_model(state, entries)
    return layers


def _live(live: dict[str, Entry]) -> dict[str, tuple[str, int, str, int]]:
    kinds = {EntryKind.FILE: "file", EntryKind.DIR: "dir", EntryKind.SYMLINK: "symlink",
             EntryKind.HARDLINK: "hardlink"}  # fmt: skip
    return {p: (kinds[e.kind], e.mode & 0o7777, e.linkname, e.size) for p, e in live.items()}


@SETTINGS
@given(stack=layer_stack())
def test_layer_application_equals_the_model(stack: list[list[F]], tmp_path: Path) -> None:
    img = ImageDef([Layer(entries, f"/bin/sh -c step{i}") for i, entries in enumerate(stack)])
    path = write_docker_archive(img, tmp_path / "img.tar")
    model: Model = {}
    for entries in stack:
        model = apply_model(model, entries)
    want = {p: (n.kind, n.mode, n.link, len(n.data)) for p, n in model.items()}
    assert _live(analysed(path).tree.live) == want


def test_the_model_itself_on_a_known_stack() -> None:
    # A model that agreed with everything would prove nothing: it must tell these apart.
    lower = apply_model({}, [D("a"), F("a/x", b"1"), F("b", b"2")])
    assert set(lower) == {"a", "a/x", "b"}
    swapped = apply_model(lower, [F("a", b"now a file"), D("b"), F("b/y", b"3")])
    assert swapped["a"].kind == "file" and "a/x" not in swapped and swapped["b"].kind == "dir"
    hidden = apply_model(lower, [D("a"), OPQ("a"), F("a/z", b"4"), W("b")])
    assert set(hidden) == {"a", "a/z"}
