"""Frozen records shared by the package parsers, the attribution and the reachability estimate."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..errors import LayerscopeError


class PackageError(LayerscopeError):
    """A package database that cannot be read (names the file and what is wrong)."""


class Ecosystem(enum.StrEnum):
    """Which database a package was read from; the values are the words reports and JSON use."""

    DPKG = "dpkg"
    RPM = "rpm"
    APK = "apk"
    PYTHON = "python"
    NPM = "npm"


@dataclass(frozen=True, slots=True)
class Package:
    """One installed package as its database records it."""

    ecosystem: Ecosystem
    name: str
    version: str
    arch: str = ""
    files: tuple[str, ...] = ()
    """Paths the database says the package owns (clean: no leading `/`), as recorded."""
    database: str = ""
    """The database file or directory it was read from (clean path)."""
    requires: tuple[str, ...] = ()
    """Names of the packages it depends on (Python: Requires-Dist without extras markers)."""
    top_level: tuple[str, ...] = ()
    """Python: the importable top-level names it provides."""
    installer: str = ""
    """Python: the INSTALLER file (`pip`, `debian`, `uv` ...); npm: `npm`."""
    distro: str = ""
    """The distribution namespace for a purl (`debian`, `alpine`, `fedora` ...), when known."""

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies the package across layers: ecosystem, name, architecture."""
        return (self.ecosystem.value, self.name, self.arch)

    @property
    def label(self) -> str:
        arch = f":{self.arch}" if self.arch and self.ecosystem is Ecosystem.DPKG else ""
        return f"{self.name}{arch}"
