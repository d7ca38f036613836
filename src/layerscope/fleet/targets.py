"""What to scan, as image references: a registry's catalog, a file of references, a directory
of archives, or every image of a Docker or Podman engine.

    registry://HOST[:PORT]    /v2/_catalog (paginated by `Link`), then each repository's tags
    FILE (--from)             one reference per line; blank lines and `#` comments skipped
    DIR                       every image archive or OCI layout in it (not recursive)
    docker:// | podman://     every tagged image the engine holds
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ConfigError, ImageNotFound, SourceError
from ..sources.credentials import from_docker_config
from ..sources.reference import RegistryRef

PAGE = 100
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".oci", ".oci-archive")


@dataclass(frozen=True, slots=True)
class TagChoice:
    """`latest`, `all`, or the N newest (by the image config's `created`) of each repository."""

    mode: str
    newest: int = 0

    @classmethod
    def parse(cls, text: str) -> TagChoice:
        if text in ("latest", "all"):
            return cls(text)
        if text.isdigit() and int(text) > 0:
            return cls("newest", int(text))
        raise ConfigError(f"--tags {text!r}: expected latest, all or a number of newest tags")


def _next(response_link: str | None) -> str | None:
    if not response_link:
        return None
    found = _LINK_NEXT.search(response_link)
    if found is None:
        return None
    parts = urlsplit(found.group(1))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _paged(
    host: str, repository: str, path: str, key: str, *, insecure: bool, page: int,
    scope: str | None = None,
) -> Iterator[str]:  # fmt: skip
    from ..sources.registry import RegistryClient  # noqa: PLC0415  (httpx only when used)

    ref = RegistryRef(host, repository, None, None)
    client = RegistryClient(ref, from_docker_config(host), insecure, scope=scope)
    try:
        url: str | None = f"{path}?n={page}"
        while url is not None:
            doc, response = client.get_json(url, path)
            values = doc.get(key) or []
            if not isinstance(values, list):
                raise SourceError(f"registry://{host}{path}: {key!r} is not a list")
            yield from (str(v) for v in values)
            url = _next(response.headers.get("Link"))
    finally:
        client.close()


def repositories(host: str, insecure: bool = False, page: int = PAGE) -> list[str]:
    scope = "registry:catalog:*"
    pages = _paged(host, "catalog", "/v2/_catalog", "repositories", insecure=insecure, page=page,
                   scope=scope)  # fmt: skip
    return list(pages)


def tags(host: str, repository: str, insecure: bool = False, page: int = PAGE) -> list[str]:
    path = f"/v2/{repository}/tags/list"
    return list(_paged(host, repository, path, "tags", insecure=insecure, page=page))


def registry_targets(
    host: str, repo_filter: str, choice: TagChoice, insecure: bool = False, page: int = PAGE
) -> list[str]:
    """`registry://HOST/REPO:TAG` for every repository matching the glob, and its chosen tags.

    For `newest`, every tag is listed: the scan's plan reads each config's date and keeps the
    N newest per repository.
    """
    refs: list[str] = []
    for repo in repositories(host, insecure, page):
        if not fnmatch.fnmatchcase(repo, repo_filter):
            continue
        found = tags(host, repo, insecure, page)
        if choice.mode == "latest":
            found = [t for t in found if t == "latest"]
        refs.extend(f"registry://{host}/{repo}:{t}" for t in sorted(found))
    return refs


def from_file(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ImageNotFound(f"{path}: cannot read the list of images ({exc.strerror})") from None
    return [s for line in text.splitlines() if (s := line.strip()) and not s.startswith("#")]


def from_directory(path: Path) -> list[str]:
    """Archives (`*.tar`, `*.tar.gz` ...) and OCI layout directories, in name order."""
    found = []
    for entry in sorted(path.iterdir()):
        layout = entry.is_dir() and (entry / "index.json").is_file()
        if layout or (entry.is_file() and entry.name.endswith(_ARCHIVE_SUFFIXES)):
            found.append(str(entry))
    return found


def engine_targets(scheme: str) -> list[str]:
    """`docker://NAME:TAG` or `podman://NAME:TAG` for every tagged image of the engine."""
    if scheme == "docker":
        from ..sources.engine import DockerEngine, docker_host  # noqa: PLC0415

        engine = DockerEngine(docker_host())
        try:
            names = engine.tagged()
        finally:
            engine.close()
    else:
        podman = shutil.which("podman")
        if podman is None:
            raise SourceError("podman://: podman is not installed")
        proc = subprocess.run(
            [podman, "images", "--format", "json"], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise SourceError(f"podman://: podman images failed ({proc.stderr.strip()[-200:]})")
        names = [n for image in json.loads(proc.stdout or "[]") for n in image.get("Names") or []]
    return [f"{scheme}://{n}" for n in sorted(set(names)) if not n.endswith(":<none>")]
