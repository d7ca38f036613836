"""OCI image layout (a directory or a tar): index.json -> (nested index) -> manifest -> config."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from ..errors import MalformedMetadata, MissingBlob, NotAnImage, SelectionError
from ..model import BlobRef, Descriptor, Platform
from ..oci import (
    CONTAINERD_NAME,
    IMAGE_CONFIG_TYPES,
    INDEX_TYPES,
    MANIFEST_TYPES,
    REF_NAME,
    STARGZ_TOC,
    blob_path,
    is_attestation,
    load_json,
    parse_config,
    parse_index,
    parse_manifest,
)
from .spec import ImageSpec, ref_matches, verify_bytes
from .store import Store

_MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class _Candidate:
    descriptor: Descriptor
    ref_name: str | None
    platform: Platform | None


def _read_blob(store: Store, desc: Descriptor, what: str) -> bytes:
    data = store.read_bytes(blob_path(desc.digest, what))
    verify_bytes(data, desc.digest, f"{what} ({desc.digest})")
    return data


def _candidates(store: Store) -> list[_Candidate]:
    """Every image manifest the index reaches, in order; each index blob is read once, so
    loops and fan-out (one index listed a thousand times) cost nothing."""
    what = f"{store.label}: index.json"
    top = parse_index(load_json(store.read_bytes("index.json"), what), what)
    found: list[_Candidate] = []
    seen: set[str] = set()
    todo = [(d, d.annotation(REF_NAME) or d.annotation(CONTAINERD_NAME), 0) for d in top]
    while todo:
        desc, ref_name, depth = todo.pop(0)
        if is_attestation(desc):
            continue
        if desc.media_type in INDEX_TYPES:
            if desc.digest in seen:
                continue
            seen.add(desc.digest)
            nested_what = f"{store.label}: index {desc.digest}"
            if depth >= _MAX_DEPTH:
                raise MalformedMetadata(f"{nested_what}: indexes nested deeper than {_MAX_DEPTH}")
            nested = parse_index(
                load_json(_read_blob(store, desc, nested_what), nested_what), nested_what
            )
            todo.extend((d, d.annotation(REF_NAME) or ref_name, depth + 1) for d in nested)
        elif desc.media_type in MANIFEST_TYPES or not desc.media_type:
            key = f"{desc.digest} {ref_name} {desc.platform}"
            if key not in seen:
                seen.add(key)
                found.append(_Candidate(desc, ref_name, desc.platform))
        # other media types (artifacts, unknown) are skipped: image-index.md
    return found


def _describe(c: _Candidate) -> str:
    return (
        " ".join(x for x in (c.ref_name, str(c.platform) if c.platform else None) if x)
        or (c.descriptor.digest[:19])
    )


def _choose(
    store: Store, found: list[_Candidate], ref: str | None, platform: Platform | None
) -> tuple[_Candidate, str]:
    """The image asked for (or the first) and a note when others were there to choose from."""
    if not found:
        raise NotAnImage(f"{store.label}: index.json names no image manifest")
    if ref is not None:
        named = [c for c in found if c.ref_name and ref_matches(ref, c.ref_name)]
        if not named:
            known = ", ".join(sorted({c.ref_name for c in found if c.ref_name})) or "none"
            raise SelectionError(f"{store.label}: no image named {ref!r} (names: {known})")
        found = named
    if platform is not None:
        matching = [c for c in found if c.platform is None or platform.matches(c.platform)]
        if not matching:
            known = ", ".join(sorted({str(c.platform) for c in found if c.platform}))
            raise SelectionError(f"{store.label}: no image for {platform} (platforms: {known})")
        found = matching
    platforms = {c.platform for c in found}
    refs = {c.ref_name for c in found}
    if len(found) > 1 and (len(platforms) > 1 or len(refs) > 1):
        # As dive and `docker load` do, the first; said on stderr with how to choose.
        listing = "; ".join(_describe(c) for c in found)
        hint = " or ".join(
            h
            for h, differ in (
                ("FILE:name:tag or --tag", len(refs) > 1),
                ("--platform", len(platforms) > 1),
            )
            if differ
        )
        note = (
            f"{store.label}: holds {len(found)} images; read the first, {_describe(found[0])} "
            f"(choose with {hint}: {listing})"
        )
        return found[0], note
    return found[0], ""  # "the first matching entry SHOULD be used" (image-index.md)


def spec_from_oci_layout(
    store: Store, source: str, ref: str | None, platform: Platform | None
) -> ImageSpec:
    chosen, note = _choose(store, _candidates(store), ref, platform)
    mwhat = f"{store.label}: manifest {chosen.descriptor.digest}"
    manifest = parse_manifest(load_json(_read_blob(store, chosen.descriptor, mwhat), mwhat), mwhat)
    if manifest.config.media_type and manifest.config.media_type not in IMAGE_CONFIG_TYPES:
        raise NotAnImage(f"{mwhat}: an artifact ({manifest.config.media_type}), not an image")
    cwhat = f"{store.label}: config {manifest.config.digest}"
    raw_config = _read_blob(store, manifest.config, cwhat)
    config = parse_config(load_json(raw_config, cwhat), cwhat)
    if platform is not None and config.platform and not platform.matches(config.platform):
        raise SelectionError(f"{cwhat}: the image is {config.platform}, not {platform}")
    if len(manifest.layers) != len(config.diff_ids):
        raise MalformedMetadata(
            f"{cwhat}: {len(config.diff_ids)} diff_ids for {len(manifest.layers)} layers"
        )
    blobs = []
    for i, desc in enumerate(manifest.layers):
        path = blob_path(desc.digest, mwhat)
        if not store.has(path):
            raise MissingBlob(f"{store.label}: layer {i} blob {desc.digest} is missing")
        blobs.append(
            BlobRef(
                what=f"{store.label}: layer {i} ({desc.digest})",
                tar_name=path,
                media_type=desc.media_type or None,
                digest=desc.digest,
                size=desc.size if desc.size >= 0 else None,
                diff_id=config.diff_ids[i],
                open_chunks=partial(store.chunks, path),
                stargz=desc.annotation(STARGZ_TOC) is not None,
            )
        )
    name = chosen.ref_name or ref or store.label
    return ImageSpec(
        source=source,
        format="oci-layout",
        name=name,
        config_digest=manifest.config.digest,
        config=config,
        blobs=tuple(blobs),
        repo_tags=(chosen.ref_name,) if chosen.ref_name else (),
        annotations=manifest.annotations,
        warnings=(note,) if note else (),
    )
