"""The analysis of an image: dive's figures, and an honest waste model beside them.

The honest model ("layerscope waste"):
  * reclaimable bytes: every stored copy of a file except the one that ships in the final
    filesystem, whatever hid it: a later version of the same path (overwritten; "identical" when
    only metadata changed, as a chown or chmod rewrites), a whiteout of the file (deleted), a
    whiteout of a directory above it (deleted with its directory; dive counts none of these),
    an opaque directory (dive ignores those markers), or a different file type replacing it.
  * no zero-byte noise: directories, links and empty files never count.
  * the base image: its layers are recognised from the config history where the builder marks
    its own steps (BuildKit's `buildkit.dockerfile.v0`, buildah's `FROM <id>` comments), and
    named from the `org.opencontainers.image.base.name` annotation where present. Where the
    image records nothing, layer 0 is assumed to be the base, as dive does, and the model says so.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from .divecompat import DiveAnalysis
from .divecompat import analyse as dive_analyse
from .filetree import Cause, Change, FileTree, Version, build_file_tree, check_hardlinks
from .model import EntryKind, Image
from .oci import BASE_DIGEST, BASE_NAME


@dataclass(frozen=True, slots=True)
class BaseImage:
    layers: int
    """How many bottom layers belong to the base image."""
    source: str
    """How it was known: `buildkit history`, `buildah history` or `assumed (layer 0, as dive)`."""
    name: str = ""
    digest: str = ""


class WasteCause(enum.StrEnum):
    """Why a stored copy of a file does not ship; the values are the words reports and JSON use."""

    OVERWRITTEN = "overwritten"
    REWRITTEN_UNCHANGED = "rewritten unchanged"
    """Overwritten by the same content: only mode, owner or mtime changed (chown -R, chmod)."""
    DELETED = "deleted"
    DIRECTORY_DELETED = "deleted with its directory"
    OPAQUE = "hidden by an opaque directory"
    REPLACED = "replaced"
    """Replaced by another file type (a directory or a link where the file was)."""


@dataclass(frozen=True, slots=True)
class WastedCopy:
    """One stored copy of a file that does not ship."""

    layer: int
    size: int
    cause: WasteCause
    ended_by: int
    """The layer whose change hid this copy."""


@dataclass(frozen=True, slots=True)
class WastedFile:
    path: str
    copies: int
    """Stored copies of the file's bytes across layers (the shipped one included)."""
    total_bytes: int
    reclaimable_bytes: int
    causes: tuple[WasteCause, ...]
    layers: tuple[int, ...]
    """The layers that hold a copy."""
    wasted: tuple[WastedCopy, ...] = ()
    """Each copy that does not ship, oldest first."""


@dataclass(frozen=True, slots=True)
class WasteModel:
    reclaimable_bytes: int
    overwritten_bytes: int
    identical_rewrite_bytes: int
    """Part of overwritten_bytes whose content did not change (only mode, owner or mtime did)."""
    deleted_bytes: int
    directory_deleted_bytes: int
    opaque_hidden_bytes: int
    replaced_bytes: int
    efficiency: float
    """1 - reclaimable / total file bytes."""
    base: BaseImage
    user_size_bytes: int
    user_reclaimable_bytes: int
    user_wasted_percent: float
    files: tuple[WastedFile, ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    image: Image
    dive: DiveAnalysis
    waste: WasteModel
    tree: FileTree


def detect_base(image: Image) -> BaseImage:
    annotations = dict(image.annotations)
    name, digest = annotations.get(BASE_NAME, ""), annotations.get(BASE_DIGEST, "")
    marks: dict[str, Callable[[str], bool]] = {
        "buildkit history": lambda c: c == "buildkit.dockerfile.v0",
        "buildah history": lambda c: c.startswith("FROM "),
    }
    for source, marked in marks.items():
        if not any(marked(h.comment) for h in image.history):
            continue
        base_layers = 0
        for h in image.history:
            if marked(h.comment):
                break
            if not h.empty_layer:
                base_layers += 1
        return BaseImage(min(base_layers, len(image.layers)), source, name, digest)
    return BaseImage(min(1, len(image.layers)), "assumed (layer 0, as dive)", name, digest)


_CAUSE_FIELD = {
    Cause.WHITEOUT: WasteCause.DELETED,
    Cause.DIRECTORY_DELETED: WasteCause.DIRECTORY_DELETED,
    Cause.OPAQUE: WasteCause.OPAQUE,
    Cause.REPLACED: WasteCause.REPLACED,
}


def _ending(version: Version, following: Version) -> WasteCause:
    if following.change is Change.REMOVED:
        assert following.cause is not None
        return _CAUSE_FIELD[following.cause]
    entry, nxt = version.entry, following.entry
    if (
        entry is not None
        and nxt is not None
        and nxt.kind is EntryKind.FILE
        and nxt.content_hash == entry.content_hash
        and nxt.size == entry.size
    ):
        return WasteCause.REWRITTEN_UNCHANGED
    return WasteCause.OVERWRITTEN


def waste_model(image: Image, tree: FileTree) -> WasteModel:
    base = detect_base(image)
    totals = dict.fromkeys(WasteCause, 0)
    user_reclaimable = 0
    files: list[WastedFile] = []
    for path, versions in tree.versions.items():
        copies = [
            (i, v)
            for i, v in enumerate(versions)
            if v.entry is not None and v.entry.kind is EntryKind.FILE and v.entry.size
        ]
        if not copies or (len(copies) == 1 and copies[0][0] == len(versions) - 1):
            continue
        reclaim = 0
        causes: list[WasteCause] = []
        wasted: list[WastedCopy] = []
        for i, v in copies:
            if i == len(versions) - 1:
                continue  # the copy that ships
            why = _ending(v, versions[i + 1])
            size = v.entry.size if v.entry else 0
            totals[why] += size
            reclaim += size
            if v.layer >= base.layers:
                user_reclaimable += size
            if why not in causes:
                causes.append(why)
            wasted.append(WastedCopy(v.layer, size, why, versions[i + 1].layer))
        if reclaim:
            total = sum(v.entry.size for _, v in copies if v.entry)
            layers = tuple(v.layer for _, v in copies)
            files.append(
                WastedFile(
                    "/" + path, len(copies), total, reclaim, tuple(causes), layers, tuple(wasted)
                )
            )
    files.sort(key=lambda f: (-f.reclaimable_bytes, f.path))
    reclaimable = sum(totals.values())
    size = image.size
    user_size = sum(layer.size for layer in image.layers[base.layers :])
    return WasteModel(
        reclaimable_bytes=reclaimable,
        overwritten_bytes=totals[WasteCause.OVERWRITTEN] + totals[WasteCause.REWRITTEN_UNCHANGED],
        identical_rewrite_bytes=totals[WasteCause.REWRITTEN_UNCHANGED],
        deleted_bytes=totals[WasteCause.DELETED],
        directory_deleted_bytes=totals[WasteCause.DIRECTORY_DELETED],
        opaque_hidden_bytes=totals[WasteCause.OPAQUE],
        replaced_bytes=totals[WasteCause.REPLACED],
        efficiency=1.0 if size == 0 else 1 - reclaimable / size,
        base=base,
        user_size_bytes=user_size,
        user_reclaimable_bytes=user_reclaimable,
        user_wasted_percent=0.0 if user_size == 0 else user_reclaimable / user_size,
        files=tuple(files),
    )


def analyse(image: Image, tree: FileTree | None = None) -> Analysis:
    """The analysis of `image`; `tree` is its file tree when the caller built it already
    (applying each layer as it was read, see `loader.load_image`'s `on_layer`)."""
    if tree is None:
        # dive's figures first: their per-layer trees are freed before the file tree is built,
        # so the two never add up at the peak (1M entries: 1.1 GB -> 0.8 GB).
        dive = dive_analyse(image)
        tree = build_file_tree(image)
    else:
        tree.built()
        check_hardlinks(image, tree)
        dive = dive_analyse(image)
    return Analysis(image=image, dive=dive, waste=waste_model(image, tree), tree=tree)
