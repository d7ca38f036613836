"""docker-archive: `manifest.json` + config + layer tars (docker save, buildah, podman, kaniko)."""

from __future__ import annotations

from functools import partial
from typing import Any

from ..errors import DigestMismatch, MalformedMetadata, SelectionError
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
        layers = item.get("Layers")
        if not isinstance(layers, list) or not all(isinstance(p, str) for p in layers):
            raise MalformedMetadata(f"{what}: image {i} has no 'Layers' list of names")
    return doc


def _tags(item: dict[str, Any]) -> list[str]:
    tags = item.get("RepoTags") or []
    if isinstance(tags, str):
        return [tags]  # a lone string, as some hand-made archives write it: one tag
    if not isinstance(tags, list):
        return []
    return [t for t in tags if isinstance(t, str)]


def _choose(store: Store, doc: list[dict[str, Any]], ref: str | None) -> tuple[dict[str, Any], str]:
    """The image asked for, or the first (as dive and `docker load` take it) and a note."""
    if ref is not None:
        found = [item for item in doc if any(ref_matches(ref, t) for t in _tags(item))]
        if not found:
            known = ", ".join(t for item in doc for t in _tags(item)) or "none"
            raise SelectionError(f"{store.label}: no image tagged {ref!r} (tags: {known})")
        return found[0], ""
    if len(doc) > 1:
        known = "; ".join(", ".join(_tags(item)) or f"image {i}" for i, item in enumerate(doc))
        first = ", ".join(_tags(doc[0])) or "image 0"
        how = "FILE:name:tag or --tag" if all(_tags(item) for item in doc) else "--platform"
        return doc[0], (
            f"{store.label}: holds {len(doc)} images; read the first, {first} "
            f"(choose with {how}: {known})"
        )
    return doc[0], ""


def _for_platform(
    store: Store, doc: list[dict[str, Any]], platform: Platform
) -> list[dict[str, Any]]:
    """The images of a multi-image archive whose config is for `platform`."""
    found = []
    for item in doc:
        what = f"{store.label}: config {item['Config']}"
        config = parse_config(load_json(store.read_bytes(item["Config"]), what), what)
        if config.platform is not None and platform.matches(config.platform):
            found.append(item)
    if not found:
        raise SelectionError(f"{store.label}: no image for {platform}")
    return found


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
    doc = _entries(store)
    if platform is not None and ref is None and len(doc) > 1:
        doc = _for_platform(store, doc, platform)
    item, note = _choose(store, doc, ref)
    config_name = item["Config"]
    config_what = f"{store.label}: config {config_name}"
    raw = store.read_bytes(config_name)
    warnings = [note] if note else []
    try:
        config_digest = verify_bytes(raw, digest_in_name(config_name), config_what)
    except DigestMismatch as exc:
        # The format promises no digest in this name: `docker load` and dive read such
        # archives (go-containerregistry's tarball testdata has one). diff_ids stay strict.
        config_digest = verify_bytes(raw, None, config_what)
        warnings.append(f"warning: {exc}; read anyway, as docker load does")
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
        warnings=tuple(warnings),
    )
