"""docker-archive: `manifest.json` + config + layer tars (docker save, buildah, podman, kaniko)."""

from __future__ import annotations

from functools import partial
from typing import Any

from ..errors import MalformedMetadata, SelectionError
from ..model import BlobRef, Platform
from ..oci import load_json, parse_config
from .spec import ImageSpec, digest_in_name, ref_matches, verify_bytes
from .store import Store


def _entries(store: Store) -> list[dict[str, Any]]:
    what = f"{store.label}: manifest.json"
    doc = load_json(store.read_bytes("manifest.json"), what)
    if not isinstance(doc, list) or not doc:
        raise MalformedMetadata(f"{what}: expected a non-empty list of images")
    for i, item in enumerate(doc):
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
            raise MalformedMetadata(f"{what}: image {i} has no 'Config'")
        if not isinstance(item.get("Layers"), list):
            raise MalformedMetadata(f"{what}: image {i} has no 'Layers' list")
    return doc


def _tags(item: dict[str, Any]) -> list[str]:
    tags = item.get("RepoTags") or []
    return [t for t in tags if isinstance(t, str)]


def _choose(store: Store, doc: list[dict[str, Any]], ref: str | None) -> dict[str, Any]:
    if ref is not None:
        found = [item for item in doc if any(ref_matches(ref, t) for t in _tags(item))]
        if not found:
            known = ", ".join(t for item in doc for t in _tags(item)) or "none"
            raise SelectionError(f"{store.label}: no image tagged {ref!r} (tags: {known})")
        return found[0]
    if len(doc) > 1:
        known = "; ".join(", ".join(_tags(item)) or f"image {i}" for i, item in enumerate(doc))
        raise SelectionError(
            f"{store.label}: holds {len(doc)} images, choose one with FILE:name:tag ({known})"
        )
    return doc[0]


def _variant(layers: list[str]) -> str:
    if any(p.startswith("blobs/") for p in layers):
        return "docker-archive (Docker 25+ save with OCI layout)"
    if any(p.endswith((".tar.gz", ".tgz")) for p in layers):
        return "docker-archive (kaniko)"
    if any(p.endswith("/layer.tar") for p in layers):
        return "docker-archive (legacy docker save)"
    return "docker-archive (buildah/podman/skopeo)"


def spec_from_docker_archive(
    store: Store, source: str, ref: str | None, platform: Platform | None
) -> ImageSpec:
    item = _choose(store, _entries(store), ref)
    config_name = item["Config"]
    config_what = f"{store.label}: config {config_name}"
    raw = store.read_bytes(config_name)
    config_digest = verify_bytes(raw, digest_in_name(config_name), config_what)
    config = parse_config(load_json(raw, config_what), config_what)
    if platform is not None and (config.platform is None or not platform.matches(config.platform)):
        raise SelectionError(
            f"{store.label}: the image is {config.platform or 'of unknown platform'}, "
            f"not {platform}"
        )
    layers = [str(p) for p in item["Layers"]]
    if len(layers) != len(config.diff_ids):
        raise MalformedMetadata(
            f"{config_what}: {len(config.diff_ids)} diff_ids for {len(layers)} layers"
        )
    blobs = []
    for i, path in enumerate(layers):
        digest = digest_in_name(path)
        blobs.append(
            BlobRef(
                what=f"{store.label}: layer {i} ({path})",
                tar_name=path,
                media_type=None,
                digest=digest,
                size=None,
                diff_id=config.diff_ids[i],
                open_chunks=partial(store.chunks, path),
            )
        )
    tags = _tags(item)
    return ImageSpec(
        source=source,
        format=_variant(layers),
        name=(ref or (tags[0] if tags else store.label)),
        config_digest=config_digest,
        config=config,
        blobs=tuple(blobs),
        repo_tags=tuple(tags),
    )
