"""npm devDependencies that ship in the final image (`npm ci` without `--omit=dev`).

The one waste rule that reads file contents: each `package.json` beside a `node_modules`
directory of the final image names the project's devDependencies; the files of those packages
under that `node_modules` are the finding. It runs before the waste producer, so
`engine.collect` gives their bytes to this rule, not to a generic one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from ..model import readable_command
from ..session import OpenedImage
from ..units import human_bytes
from .engine import Options
from .model import Finding, PathRef, PathState
from .wasterules import DEV_DEPS

MANIFEST_LIMIT = 1 << 20


def _dev_names(opened: OpenedImage, manifest: str) -> list[str]:
    last = len(opened.image.layers) - 1
    data, _ = opened.read_file(manifest, last, limit=MANIFEST_LIMIT)
    try:
        doc = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        return []
    dev = doc.get("devDependencies") if isinstance(doc, dict) else None
    return sorted(dev) if isinstance(dev, dict) else []


def produce(opened: OpenedImage, options: Options) -> Iterator[Finding]:
    """An `engine.Producer`: one finding per project whose devDependencies ship."""
    tree = opened.analysis.tree
    projects = sorted({p.rpartition("node_modules/")[0] for p in tree.live if "node_modules/" in p})
    for root in projects:
        manifest = f"{root}package.json"
        if root.count("node_modules/") or manifest not in tree.live:
            continue
        names = _dev_names(opened, manifest)
        prefixes = tuple(f"{root}node_modules/{n}/" for n in names)
        if not prefixes:
            continue
        paths = [
            PathRef("/" + p, tree.versions[p][-1].layer, e.size, PathState.PRESENT)
            for p, e in tree.live.items()
            if p.startswith(prefixes) and e.size
        ]
        if not paths:
            continue
        paths.sort(key=lambda r: (-r.size, r.path))
        total = sum(r.size for r in paths)
        layer = min(r.layer for r in paths)
        ratio = _ratio(opened, layer)
        created_by = opened.image.layers[layer].history.created_by
        yield Finding(
            rule=DEV_DEPS,
            title=f"npm devDependencies of /{root or ''} ship: {len(paths)} files, "
            f"{human_bytes(total)} ({', '.join(names[:5])}{' ...' if len(names) > 5 else ''})",
            layers=tuple(sorted({r.layer for r in paths})),
            instruction=options.scrub(readable_command(created_by)),
            fix=DEV_DEPS.fix,
            paths=tuple(paths),
            path_count=len(paths),
            recoverable_bytes=total,
            shipped_bytes=total,
            pull_bytes=round(total * ratio),
            location=options.locate(layer),
        )


def _ratio(opened: OpenedImage, layer: int) -> float:
    x = opened.image.layers[layer]
    return x.compressed_size / x.size if x.size else 0.0
