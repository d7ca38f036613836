"""Sensitive files by name (`.env`, `id_rsa`, `.git-credentials`, a `.git/` directory) and by
shape (a name that may hold credentials, and content that does: `.npmrc` with an auth token).

Names are checked on the file tree alone (no file data); shapes need the file's bytes and are
checked during the content scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Severity

_KEY_NAMES = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"}
)
_CREDENTIAL_FILES = {
    ".git-credentials": "git credentials store",
    ".netrc": "netrc (logins and passwords)",
    "_netrc": "netrc (logins and passwords)",
    ".pgpass": "PostgreSQL password file",
    ".my.cnf": "MySQL client options (may hold a password)",
    "credentials.json": "credentials file",
    "service-account.json": "cloud service account key",
}
_KEYSTORE_EXT = (".p12", ".pfx", ".jks", ".keystore", ".ppk")
_EXAMPLE = re.compile(r"(?i)(?:\.(?:example|sample|template|dist|tmpl|tpl|defaults?)$|example)")
_TEST_OR_DOC = re.compile(
    r"(?:^|/)(?:tests?|testdata|test_data|fixtures?|examples?|samples?|docs?)/"
    r"|^usr/share/(?:doc|man|info|common-licenses)/"
    r"|\.(?:dist|egg)-info/(?:METADATA|PKG-INFO|DESCRIPTION\.rst)$"
    r"|(?:^|/)(?:README|CHANGELOG|CHANGES|HISTORY)[^/]*$"
)


@dataclass(frozen=True, slots=True)
class NameMatch:
    what: str
    """What the file is (`SSH private key`, `environment file`)."""
    severity: Severity


def is_example(path: str) -> bool:
    """A file named or placed as an example, a template, a test fixture or documentation
    (including a Python package's description, which is its README)."""
    clean = path.lstrip("/")
    name = clean.rpartition("/")[2]
    return bool(_EXAMPLE.search(name) or _TEST_OR_DOC.search(clean))


_ENDINGS = (
    ".env",
    *_KEY_NAMES,
    *_CREDENTIAL_FILES,
    "/credentials",
    *_KEYSTORE_EXT,
)


def may_match(path: str) -> bool:
    """A fast test (C string methods only) that `name_match` or `git_directory` may say yes."""
    return (
        path.endswith(_ENDINGS)
        or "/.env." in path
        or path.startswith((".env.", ".git"))
        or "/.git" in path
    )


def name_match(path: str) -> NameMatch | None:
    """Whether a file's name alone makes it sensitive (clean path, no leading /)."""
    parts = path.split("/")
    name = parts[-1]
    parent = parts[-2] if len(parts) > 1 else ""
    found: NameMatch | None = None
    if name == ".env" or name.startswith(".env."):
        found = NameMatch("environment file (often holds credentials)", Severity.MEDIUM)
    elif name in _KEY_NAMES:
        found = NameMatch("SSH private key", Severity.HIGH)
    elif name in _CREDENTIAL_FILES:
        found = NameMatch(_CREDENTIAL_FILES[name], Severity.HIGH)
    elif name == "credentials" and parent == ".aws":
        found = NameMatch("AWS credentials file", Severity.HIGH)
    elif name.endswith(_KEYSTORE_EXT):
        found = NameMatch("key store (may hold private keys)", Severity.MEDIUM)
    if found is not None and is_example(path):
        return NameMatch(found.what + ", an example or test file", Severity.INFO)
    return found


def git_directory(path: str) -> str | None:
    """The `.git` directory a path is in or is (`srv/app/.git`), else None."""
    head, sep, _ = path.partition("/.git/")
    if sep:
        return head + "/.git"
    if path == ".git" or path.endswith("/.git"):
        return path
    if path.startswith(".git/"):
        return ".git"
    return None


_SHAPES: tuple[tuple[str, re.Pattern[str], re.Pattern[bytes], str], ...] = (
    (
        ".npmrc",
        re.compile(r"(?:^|/)\.npmrc$"),
        re.compile(rb"(?m)^\s*(?://\S*:)?_(?:authToken|auth|password)\s*=\s*\S"),
        ".npmrc with a registry auth token or password",
    ),
    (
        ".pypirc",
        re.compile(r"(?:^|/)\.pypirc$"),
        re.compile(rb"(?m)^\s*password\s*[=:]\s*\S"),
        ".pypirc with a password",
    ),
    (
        "docker config",
        re.compile(r"(?:^|/)\.docker/config\.json$|(?:^|/)\.dockercfg$"),
        re.compile(rb'"auths?"\s*:\s*\{[^}]*"auth"\s*:\s*"[A-Za-z0-9+/=]{8,}"'),
        "Docker config with registry credentials (auths)",
    ),
    (
        "kubeconfig",
        re.compile(r"(?:^|/)\.kube/config$|(?:^|/)kubeconfig(?:\.ya?ml)?$"),
        re.compile(rb"(?m)^\s*(?:client-key-data|token|password)\s*:\s*\S"),
        "kubeconfig with a client key, token or password",
    ),
    (
        "netrc",
        re.compile(r"(?:^|/)[._]netrc$"),
        re.compile(rb"\bpassword\s+\S"),
        "netrc with a password",
    ),
    (
        "git credentials",
        re.compile(r"(?:^|/)\.git-credentials$"),
        re.compile(rb"://[^\s:/@]+:[^\s@]+@"),
        "git credentials store with a password",
    ),
)


_SHAPE_ENDINGS = (
    ".npmrc",
    ".pypirc",
    "config.json",
    ".dockercfg",
    "/config",
    "kubeconfig",
    ".yaml",
    ".yml",
    "netrc",
    ".git-credentials",
)


def shape_of(path: str, data: bytes) -> str:
    """Why a file's name and content make it a credentials file; empty when they do not."""
    if not path.endswith(_SHAPE_ENDINGS):
        return ""
    for _, name, content, what in _SHAPES:
        if name.search(path) and content.search(data):
            return what
    return ""
