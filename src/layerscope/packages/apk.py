"""apk (Alpine): `lib/apk/db/installed`, the text database apk(8) keeps.

Blocks separated by a blank line, one `K:value` per line (apk-tools' "installed database"
format): `P` name, `V` version, `A` arch, `o` origin, `D` dependencies, `F` a directory, then `R`
the files in it until the next `F`.
"""

from __future__ import annotations

from .model import Ecosystem, Package

INSTALLED = "lib/apk/db/installed"


def is_database(path: str) -> bool:
    return path == INSTALLED


def _deps(value: str) -> tuple[str, ...]:
    names = []
    for dep in value.split():
        if dep.startswith("!"):
            continue  # a conflict, not a dependency
        name = dep
        for op in ("<", ">", "=", "~"):
            name = name.split(op)[0]
        if name and not name.startswith(("so:", "cmd:", "pc:", "/")):
            names.append(name)
    return tuple(names)


def parse_installed(data: bytes, database: str = INSTALLED) -> list[Package]:
    out: list[Package] = []
    fields: dict[str, str] = {}
    files: list[str] = []
    directory = ""

    def flush() -> None:
        if "P" in fields:
            out.append(
                Package(
                    Ecosystem.APK,
                    fields["P"],
                    fields.get("V", ""),
                    fields.get("A", ""),
                    tuple(files),
                    database,
                    requires=_deps(fields.get("D", "")),
                    distro="alpine",
                )
            )

    for line in data.decode("utf-8", "surrogateescape").splitlines():
        if not line.strip():
            flush()
            fields, files, directory = {}, [], ""
            continue
        key, sep, value = line.partition(":")
        if not sep or len(key) != 1:
            continue
        if key == "F":
            directory = value.strip("/")
        elif key == "R":
            files.append(f"{directory}/{value}" if directory else value)
        else:
            fields.setdefault(key, value)
    flush()
    return out
