"""Secrets in the image's metadata: build arguments the history recorded, ENV values, labels.

A build argument used by a `RUN` is written into that layer's history for anyone to read:
BuildKit records `RUN |2 PIP_TRUSTED_HOST=pypi.org API_TOKEN=tok_... /bin/sh -c ...`, the
classic builder and buildah `|2 A=B C=D /bin/sh -c ...`; an `ARG NAME=default` records its
default. A value counts as secret when its name says so (`TOKEN`, `PASSWORD`, `SECRET`,
`API_KEY`, ...) or a secret detector recognises it (an AWS key, a URL with a password).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..model import HistoryEntry, Image
from .redact import Secret
from .secrets import SecretClass, SecretScanner, looks_secret

_SHELL = " /bin/sh -c "
_ARGS_HEAD = re.compile(r"^(?:RUN )?\|(\d+) ")
_ARG_NAME = re.compile(r"(?:^| )([A-Za-z_][A-Za-z0-9_]*)=")
_ARG_STEP = re.compile(r"^(?:/bin/sh -c #\(nop\) )?ARG ([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)


@dataclass(frozen=True, slots=True)
class MetaSecret:
    """A secret value in the image's metadata, and where it was recorded."""

    where: str
    """`build argument API_TOKEN`, `ENV DB_PASSWORD`, `label vendor.token`, `layer command`."""
    secret: Secret
    layer: int | None
    """The layer whose history records it; None for the config's ENV and labels."""
    history_index: int = -1
    by_name: bool = False
    """Recognised by its name alone (no detector matched the value)."""


def build_args(created_by: str) -> list[tuple[str, str]]:
    """The `NAME=value` build arguments a history command records, in order."""
    text = created_by.strip()
    head = _ARGS_HEAD.match(text)
    if head is None:
        step = _ARG_STEP.match(text)
        return [(step.group(1), step.group(2).strip())] if step else []
    count = int(head.group(1))
    rest = text[head.end() :]
    args_text = rest.partition(_SHELL)[0] if _SHELL in " " + rest else rest
    if rest.startswith("/bin/sh -c "):
        args_text = ""
    names = list(_ARG_NAME.finditer(args_text))
    out = []
    for i, m in enumerate(names[:count]):
        end = names[i + 1].start() if i + 1 < len(names) else len(args_text)
        out.append((m.group(1), args_text[m.end() : end].strip()))
    return out


def history_layers(image: Image) -> list[int | None]:
    """For each history entry, the layer it made (None for entries marked empty_layer)."""
    out: list[int | None] = []
    layer = 0
    for h in image.history:
        if h.empty_layer or layer >= len(image.layers):
            out.append(None)
        else:
            out.append(layer)
            layer += 1
    return out


def _is_secret(name: str, value: str, scanner: SecretScanner | None) -> tuple[list[Secret], bool]:
    """The secrets an assignment holds: the detectors' matches, else the whole value by name."""
    found = (
        [h.secret for h in scanner.scan(value.encode("utf-8", "surrogateescape"), "")]
        if (scanner is not None and value)
        else []
    )
    if found:
        return found, False
    if looks_secret(name, value, by_entropy=False):
        return [Secret(name.lower().replace("_", "-"), value.strip().strip("'\""))], True
    return [], False


def metadata_secrets(image: Image, scanner: SecretScanner | None) -> list[MetaSecret]:
    """Every secret the history, the ENV and the labels record (each value once per place)."""
    out: list[MetaSecret] = []
    layers = history_layers(image)
    for i, h in enumerate(image.history):
        out.extend(_history_secrets(h, i, layers[i], scanner))
    for entry in image.env:
        name, _, value = entry.partition("=")
        found, by_name = _is_secret(name, value, scanner)
        out.extend(MetaSecret(f"ENV {name}", s, None, -1, by_name) for s in found)
    for name, value in image.labels:
        found, by_name = _is_secret(name.rpartition(".")[2] or name, value, scanner)
        out.extend(MetaSecret(f"label {name}", s, None, -1, by_name) for s in found)
    return out


def _history_secrets(
    h: HistoryEntry, index: int, layer: int | None, scanner: SecretScanner | None
) -> Iterator[MetaSecret]:
    seen: set[str] = set()
    for name, value in build_args(h.created_by):
        found, by_name = _is_secret(name, value, scanner)
        for s in found:
            seen.add(s.value)
            kind = Secret(f"build-arg {name}", s.value) if by_name else s
            yield MetaSecret(f"build argument {name}", kind, layer, index, by_name)
    if scanner is None:
        return
    for hit in scanner.scan(h.created_by.encode("utf-8", "surrogateescape"), ""):
        if hit.secret.value not in seen and hit.cls is not SecretClass.KNOWN:
            yield MetaSecret("layer command", hit.secret, layer, index)


def runs_as_root(image: Image) -> bool:
    user = image.user.strip()
    name = user.partition(":")[0]
    return name in ("", "root", "0")
