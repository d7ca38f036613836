"""What every source hands the loader: the image's metadata and where its layer blobs are."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import DigestMismatch
from ..model import BlobRef
from ..oci import ImageConfig, new_hasher

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class ImageSpec:
    source: str
    format: str
    name: str
    config_digest: str
    config: ImageConfig
    blobs: tuple[BlobRef, ...]
    repo_tags: tuple[str, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    release: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    """Closes what the blobs are read through (a registry connection pool), when there is one."""
    warnings: tuple[str, ...] = ()
    """What the user should know about how the image was read (a leniency, a choice made)."""

    def close(self) -> None:
        if self.release is not None:
            self.release()


def verify_bytes(data: bytes, expected: str | None, what: str) -> str:
    """Check small metadata blobs (manifests, configs) against their recorded digest, whatever
    its algorithm; the sha256 of `data` is returned."""
    actual = "sha256:" + hashlib.sha256(data).hexdigest()
    if expected:
        hasher = new_hasher(expected, what)
        hasher.update(data)
        found = f"{hasher.name}:{hasher.hexdigest()}"
        if found != expected:
            raise DigestMismatch(
                f"{what}: digest mismatch: the content is {found}, but it is recorded as {expected}"
            )
    return actual


def digest_in_name(name: str) -> str | None:
    """The sha256 a member name encodes (`<hex>.tar`, `<hex>.json`, `sha256:<hex>`, blobs/...)."""
    base = name.rsplit("/", 1)[-1]
    if name.startswith("blobs/sha256/") and _HEX64.match(base):
        return "sha256:" + base
    if "/" in name:
        return None  # legacy `<v1id>/layer.tar`: the directory is not a content digest
    for suffix in (".tar.gz", ".tgz", ".tar", ".json"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    base = base.removeprefix("sha256:")
    return "sha256:" + base if _HEX64.match(base) else None


def normalize_ref(ref: str) -> str:
    """`docker.io/library/x` == `x`; a missing tag means `latest`."""
    name, at, digest = ref.partition("@")
    for prefix in ("docker.io/", "index.docker.io/", "localhost/"):
        name = name.removeprefix(prefix)
    name = name.removeprefix("library/")
    if ":" not in name.rsplit("/", 1)[-1] and not at:
        name += ":latest"
    return name + at + digest


def ref_matches(wanted: str, recorded: str) -> bool:
    if wanted == recorded or normalize_ref(wanted) == normalize_ref(recorded):
        return True
    # An OCI layout's ref.name may hold just the tag ("1" or "latest").
    if "/" not in recorded and ":" not in recorded:
        return wanted.rsplit(":", 1)[-1] == recorded if ":" in wanted else wanted == recorded
    return False
