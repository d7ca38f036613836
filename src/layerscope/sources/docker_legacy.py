"""The pre-manifest `docker save` format of Docker before 1.10: no manifest.json.

    repositories          {"repo": {"tag": "<top layer id>"}}
    <id>/json             a v1 image: id, parent, created, container_config.Cmd, os ...
    <id>/layer.tar        that layer's changes (every build step made one, often empty)

The layers are the `parent` chain from the tagged id down to the base. The format records no
content digest for them, so there is nothing to verify: their diff_ids are computed as read.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from ..errors import MalformedMetadata, SelectionError
from ..model import BlobRef, HistoryEntry, Platform
from ..oci import ImageConfig, load_json, parse_platform
from .spec import ImageSpec, ref_matches, verify_bytes
from .store import Store

_ID = re.compile(r"^[0-9a-f]{64}$")
_MAX_LAYERS = 10_000


def _tags(store: Store) -> list[tuple[str, str]]:
    """(name:tag, top layer id) for each tag `repositories` records, in its order."""
    what = f"{store.label}: repositories"
    doc = load_json(store.read_bytes("repositories"), what)
    if not isinstance(doc, dict):
        raise MalformedMetadata(f"{what}: expected an object of repositories")
    found = []
    for repo, tags in doc.items():
        if not isinstance(tags, dict):
            raise MalformedMetadata(f"{what}: {repo!r} does not map tags to ids")
        for tag, top in tags.items():
            if not isinstance(top, str) or not _ID.match(top):
                raise MalformedMetadata(f"{what}: {repo}:{tag} names no valid image id")
            found.append((f"{repo}:{tag}", top))
    if not found:
        raise MalformedMetadata(f"{what}: names no image")
    return found


def _v1(store: Store, layer_id: str) -> dict[str, Any]:
    what = f"{store.label}: {layer_id}/json"
    doc = load_json(store.read_bytes(f"{layer_id}/json"), what)
    if not isinstance(doc, dict):
        raise MalformedMetadata(f"{what}: expected a JSON object")
    return doc


def _chain(store: Store, top: str) -> list[tuple[str, dict[str, Any]]]:
    """(id, v1 json) from the base layer up to `top`, following `parent`."""
    chain: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    layer_id: str | None = top
    while layer_id:
        if layer_id in seen or len(chain) >= _MAX_LAYERS:
            raise MalformedMetadata(f"{store.label}: {layer_id}/json: the parent chain loops")
        seen.add(layer_id)
        doc = _v1(store, layer_id)
        chain.append((layer_id, doc))
        parent = doc.get("parent")
        if parent is not None and (not isinstance(parent, str) or not _ID.match(parent)):
            raise MalformedMetadata(f"{store.label}: {layer_id}/json: 'parent' is not an id")
        layer_id = parent
    chain.reverse()
    return chain


def _history(doc: dict[str, Any]) -> HistoryEntry:
    cfg = doc.get("container_config")
    cmd = cfg.get("Cmd") if isinstance(cfg, dict) else None
    created_by = " ".join(str(c) for c in cmd) if isinstance(cmd, list) else ""
    created = doc.get("created")
    comment = doc.get("comment")
    return HistoryEntry(
        created_by=created_by,
        created=created if isinstance(created, str) else "",
        comment=comment if isinstance(comment, str) else "",
    )


def _choose(store: Store, tags: list[tuple[str, str]], ref: str | None) -> tuple[str, str, str]:
    """(name, top id, a note when several images were there and the first was taken)."""
    if ref is not None:
        for name, top in tags:
            if ref_matches(ref, name):
                return name, top, ""
        known = ", ".join(name for name, _ in tags)
        raise SelectionError(f"{store.label}: no image tagged {ref!r} (tags: {known})")
    name, top = tags[0]
    others = {t for _, t in tags if t != top}
    note = ""
    if others:
        listing = ", ".join(n for n, _ in tags)
        note = (
            f"{store.label}: holds {len(others) + 1} images; read the first, {name} "
            f"(choose with FILE:name:tag or --tag: {listing})"
        )
    return name, top, note


def spec_from_legacy(
    store: Store, source: str, ref: str | None, platform: Platform | None
) -> ImageSpec:
    name, top, note = _choose(store, _tags(store), ref)
    chain = _chain(store, top)
    top_doc = chain[-1][1]
    found = parse_platform(top_doc)
    if platform is not None and (found is None or not platform.matches(found)):
        raise SelectionError(f"{store.label}: the image is {found or 'of unknown platform'}")
    blobs = tuple(
        BlobRef(
            what=f"{store.label}: layer {i} ({layer_id}/layer.tar)",
            tar_name=f"{layer_id}/layer.tar",
            media_type=None,
            digest=None,
            size=None,
            diff_id=None,
            open_chunks=partial(store.chunks, f"{layer_id}/layer.tar"),
        )
        for i, (layer_id, _) in enumerate(chain)
    )
    created = top_doc.get("created")
    config = ImageConfig(
        diff_ids=(),
        history=tuple(_history(doc) for _, doc in chain),
        platform=found,
        created=created if isinstance(created, str) else "",
    )
    return ImageSpec(
        source=source,
        format="docker-archive (pre-1.10 docker save, no manifest.json)",
        name=name,
        config_digest=verify_bytes(store.read_bytes(f"{top}/json"), None, name),
        config=config,
        blobs=blobs,
        repo_tags=tuple(n for n, t in _tags(store) if t == top),
        warnings=(note,) if note else (),
    )
