"""Secrets in text: private keys, cloud keys, tokens, passwords in URLs and connection strings.

The detectors are detect-secrets' (Yelp, Apache-2.0) where it has one: AWS key ids, private key
headers, GitHub, GitLab, Slack, npm, PyPI, Stripe, OpenAI and Azure storage keys, JWTs, basic-auth
URLs. Added here what it lacks: the whole PEM/OpenSSH block (so the key, not its header, is
what gets redacted; also in `.env` files that hold it on one line with `\\n`), an unquoted AWS
secret access key (`AWS_SECRET_ACCESS_KEY=...` as `.env` files write it), GitHub fine-grained
and npm automation tokens, connection strings with `Password=`, and high-entropy or
secret-named assignments in `.env`-style files.

Speed: a file is first searched for literal anchors with an Aho-Corasick automaton (one pass,
hundreds of MB/s); the regular expressions then run only over the lines around an anchor.
"""

from __future__ import annotations

import base64
import enum
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Protocol

from .redact import Secret

if TYPE_CHECKING:
    import ahocorasick_rs


class SecretClass(enum.Enum):
    """Which rule a detected value belongs to."""

    PRIVATE_KEY = "private key"
    CLOUD_KEY = "cloud credentials"
    TOKEN = "access token"
    PASSWORD = "password in a URL or connection string"
    ASSIGNMENT = "secret assignment in an environment file"
    KNOWN = "a value known to be secret"


@dataclass(frozen=True, slots=True)
class Hit:
    secret: Secret
    cls: SecretClass
    line: int
    """1-based line number of the value's start."""


class _Detector(Protocol):
    @property
    def denylist(self) -> Iterable[re.Pattern[str]]: ...


_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_.+/=-]*")
_PEM = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK|)-----"
    r"((?:\\n|\\r|[\sA-Za-z0-9+/=:,.()-]){40,12000}?)"
    r"-----END \1PRIVATE KEY\2-----"
)
_PUTTY = re.compile(r"PuTTY-User-Key-File-\d: [^\n]*\n(?:[^\n]*\n){0,60}?Private-MAC: [0-9a-f]+")
_AWS_SECRET = re.compile(
    r"(?i)aws.{0,20}?(?:secret|sk).{0,20}?[=:]\s*['\"]?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)
_EXTRA_TOKENS = (
    ("github-token", re.compile(r"github_pat_[A-Za-z0-9_]{82}")),
    ("npm-token", re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])")),
)
_CONNECTION = re.compile(
    r"(?i)(?:^|[;\"'\s])(?:password|pwd)\s*=\s*([^;'\"\s{}$%<>]{3,})\s*(?=;|$|['\"])"
)
_CONNECTION_CONTEXT = re.compile(r"(?i)(?:server|host|data source|user id|uid|database)\s*=")
_PLACEHOLDER = re.compile(
    r"(?i)^(?:\$.*|%.*|<.*|\{.*|\*+|x+|\.+|_+|-+|pass(?:word|wd)?|secret|pwd|changeme|example|"
    r"foo|bar|baz|test|user(?:name)?|token|none|null|\?+|your.*|my.*|dummy.*|fake.*)$"
)
_EXAMPLE_VALUE = re.compile(r"EXAMPLE|example|XXXXXXXX")
_PLAIN_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^@\s]*$")
"""A URL without credentials in it: an endpoint, not a secret."""
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")
SECRET_NAME = re.compile(
    r"(?i)(?:^|[^a-z])(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|"
    r"private[_-]?key|credentials?|auth|session[_-]?key|signing[_-]?key|client[_-]?key)s?"
    r"(?![a-z])"
)
NOT_SECRET_NAME = re.compile(
    r"(?i)(?:public|gpg|pgp|fingerprint|checksum|sha\d*|md5|_file$|_path$|_dir$|_id$|_url$|"
    r"_host$|_user(?:name)?$|_type$|_len(?:gth)?$|_ttl$|_expir\w*$|_enabled$|_mode$|keyring)"
)

_ANCHORS = (
    b"PRIVATE KEY",
    b"PuTTY-User-Key-File",
    b"AKIA",
    b"ASIA",
    b"ABIA",
    b"ACCA",
    b"A3T",
    b"ghp_",
    b"gho_",
    b"ghu_",
    b"ghs_",
    b"ghr_",
    b"github_pat_",
    b"glpat-",
    b"gldt-",
    b"glft-",
    b"glsoat-",
    b"glrt-",
    b"glcbt-",
    b"glimt-",
    b"glptt-",
    b"glagent-",
    b"gloas-",
    b"GR1348941",
    b"xox",
    b"hooks.slack.com",
    b"npm_",
    b"_authToken",
    b"pypi-AgE",
    b"eyJ",
    b"k_live_",
    b"T3BlbkFJ",
    b"AccountKey=",
    b"://",
    b"ecret",
    b"ECRET",
    b"assword",
    b"ASSWORD",
    b"pwd",
    b"Pwd",
    b"PWD",
)


@cache
def _library() -> tuple[tuple[str, SecretClass, _Detector], ...]:
    """detect-secrets' detectors this scanner uses, with the kind and class each reports."""
    from detect_secrets.plugins.aws import AWSKeyDetector  # noqa: PLC0415
    from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector  # noqa: PLC0415
    from detect_secrets.plugins.basic_auth import BasicAuthDetector  # noqa: PLC0415
    from detect_secrets.plugins.github_token import GitHubTokenDetector  # noqa: PLC0415
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector  # noqa: PLC0415
    from detect_secrets.plugins.jwt import JwtTokenDetector  # noqa: PLC0415
    from detect_secrets.plugins.npm import NpmDetector  # noqa: PLC0415
    from detect_secrets.plugins.openai import OpenAIDetector  # noqa: PLC0415
    from detect_secrets.plugins.pypi_token import PypiTokenDetector  # noqa: PLC0415
    from detect_secrets.plugins.slack import SlackDetector  # noqa: PLC0415
    from detect_secrets.plugins.stripe import StripeDetector  # noqa: PLC0415

    return (
        ("aws-access-key-id", SecretClass.CLOUD_KEY, AWSKeyDetector()),
        ("azure-storage-key", SecretClass.CLOUD_KEY, AzureStorageKeyDetector()),
        ("github-token", SecretClass.TOKEN, GitHubTokenDetector()),
        ("gitlab-token", SecretClass.TOKEN, GitLabTokenDetector()),
        ("slack-token", SecretClass.TOKEN, SlackDetector()),
        ("npm-token", SecretClass.TOKEN, NpmDetector()),
        ("pypi-token", SecretClass.TOKEN, PypiTokenDetector()),
        ("stripe-key", SecretClass.TOKEN, StripeDetector()),
        ("openai-key", SecretClass.TOKEN, OpenAIDetector()),
        ("jwt", SecretClass.TOKEN, JwtTokenDetector()),
        ("password-in-url", SecretClass.PASSWORD, BasicAuthDetector()),
    )


def library_available() -> bool:
    """True when the detector libraries (the `security` extra) are installed."""
    try:
        import ahocorasick_rs  # noqa: F401, PLC0415
        import detect_secrets  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


class SecretScanner:
    """Finds secrets in file contents; `known` are values already known to be secret."""

    def __init__(self, known: Iterable[Secret] = ()) -> None:
        import ahocorasick_rs  # noqa: PLC0415  (the `security` extra, loaded only when scanning)

        self._known = {s.value: s for s in known if len(s.value) >= 8}
        anchors = list(_ANCHORS) + [v.encode("utf-8", "surrogateescape") for v in self._known]
        self._anchors: ahocorasick_rs.BytesAhoCorasick = ahocorasick_rs.BytesAhoCorasick(anchors)
        self._library = _library()

    def scan(self, data: bytes, path: str) -> list[Hit]:
        """The secrets in `data` (a text file's bytes), each value once, in file order."""
        env_file = is_env_file(path)
        marks = self._anchors.find_matches_as_indexes(data)
        if not marks and not env_file:
            return []
        found: dict[str, Hit] = {}
        for start in sorted({data.rfind(b"\n", 0, at) + 1 for _, at, _ in marks}):
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else min(end, start + 8192)
            line = data[start:end].decode("utf-8", "surrogateescape")
            number = 0
            for secret, cls in self._line_hits(line, data, start):
                number = number or data.count(b"\n", 0, start) + 1
                found.setdefault(secret.value, Hit(secret, cls, number))
        if env_file:
            text = data.decode("utf-8", "surrogateescape")
            for hit in env_assignments(text):
                value = hit.secret.value
                if not any(value in known or known in value for known in found):
                    found.setdefault(value, hit)
        return sorted(found.values(), key=lambda h: h.line)

    def _line_hits(
        self, line: str, data: bytes, start: int
    ) -> Iterator[tuple[Secret, SecretClass]]:
        if "PRIVATE KEY" in line or "PuTTY-User-Key" in line:
            window = data[start : start + 20000].decode("utf-8", "surrogateescape")
            yield from ((s, SecretClass.PRIVATE_KEY) for s in private_keys(window))
        for kind, cls, detector in self._library:
            for value in _library_matches(kind, detector, line):
                if _plausible(value):
                    yield Secret(kind, value), cls
        for m in _AWS_SECRET.finditer(line):
            if _plausible(m.group(1)):
                yield Secret("aws-secret-access-key", m.group(1)), SecretClass.CLOUD_KEY
        for kind, pattern in _EXTRA_TOKENS:
            for m in pattern.finditer(line):
                yield Secret(kind, m.group(0)), SecretClass.TOKEN
        if _CONNECTION_CONTEXT.search(line):
            for m in _CONNECTION.finditer(line):
                if _plausible(m.group(1)):
                    yield Secret("connection-string-password", m.group(1)), SecretClass.PASSWORD
        for value, secret in self._known.items():
            if value in line:
                yield secret, SecretClass.KNOWN


def private_keys(window: str) -> Iterator[Secret]:
    """Whole PEM, OpenSSH and PuTTY private key blocks starting on the first line of `window`."""
    first_line_end = window.find("\n")
    for m in _PEM.finditer(window):
        if first_line_end >= 0 and m.start() > first_line_end:
            break  # a block starting on a later line is found from its own anchor
        body = re.sub(r"\\[nr]|\s", "", m.group(3))
        if len(body) >= 40 and not body.startswith("..."):
            label = (m.group(1) or "").strip().lower().replace(" ", "-")
            yield Secret(f"{label}-private-key" if label else "private-key", m.group(0))
    for m in _PUTTY.finditer(window):
        yield Secret("putty-private-key", m.group(0))
        break


_GROUP_KINDS = frozenset({"password-in-url", "npm-token"})
"""Detectors whose pattern captures the secret itself; the others capture only a prefix."""


def _library_matches(kind: str, detector: _Detector, line: str) -> Iterator[str]:
    """The values a detect-secrets detector's patterns match in `line`, whole."""
    for i, pattern in enumerate(detector.denylist):
        for m in pattern.finditer(line):
            if kind in _GROUP_KINDS and m.lastindex:
                value = next((g for g in m.groups() if g), m.group(0))
            elif kind == "aws-access-key-id" and i > 0:
                continue  # its quoted-secret pattern: `_AWS_SECRET` reads those, quoted or not
            else:
                value = m.group(0)
            if kind != "jwt":
                yield value
            elif _jwt_header(token := _whole_token(line, value)):
                yield token
        if kind == "jwt":
            break


def _jwt_header(token: str) -> bool:
    """A JWT's first part is a JSON header naming its algorithm (`{"alg": "HS256", ...}`);
    other signed blobs that start with `eyJ` (itsdangerous, JSON in base64) are not JWTs."""
    head = token.partition(".")[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(decoded, dict) and "alg" in decoded and token.count(".") == 2


def _whole_token(line: str, value: str) -> str:
    at = line.find(value)
    if at < 0:
        return value
    m = _TOKEN_CHARS.match(line, at)
    return m.group(0).rstrip(".") if m else value


def _plausible(value: str) -> bool:
    """Not a placeholder, a variable reference or a documented example value."""
    value = value.strip()
    return (
        len(value) >= 3
        and not _PLACEHOLDER.match(value)
        and not _EXAMPLE_VALUE.search(value)
        and "${" not in value
    )


def is_env_file(path: str) -> bool:
    """`.env`, `.env.production`, `app.env`: dotenv-style files of NAME=value lines."""
    name = path.rpartition("/")[2]
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def secret_named(name: str) -> bool:
    """A variable name that says it holds a secret (`API_TOKEN`, `DB_PASSWORD`), not metadata."""
    return bool(SECRET_NAME.search(name)) and not NOT_SECRET_NAME.search(name)


def looks_secret(name: str, value: str, by_entropy: bool = True) -> bool:
    """An assignment whose value is a secret: named like one, or (`by_entropy`) long and random."""
    value = value.strip().strip("'\"")
    if not _plausible(value) or value.lower() in ("true", "false", "yes", "no", "on", "off"):
        return False
    if value.isdigit() or value.startswith(("/", "./", "~/")) or _PLAIN_URL.match(value):
        return False
    if secret_named(name) and len(value) >= 6:
        return True
    return by_entropy and len(value) >= 16 and " " not in value and entropy(value) >= 3.5


def env_assignments(text: str) -> Iterator[Hit]:
    """`NAME=value` lines of a dotenv file whose value looks secret."""
    for number, line in enumerate(text.split("\n"), start=1):
        m = _ENV_LINE.match(line)
        if m is None or line.lstrip().startswith("#"):
            continue
        name, value = m.group(1), m.group(2).strip().strip("'\"")
        if looks_secret(name, value):
            yield Hit(Secret(f"env-assignment {name}", value), SecretClass.ASSIGNMENT, number)


def scan_text(text: str, scanner: SecretScanner, path: str = "") -> list[Hit]:
    """Secrets in a short text (a history command, an ENV value): the same detectors."""
    return scanner.scan(text.encode("utf-8", "surrogateescape"), path)
