"""dpkg (Debian, Ubuntu): `var/lib/dpkg/status`, distroless `status.d/`, file lists `info/*.list`.

deb-control(5) stanzas; an installed package has `Status: install ok installed` (or another
`... installed`-like state that still has files: half-configured, unpacked ...). A `Multi-Arch:
same` package's list is `info/NAME:ARCH.list`, any other's `info/NAME.list` (dpkg's
`pkg_infodb_get_file`). Distroless images have one stanza per file in `status.d/NAME` and the
files in `status.d/NAME.md5sums` (`md5  path` lines, paths without a leading slash).
"""

from __future__ import annotations

from collections.abc import Mapping

from .model import Ecosystem, Package

ROOT = "var/lib/dpkg/"
STATUS = ROOT + "status"
STATUS_D = ROOT + "status.d/"
INFO = ROOT + "info/"

# dpkg-query(1) states in which the package's files are on disk.
_ON_DISK = {
    "installed",
    "half-installed",
    "unpacked",
    "half-configured",
    "triggers-awaited",
    "triggers-pending",
}


def is_database(path: str) -> bool:
    if path == STATUS or path.startswith(STATUS_D):
        return "/" not in path[len(STATUS_D) :] if path.startswith(STATUS_D) else True
    return path.startswith(INFO) and path.endswith(".list") and "/" not in path[len(INFO) :]


def parse_stanzas(data: bytes) -> list[dict[str, str]]:
    """deb-control stanzas: `Field: value`, continuation lines start with a space or tab."""
    out: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    last = ""
    for raw in data.decode("utf-8", "replace").splitlines():
        if not raw.strip():
            if fields:
                out.append(fields)
            fields, last = {}, ""
        elif raw[0] in " \t":
            if last:
                fields[last] += "\n" + raw.strip()
        else:
            name, sep, value = raw.partition(":")
            if sep:
                last = name.strip()
                fields[last] = value.strip()
    if fields:
        out.append(fields)
    return out


def parse_list(data: bytes) -> tuple[str, ...]:
    """An `info/*.list` file: one absolute path per line (directories included)."""
    text = data.decode("utf-8", "surrogateescape")
    return tuple(p.strip("/") for p in text.splitlines() if p.strip("/"))


def parse_md5sums(data: bytes) -> tuple[str, ...]:
    text = data.decode("utf-8", "surrogateescape")
    out = []
    for line in text.splitlines():
        _, sep, path = line.partition("  ")
        if sep and path.strip("/"):
            out.append(path.strip("/"))
    return tuple(out)


def depends(value: str) -> tuple[str, ...]:
    """Package names of a Depends/Pre-Depends field (the first of each `a | b` alternative)."""
    names = []
    for clause in value.split(","):
        first = clause.split("|")[0].strip()
        name = first.split(" ")[0].split("(")[0].split(":")[0].strip()
        if name:
            names.append(name)
    return tuple(names)


def _package(st: dict[str, str], files: tuple[str, ...], database: str) -> Package:
    deps = depends(st.get("Pre-Depends", "")) + depends(st.get("Depends", ""))
    return Package(
        Ecosystem.DPKG,
        st["Package"],
        st.get("Version", ""),
        st.get("Architecture", ""),
        files,
        database,
        requires=deps,
        distro="debian",
    )


def list_name(st: dict[str, str]) -> str:
    """The `info/` file stem dpkg uses for this package."""
    if st.get("Multi-Arch", "") == "same":
        return f"{st['Package']}:{st.get('Architecture', '')}"
    return st["Package"]


def parse_database(files: Mapping[str, bytes]) -> list[Package]:
    """Every installed package of the dpkg database in `files` (clean path -> contents)."""
    out: list[Package] = []
    if STATUS in files:
        for st in parse_stanzas(files[STATUS]):
            state = st.get("Status", "").split()
            if "Package" not in st or not state or state[-1] not in _ON_DISK:
                continue
            stem = INFO + list_name(st)
            listed = files.get(stem + ".list")
            if listed is None:  # dpkg before multi-arch, or an arch-qualified list
                listed = files.get(f"{INFO}{st['Package']}:{st.get('Architecture', '')}.list")
            out.append(_package(st, parse_list(listed or b""), STATUS))
    for path, data in sorted(files.items()):
        if not path.startswith(STATUS_D) or path.endswith(".md5sums"):
            continue
        sums = files.get(path + ".md5sums", b"")
        for st in parse_stanzas(data):
            if "Package" in st:
                out.append(_package(st, parse_md5sums(sums), path))
    return out
