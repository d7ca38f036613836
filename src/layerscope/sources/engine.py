"""Images held by a local engine: the Docker engine API, or Podman's `image save`.

The engine writes the image as a docker-archive; it is spooled to a private temporary file
(removed when the process ends) and read like any archive, since the archive's members are not
in a streamable order (the manifest comes last). The viewer and extraction read that file again.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import httpx

from ..errors import ImageNotFound, RegistryError, SourceError
from ..model import Platform
from .archive import spec_from_path
from .spec import ImageSpec

_SPOOLED: list[Path] = []


@atexit.register
def _remove_spooled() -> None:
    for path in _SPOOLED:
        shutil.rmtree(path, ignore_errors=True)


def _spool_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="layerscope-"))
    _SPOOLED.append(path)
    return path


def docker_host(env: Mapping[str, str] | None = None) -> str:
    """DOCKER_HOST, else the current docker context's endpoint, else the default socket."""
    env = os.environ if env is None else env
    if env.get("DOCKER_HOST"):
        return env["DOCKER_HOST"]
    config_dir = Path(
        env.get("DOCKER_CONFIG") or Path(env.get("HOME", str(Path.home()))) / ".docker"
    )
    context = env.get("DOCKER_CONTEXT")
    if not context:
        try:
            context = json.loads((config_dir / "config.json").read_text()).get("currentContext")
        except (OSError, ValueError, AttributeError):
            context = None
    if context and context != "default":
        meta = config_dir / "contexts" / "meta" / hashlib.sha256(context.encode()).hexdigest()
        try:
            host = json.loads((meta / "meta.json").read_text())["Endpoints"]["docker"]["Host"]
            return str(host)
        except (OSError, ValueError, KeyError, TypeError):
            raise SourceError(f"docker context {context!r}: no endpoint in {meta}") from None
    return "unix:///var/run/docker.sock"


class DockerEngine:
    def __init__(self, host: str) -> None:
        self.host = host
        self.socket: str | None = None
        if host.startswith("unix://"):
            self.socket = host.removeprefix("unix://")
            transport = httpx.HTTPTransport(uds=self.socket)
            self.base = "http://docker"
        elif host.startswith(("tcp://", "http://")):
            transport = httpx.HTTPTransport()
            self.base = "http://" + host.split("://", 1)[1]
        else:
            raise SourceError(f"{host}: unsupported DOCKER_HOST (unix:// or tcp://)")
        self.http = httpx.Client(transport=transport, timeout=httpx.Timeout(60.0, connect=5.0))

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, stream: bool = False) -> httpx.Response:
        if self.socket is not None and not os.path.exists(self.socket):
            # Checked here: httpcore leaks the socket of a failed unix connect.
            raise RegistryError(f"docker engine at {self.host}: no such socket")
        try:
            request = self.http.build_request("GET", self.base + path)
            return self.http.send(request, stream=stream)
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"docker engine at {self.host}: unreachable ({type(exc).__name__})"
            ) from None

    def has(self, name: str) -> bool:
        response = self._get(f"/images/{quote(name, safe='')}/json")
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise RegistryError(
                f"docker engine at {self.host}: answered {response.status_code} for {name}"
            )
        return True

    def tagged(self) -> list[str]:
        """Every `name:tag` the engine holds."""
        response = self._get("/images/json")
        if response.status_code != 200:
            raise RegistryError(
                f"docker engine at {self.host}: listing images answered {response.status_code}"
            )
        try:
            images = response.json()
        except ValueError:
            raise RegistryError(f"docker engine at {self.host}: listing images: bad JSON") from None
        return [
            str(tag)
            for image in images
            if isinstance(image, dict)
            for tag in image.get("RepoTags") or []
            if tag != "<none>:<none>"
        ]

    def save(self, name: str, dest: Path) -> None:
        if not self.has(name):
            raise ImageNotFound(f"docker://{name}: no such image in the engine at {self.host}")
        response = self._get(f"/images/{quote(name, safe='')}/get", stream=True)
        try:
            if response.status_code != 200:
                raise RegistryError(
                    f"docker engine at {self.host}: save {name} answered {response.status_code}"
                )
            with dest.open("wb") as fh:
                for chunk in response.iter_bytes(1 << 20):
                    fh.write(chunk)
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"docker engine at {self.host}: save {name} broke off ({type(exc).__name__})"
            ) from None
        finally:
            response.close()


def docker_spec(name: str, platform: Platform | None, host: str | None = None) -> ImageSpec:
    engine = DockerEngine(host or docker_host())
    dest = _spool_dir() / "image.tar"
    try:
        engine.save(name, dest)
    finally:
        engine.close()
    spec = spec_from_path(dest, f"docker://{name}", None, platform)
    return _relabel(spec, f"docker://{name}", f"docker engine ({spec.format})")


def podman_spec(name: str, platform: Platform | None) -> ImageSpec:
    podman = shutil.which("podman")
    if podman is None:
        raise SourceError(f"podman://{name}: podman is not installed")
    dest = _spool_dir() / "image.tar"
    proc = subprocess.run(
        [podman, "image", "save", "--format", "docker-archive", "-o", str(dest), name],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        if "not known" in detail or "no such image" in detail.lower():
            raise ImageNotFound(f"podman://{name}: no such image in podman's storage")
        raise RegistryError(f"podman://{name}: podman image save failed ({detail})")
    spec = spec_from_path(dest, f"podman://{name}", None, platform)
    return _relabel(spec, f"podman://{name}", f"podman ({spec.format})")


def _relabel(spec: ImageSpec, source: str, fmt: str) -> ImageSpec:
    return replace(spec, source=source, format=fmt)
