"""Registry credentials: options, or the Docker config file and its credential helpers.

A `Credentials` never shows its secret: not in repr, not in errors, not in the cache.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    secret: str = field(repr=False)
    """A password, or an identity token when `username` is `<token>`."""


def _config_path(env: Mapping[str, str]) -> Path:
    base = env.get("DOCKER_CONFIG")
    if base:
        return Path(base) / "config.json"
    return Path(env.get("HOME", str(Path.home()))) / ".docker" / "config.json"


def _keys(host: str) -> list[str]:
    keys = [host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/"]
    if host in ("docker.io", "registry-1.docker.io"):
        keys += ["https://index.docker.io/v1/", "index.docker.io", "docker.io"]
    return keys


def from_docker_config(host: str, env: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials for `host` from `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`)."""
    env = os.environ if env is None else env
    path = _config_path(env)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the Docker config ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: the Docker config is not a JSON object")
    helpers = doc.get("credHelpers") or {}
    for key in _keys(host):
        if isinstance(helpers, dict) and key in helpers:
            return _from_helper(str(helpers[key]), key, path)
    auths = doc.get("auths") or {}
    for key in _keys(host):
        entry = auths.get(key) if isinstance(auths, dict) else None
        if isinstance(entry, dict):
            found = _from_auth_entry(entry, key, path)
            if found is not None:
                return found
    store = doc.get("credsStore")
    if isinstance(store, str) and store:
        return _from_helper(store, host, path)
    return None


def _from_auth_entry(entry: dict[str, object], key: str, path: Path) -> Credentials | None:
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return Credentials("<token>", token)
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, password = base64.b64decode(auth).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ConfigError(f"{path}: auths[{key!r}].auth is not base64 user:password") from None
        if not sep:
            raise ConfigError(f"{path}: auths[{key!r}].auth is not base64 user:password")
        return Credentials(user, password)
    name, word = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(word, str):
        return Credentials(name, word)
    return None


def _from_helper(helper: str, server: str, path: Path) -> Credentials | None:
    import subprocess  # noqa: PLC0415  (only for credential helpers)

    program = f"docker-credential-{helper}"
    try:
        proc = subprocess.run(
            [program, "get"], input=server, capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        raise ConfigError(f"{path}: credential helper {program} is not installed") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{path}: credential helper {program} did not answer") from None
    if proc.returncode != 0:
        return None  # "credentials not found in native keychain": anonymous, as docker does
    try:
        doc = json.loads(proc.stdout)
        return Credentials(str(doc["Username"]), str(doc["Secret"]))
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"{path}: credential helper {program} gave no Username/Secret") from None
