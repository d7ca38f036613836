"""From what the user typed to an ImageSpec: archives, engines, registries and bare names.

PATH, PATH:name:tag, docker-archive://PATH, oci-archive://PATH ...   a file or directory
docker://NAME                      the Docker engine (DOCKER_HOST, docker context, socket)
podman://NAME                      Podman's storage
registry://HOST[:PORT]/REPO[:TAG|@DIGEST]   a registry, no daemon
NAME (no such path)                the Docker engine if it has it, else the registry
-                                  an archive piped in on stdin, maybe gzip or zstd compressed
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ImageNotFound, RegistryError, SourceError
from ..model import Platform
from . import ARCHIVE_SCHEMES, LIVE_SCHEMES
from .archive import STDIN, spec_from_path, spec_from_stdin
from .credentials import Credentials, from_docker_config
from .reference import parse_reference
from .spec import ImageSpec

# engine and registry import httpx, whose package import pulls in rich and pygments (its CLI):
# they are imported where a live source is used, so archive and CI runs stay light.


@dataclass(frozen=True, slots=True)
class Request:
    image: str
    source: str | None = None
    tag: str | None = None
    platform: Platform | None = None
    credentials: Credentials | None = None
    insecure: bool = False


def split_archive(rest: str) -> tuple[Path, str | None] | None:
    """(path, tag) from `PATH` or `PATH:name:tag` when that path is there, else None.

    A dangling symlink or a symlink loop counts as there, so that it is named as such.
    """
    if os.path.lexists(rest):
        return Path(rest), None
    for i, ch in enumerate(rest):
        if ch == ":" and i and os.path.lexists(rest[:i]):
            return Path(rest[:i]), rest[i + 1 :] or None
    return None


def open_spec(req: Request, note: Callable[[str], None] = lambda _: None) -> ImageSpec:
    scheme, sep, rest = req.image.partition("://")
    if not sep:
        scheme, rest = req.source or "", req.image
    if scheme and scheme not in (*ARCHIVE_SCHEMES, *LIVE_SCHEMES):
        raise SourceError(f"{req.image}: unknown source {scheme!r}")
    if scheme == "docker":
        from .engine import docker_spec  # noqa: PLC0415

        return docker_spec(rest, req.platform)
    if scheme == "podman":
        from .engine import podman_spec  # noqa: PLC0415

        return podman_spec(rest, req.platform)
    if scheme == "registry":
        return _registry(rest, req)
    if rest == STDIN:
        return spec_from_stdin(f"{scheme or 'archive'}://stdin", req.tag, req.platform)
    found = split_archive(rest)
    if found is not None:
        path, tag = found
        label = req.image if sep else f"{scheme or 'archive'}://{path}"
        return spec_from_path(path, label, req.tag or tag, req.platform)
    if scheme or _looks_like_path(rest):
        raise ImageNotFound(f"{rest}: no such file or directory")
    return _bare_name(rest, req, note)


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", "./", "../", "~")) or text.endswith(
        (".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst")
    )


def _registry(rest: str, req: Request) -> ImageSpec:
    from .registry import RegistryClient, registry_spec  # noqa: PLC0415

    ref = parse_reference(rest)
    creds = req.credentials or from_docker_config(ref.host)
    client = RegistryClient(ref, creds, req.insecure)
    try:
        return registry_spec(client, f"registry://{ref}", req.platform)
    except BaseException:
        client.close()
        raise


def _bare_name(name: str, req: Request, note: Callable[[str], None]) -> ImageSpec:
    try:
        ref = parse_reference(name)
    except SourceError:
        raise ImageNotFound(f"{name}: no such file or directory, nor an image name") from None
    from .engine import DockerEngine, docker_host, docker_spec  # noqa: PLC0415

    host = docker_host()
    try:
        engine = DockerEngine(host)
        try:
            in_engine = engine.has(name)
        finally:
            engine.close()
    except (RegistryError, SourceError):
        in_engine = False  # no engine here: go to the registry
    if in_engine:
        note(f"{name}: from the Docker engine at {host}")
        return docker_spec(name, req.platform, host)
    note(f"{name}: not in a local engine; from registry://{ref}")
    return _registry(str(ref), req)
