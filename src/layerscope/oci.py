"""OCI and Docker image JSON (index, manifest, config) -> model values; platform matching."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .errors import MalformedMetadata
from .model import Descriptor, HistoryEntry, Platform

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
IMAGE_CONFIG_TYPES = frozenset(
    {"application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"}
)
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"
STARGZ_TOC = "containerd.io/snapshot/stargz/toc.digest"
DOCKER_REFERENCE_TYPE = "vnd.docker.reference.type"


def load_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedMetadata(f"{what}: invalid JSON ({exc})") from None
    except RecursionError:
        raise MalformedMetadata(f"{what}: JSON nested too deep to be image metadata") from None


# OCI descriptor.md "Registered Algorithms" (sha512 too), and sha384 that Go's digest knows.
_ALGORITHMS = {"sha256": 64, "sha384": 96, "sha512": 128}


def new_hasher(digest: str, what: str) -> hashlib._Hash:
    """A hasher for the algorithm `digest` names; an unknown or malformed digest is an error."""
    algo, _, hexpart = digest.partition(":")
    length = _ALGORITHMS.get(algo)
    if length is None:
        raise MalformedMetadata(f"{what}: unsupported digest algorithm in {digest[:80]!r}")
    if len(hexpart) != length or hexpart.strip("0123456789abcdef"):
        raise MalformedMetadata(f"{what}: {digest[:80]!r} is not a valid {algo} digest")
    return hashlib.new(algo)


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedMetadata(f"{what}: expected a JSON object")
    return value


def _str(doc: dict[str, Any], key: str, what: str, default: str | None = None) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str):
        raise MalformedMetadata(f"{what}: {key!r} is missing or not a string")
    return value


def parse_platform(value: Any) -> Platform | None:
    if not isinstance(value, dict):
        return None
    os_, arch = value.get("os"), value.get("architecture")
    if not isinstance(os_, str) or not isinstance(arch, str):
        return None
    variant = value.get("variant")
    return Platform(os_, arch, variant if isinstance(variant, str) else "")


def parse_descriptor(value: Any, what: str) -> Descriptor:
    doc = _obj(value, what)
    size = doc.get("size")
    annotations = doc.get("annotations") or {}
    if not isinstance(annotations, dict):
        raise MalformedMetadata(f"{what}: descriptor annotations are not an object")
    return Descriptor(
        media_type=_str(doc, "mediaType", what, ""),
        digest=_str(doc, "digest", what),
        size=size if isinstance(size, int) else -1,
        annotations=tuple(sorted((str(k), str(v)) for k, v in annotations.items())),
        platform=parse_platform(doc.get("platform")),
    )


def parse_index(value: Any, what: str) -> list[Descriptor]:
    doc = _obj(value, what)
    manifests = doc.get("manifests")
    if manifests is None:
        return []  # docker save by digest wrote "manifests": null (moby#47210)
    if not isinstance(manifests, list):
        raise MalformedMetadata(f"{what}: 'manifests' is not a list")
    return [parse_descriptor(m, f"{what} manifests[{i}]") for i, m in enumerate(manifests)]


@dataclass(frozen=True, slots=True)
class Manifest:
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: tuple[tuple[str, str], ...]


def parse_manifest(value: Any, what: str) -> Manifest:
    doc = _obj(value, what)
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise MalformedMetadata(f"{what}: 'layers' is missing or not a list")
    annotations = doc.get("annotations") or {}
    return Manifest(
        config=parse_descriptor(doc.get("config"), f"{what} config"),
        layers=tuple(parse_descriptor(x, f"{what} layers[{i}]") for i, x in enumerate(layers)),
        annotations=tuple(sorted((str(k), str(v)) for k, v in dict(annotations).items())),
    )


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    """What a container starts with (the config's `config` object)."""

    user: str = ""
    """`USER` as written (`app`, `1000:1000`); empty means root."""
    env: tuple[str, ...] = ()
    """`NAME=value` entries, in order."""
    labels: tuple[tuple[str, str], ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(e for e in value if isinstance(e, str)) if isinstance(value, list) else ()


def parse_runtime(value: Any) -> RuntimeConfig:
    """The `config` object of an image config; odd values are ignored (it is informational)."""
    if not isinstance(value, dict):
        return RuntimeConfig()
    user, labels, workdir = value.get("User"), value.get("Labels"), value.get("WorkingDir")
    return RuntimeConfig(
        user=user if isinstance(user, str) else "",
        env=_strings(value.get("Env")),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items()))
        if isinstance(labels, dict)
        else (),
        entrypoint=_strings(value.get("Entrypoint")),
        cmd=_strings(value.get("Cmd")),
        working_dir=workdir if isinstance(workdir, str) else "",
    )


@dataclass(frozen=True, slots=True)
class ImageConfig:
    diff_ids: tuple[str, ...]
    history: tuple[HistoryEntry, ...]
    platform: Platform | None
    created: str
    runtime: RuntimeConfig = RuntimeConfig()


def parse_config(value: Any, what: str) -> ImageConfig:
    doc = _obj(value, what)
    rootfs = doc.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids"), list):
        raise MalformedMetadata(f"{what}: no rootfs.diff_ids (not an image config)")
    diff_ids = rootfs["diff_ids"]
    if not all(isinstance(d, str) and ":" in d for d in diff_ids):
        raise MalformedMetadata(f"{what}: rootfs.diff_ids holds a value that is not a digest")
    history_raw = doc.get("history") or []
    if not isinstance(history_raw, list):
        raise MalformedMetadata(f"{what}: 'history' is not a list")
    history = []
    for i, item in enumerate(history_raw):
        h = _obj(item, f"{what} history[{i}]")
        history.append(
            HistoryEntry(
                created_by=str(h.get("created_by", "")),
                created=str(h.get("created", "")),
                comment=str(h.get("comment", "")),
                empty_layer=bool(h.get("empty_layer", False)),
            )
        )
    created = doc.get("created")
    return ImageConfig(
        diff_ids=tuple(diff_ids),
        history=tuple(history),
        platform=parse_platform(doc),
        created=created if isinstance(created, str) else "",
        runtime=parse_runtime(doc.get("config")),
    )


MISSING_HISTORY = HistoryEntry(created_by="(missing)")


def layer_history(history: tuple[HistoryEntry, ...], count: int) -> list[HistoryEntry]:
    """The history entry of each layer: the k-th entry not marked empty_layer is layer k."""
    non_empty = [h for h in history if not h.empty_layer]
    return [non_empty[i] if i < len(non_empty) else MISSING_HISTORY for i in range(count)]


def is_attestation(desc: Descriptor) -> bool:
    if desc.annotation(DOCKER_REFERENCE_TYPE) == "attestation-manifest":
        return True
    p = desc.platform
    return p is not None and p.os == "unknown" and p.architecture == "unknown"


def blob_path(digest: str, what: str) -> str:
    algo, sep, hexpart = digest.partition(":")
    if not sep or not algo.isalnum() or not hexpart.isalnum():
        raise MalformedMetadata(f"{what}: {digest[:80]!r} is not a valid digest")
    new_hasher(digest, what)  # an algorithm that cannot be verified is refused up front
    return f"blobs/{algo}/{hexpart}"
