"""Image references: `registry://HOST[:PORT]/REPO[:TAG|@DIGEST]` and bare names (`python:3.12`)."""

from __future__ import annotations

import platform as host_platform
import re
from dataclasses import dataclass

from ..errors import SourceError
from ..model import Platform

DOCKER_HUB = "docker.io"
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_REPO = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)


@dataclass(frozen=True, slots=True)
class RegistryRef:
    host: str
    """As written (`docker.io`, `127.0.0.1:5000`); `api_host` is where the API lives."""
    repository: str
    tag: str | None
    digest: str | None

    @property
    def reference(self) -> str:
        """What goes after /manifests/: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def api_host(self) -> str:
        return "registry-1.docker.io" if self.host == DOCKER_HUB else self.host

    def __str__(self) -> str:
        text = f"{self.host}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str) -> RegistryRef:
    """`HOST[:PORT]/REPO[:TAG][@DIGEST]`; without a host, Docker Hub (`library/` for one part)."""
    name, at, digest = text.partition("@")
    if at and not _DIGEST.match(digest):
        raise SourceError(f"{text}: {digest!r} is not a digest (sha256:<64 hex digits>)")
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = name.rpartition(":")
        if not _TAG.match(tag):
            raise SourceError(f"{text}: {tag!r} is not a valid tag")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, repo = first, rest
    else:
        host, repo = DOCKER_HUB, name
        if "/" not in repo:
            repo = "library/" + repo
    if not _REPO.match(repo):
        raise SourceError(f"{text}: {repo!r} is not a valid repository name")
    if tag is None and not at:
        tag = "latest"
    return RegistryRef(host, repo, tag, digest or None)


def this_platform() -> Platform:
    """The platform of this machine, as registries name them (linux/amd64, linux/arm64/v8 ...)."""
    machine = host_platform.machine().lower()
    arch, variant = {
        "x86_64": ("amd64", ""),
        "amd64": ("amd64", ""),
        "aarch64": ("arm64", ""),
        "arm64": ("arm64", ""),
        "armv7l": ("arm", "v7"),
        "armv6l": ("arm", "v6"),
        "i686": ("386", ""),
        "i386": ("386", ""),
        "ppc64le": ("ppc64le", ""),
        "s390x": ("s390x", ""),
        "riscv64": ("riscv64", ""),
    }.get(machine, (machine, ""))
    return Platform("linux", arch, variant)


def is_local(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in ("localhost", "127.0.0.1", "::1", "[::1]") or name.startswith("127.")
