"""JSON export: dive's schema, plus layerscope's fields beside it; written atomically.

dive consumers read `layer[]` and `image` exactly as dive writes them. layerscope adds fields
that dive lacks (camelCase, like dive's): per layer `blobDigest`, `mediaType`,
`compressedSizeBytes`, `createdAt`, `empty`; per image `userWastedPercent`, `userSizeBytes`,
`compressedSizeBytes`, `name`, `format`, `platform`, `configDigest`; and a `layerscope` object
with `schemaVersion` and the honest waste model. NaN and infinity are written as null.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .analysis import Analysis
from .divecompat import file_list
from .errors import OutputError

SCHEMA_VERSION = 1


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _layer(analysis: Analysis, index: int) -> dict[str, Any]:
    layer = analysis.image.layers[index]
    return {
        "index": layer.index,
        "id": layer.tar_name.split("/")[0],  # dive: first path component ("blobs" for OCI)
        "digestId": layer.diff_id,
        "sizeBytes": layer.size,
        "command": layer.command,
        "fileList": file_list(layer.entries),
        "blobDigest": layer.blob_digest,
        "mediaType": layer.media_type,
        "compressedSizeBytes": layer.compressed_size,
        "createdAt": layer.history.created,
        "empty": layer.is_empty,
    }


def _waste(analysis: Analysis) -> dict[str, Any]:
    w = analysis.waste
    return {
        "reclaimableBytes": w.reclaimable_bytes,
        "overwrittenBytes": w.overwritten_bytes,
        "identicalRewriteBytes": w.identical_rewrite_bytes,
        "deletedBytes": w.deleted_bytes,
        "directoryDeletedBytes": w.directory_deleted_bytes,
        "opaqueHiddenBytes": w.opaque_hidden_bytes,
        "replacedBytes": w.replaced_bytes,
        "efficiency": w.efficiency,
        "userSizeBytes": w.user_size_bytes,
        "userReclaimableBytes": w.user_reclaimable_bytes,
        "userWastedPercent": w.user_wasted_percent,
        "baseImage": {
            "layers": w.base.layers,
            "source": w.base.source,
            "name": w.base.name,
            "digest": w.base.digest,
        },
        "files": [
            {
                "path": f.path,
                "copies": f.copies,
                "totalBytes": f.total_bytes,
                "reclaimableBytes": f.reclaimable_bytes,
                "causes": [c.value for c in f.causes],
                "layers": list(f.layers),
            }
            for f in w.files
        ],
    }


def to_document(
    analysis: Analysis,
    ci: dict[str, Any] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """dive's document plus `layerscope.*`; `extensions` are more `layerscope` keys, from the
    capabilities above the core (findings, packages ...), each already JSON-ready."""
    image, dive = analysis.image, analysis.dive
    doc: dict[str, Any] = {
        "layer": [_layer(analysis, i) for i in range(len(image.layers))],
        "image": {
            "sizeBytes": dive.size_bytes,
            "inefficientBytes": dive.wasted_bytes,
            "efficiencyScore": dive.efficiency,
            "fileReference": [
                {"count": f.count, "sizeBytes": f.cumulative_size, "file": f.path}
                for f in dive.inefficient_files
            ],
            "userWastedPercent": _finite(dive.user_wasted_percent),
            "userSizeBytes": dive.user_size_bytes,
            "compressedSizeBytes": image.compressed_size,
            "name": image.name,
            "format": image.format,
            "platform": str(image.platform) if image.platform else None,
            "configDigest": image.config_digest,
        },
        "layerscope": {"schemaVersion": SCHEMA_VERSION, "waste": _waste(analysis)},
    }
    if ci is not None:
        doc["layerscope"]["ci"] = ci
    for key, value in (extensions or {}).items():
        doc["layerscope"][key] = value
    return doc


_UNDECODABLE = re.compile("[\udc80-\udcff]")


def _escape_undecodable(text: str) -> str:
    """Names that are not UTF-8 (kept as surrogate escapes) written as `\\udcXX` escapes, so
    the file stays valid UTF-8 JSON; Python's json reads them back to the same names."""
    return _UNDECODABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def write_json(doc: dict[str, Any], target: str) -> None:
    """Write to `target` (`-` is stdout) all at once: a failure leaves no partial file."""
    text = _escape_undecodable(json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False))
    write_text(text + "\n", target)


def write_text(text: str, target: str) -> None:
    """Write `text` to `target` (`-` is stdout) all at once: a failure leaves no partial file."""
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(os.path.realpath(target))  # write through a symlink, as open() would
    if path.exists() and not path.is_file():
        # A device or fifo (`--json /dev/null`, `--json /dev/stdout`): replacing it with a
        # regular file would break it for everyone; write to it directly.
        _write_direct(path, text, target)
        return
    directory = path.parent
    if not directory.is_dir():
        raise OutputError(f"{target}: directory {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as open() would have created it
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{target}: cannot write ({exc.strerror})") from None


def _write_direct(path: Path, text: str, target: str) -> None:
    try:
        with path.open("w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(text)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write ({exc.strerror})") from None
