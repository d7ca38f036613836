"""Secret values never leave layerscope in full: their redacted form, and scrubbing text of them.

A redacted value says what it is, how it starts, how long it is and a short hash to tell two
apart: `aws-secret-key 'mAX5…' (40 chars, #3f2a9c)`. Only the first 4 characters are shown, and
fewer for short values (a quarter of the length), so the value cannot be read back.

Once a value is known to be a secret, `Redactor.scrub` removes it from any text (layer commands,
finding titles), and `redacted_analysis` gives a copy of an analysis whose history commands are
scrubbed, so the summary, the JSON and the explorer show only the redacted form.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace

from ..analysis import Analysis
from ..model import HistoryEntry

SCRUB_MIN_LENGTH = 6
"""Shorter values are not scrubbed from free text: "app" or "1234" would erase ordinary words."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret value found somewhere, and what kind it is; `str()` is always the redacted form."""

    kind: str
    """E.g. `aws-access-key-id`, `private-key`, `github-token`, `build-arg API_TOKEN`."""
    value: str

    def __str__(self) -> str:
        return redact(self.value, self.kind)

    def __repr__(self) -> str:
        return f"Secret({self})"

    @property
    def fingerprint(self) -> str:
        """A short hash of the value: the same secret seen twice has the same fingerprint."""
        return fingerprint(self.value)


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:6]


def shown_prefix(value: str) -> str:
    """The characters a redacted form shows: 4, or a quarter of a value shorter than 16."""
    body = value
    if body.startswith("-----BEGIN"):
        # A PEM block: its header says nothing about the key; show the base64 body's start.
        body = re.sub(r"-----[A-Z0-9 ]+-----|\\n|\s", "", value) or value
    return body[: min(4, len(value) // 4)]


def redact(value: str, kind: str) -> str:
    return f"{kind} '{shown_prefix(value)}…' ({len(value)} chars, #{fingerprint(value)})"


class Redactor:
    """Every secret value known so far; scrubs them out of text, longest first."""

    def __init__(self) -> None:
        self._secrets: dict[str, Secret] = {}
        self._pattern: re.Pattern[str] | None = None

    def add(self, secret: Secret) -> None:
        if secret.value and secret.value not in self._secrets:
            self._secrets[secret.value] = secret
            self._pattern = None

    def add_all(self, secrets: list[Secret] | tuple[Secret, ...]) -> None:
        for s in secrets:
            self.add(s)

    @property
    def secrets(self) -> tuple[Secret, ...]:
        return tuple(self._secrets.values())

    def __len__(self) -> int:
        return len(self._secrets)

    def scrub(self, text: str) -> str:
        """`text` with every known secret value replaced by its redacted form."""
        if not text:
            return text
        if self._pattern is None:
            values = sorted(
                (v for v in self._secrets if len(v) >= SCRUB_MIN_LENGTH), key=len, reverse=True
            )
            if not values:
                return text
            self._pattern = re.compile("|".join(re.escape(v) for v in values))
        return self._pattern.sub(lambda m: f"<{self._secrets[m.group(0)]}>", text)


def _scrub_history(entry: HistoryEntry, redactor: Redactor) -> HistoryEntry:
    scrubbed = redactor.scrub(entry.created_by)
    return entry if scrubbed == entry.created_by else replace(entry, created_by=scrubbed)


def redacted_analysis(analysis: Analysis, redactor: Redactor) -> Analysis:
    """A copy of `analysis` whose layer commands (the history) hold no known secret value.

    Only the history is copied; the file tree, the waste model and dive's figures are shared.
    """
    if not len(redactor):
        return analysis
    image = analysis.image
    layers = tuple(
        replace(layer, history=_scrub_history(layer.history, redactor)) for layer in image.layers
    )
    history = tuple(_scrub_history(h, redactor) for h in image.history)
    env = tuple(redactor.scrub(e) for e in image.env)
    labels = tuple((k, redactor.scrub(v)) for k, v in image.labels)
    return replace(
        analysis, image=replace(image, layers=layers, history=history, env=env, labels=labels)
    )
