"""Python distributions: `*.dist-info` (PEP 376/627) and `*.egg-info`, in any site-packages.

dist-info: METADATA (Name, Version, Requires-Dist), RECORD (csv `path,hash,size`, paths relative
to the directory holding the dist-info), INSTALLER (`pip`, or the distribution's own name such
as `debian`), top_level.txt. egg-info (a directory): PKG-INFO, installed-files.txt (paths
relative to the egg-info), top_level.txt, requires.txt; or a single PKG-INFO file named
`*.egg-info` (distutils), which lists no files.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
from collections.abc import Mapping

from .model import Ecosystem, Package

DIST_FILES = ("METADATA", "RECORD", "INSTALLER", "top_level.txt")
EGG_FILES = ("PKG-INFO", "installed-files.txt", "top_level.txt", "requires.txt")
_SITE = ("site-packages/", "dist-packages/")


def normalize(name: str) -> str:
    """PEP 503: the name as indexes compare it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _in_site(directory: str) -> bool:
    parent = directory.rpartition("/")[0] + "/"
    return parent.endswith(_SITE)


def database_of(path: str) -> str | None:
    """The dist-info/egg-info path that `path` belongs to, if it is one of its files we read."""
    directory, _, name = path.rpartition("/")
    if directory.endswith(".dist-info") and name in DIST_FILES and _in_site(directory):
        return directory
    if directory.endswith(".egg-info") and name in EGG_FILES and _in_site(directory):
        return directory
    if path.endswith(".egg-info") and _in_site(path):
        return path  # distutils: the egg-info is a single PKG-INFO file
    return None


def is_database(path: str) -> bool:
    return database_of(path) is not None


def parse_metadata(data: bytes) -> dict[str, list[str]]:
    """The header block of METADATA / PKG-INFO (RFC 822 style), each field's values in order."""
    fields: dict[str, list[str]] = {}
    last = ""
    for line in data.decode("utf-8", "replace").splitlines():
        if not line:
            break
        if line[0] in " \t" and last:
            fields[last][-1] += "\n" + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep:
            last = name.strip().lower()
            fields.setdefault(last, []).append(value.strip())
    return fields


def requirement_name(spec: str) -> str | None:
    """The distribution a Requires-Dist line needs unconditionally (None if only for an extra)."""
    head, _, marker = spec.partition(";")
    if "extra" in marker:
        return None
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", head)
    return normalize(m.group(1)) if m else None


def parse_record(data: bytes, base: str) -> tuple[str, ...]:
    """RECORD rows as clean image paths (`base` is the directory that holds the dist-info)."""
    out = []
    for row in csv.reader(io.StringIO(data.decode("utf-8", "surrogateescape"))):
        if row and row[0]:
            path = posixpath.normpath(posixpath.join(base, row[0])).lstrip("/")
            if not path.startswith(".."):
                out.append(path)
    return tuple(out)


def _lines(data: bytes | None) -> tuple[str, ...]:
    text = (data or b"").decode("utf-8", "replace")
    return tuple(s.strip() for s in text.splitlines() if s.strip() and not s.startswith("["))


def parse_dist(directory: str, files: Mapping[str, bytes]) -> Package | None:
    """One distribution from its metadata files (`files`: clean path -> contents)."""
    base = directory.rpartition("/")[0]
    if directory.endswith(".dist-info"):
        meta = parse_metadata(files.get(directory + "/METADATA", b""))
        owned = parse_record(files.get(directory + "/RECORD", b""), base)
        reqs = [r for r in (requirement_name(s) for s in meta.get("requires-dist", [])) if r]
        installer = (files.get(directory + "/INSTALLER") or b"").decode("utf-8", "replace")
    elif directory + "/PKG-INFO" in files:
        meta = parse_metadata(files[directory + "/PKG-INFO"])
        listed = _lines(files.get(directory + "/installed-files.txt"))
        owned = tuple(posixpath.normpath(posixpath.join(directory, p)).lstrip("/") for p in listed)
        reqs = [
            r
            for r in (requirement_name(s) for s in _lines(files.get(directory + "/requires.txt")))
            if r
        ]
        installer = ""
    else:
        meta, owned, reqs, installer = parse_metadata(files.get(directory, b"")), (), [], ""
    name = (meta.get("name") or [""])[0]
    if not name:
        return None
    return Package(
        Ecosystem.PYTHON,
        normalize(name),
        (meta.get("version") or [""])[0],
        "",
        owned,
        directory,
        requires=tuple(dict.fromkeys(reqs)),
        top_level=_lines(files.get(directory + "/top_level.txt")),
        installer=installer.strip(),
    )


def parse_database(files: Mapping[str, bytes]) -> list[Package]:
    """Every distribution whose metadata files are in `files`."""
    dirs = sorted({d for d in (database_of(p) for p in files) if d})
    return [p for p in (parse_dist(d, files) for d in dirs) if p is not None]
