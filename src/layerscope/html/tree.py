"""The final file tree as the treemap draws it: nested arrays, small enough to inline.

A node is `[name, bytes, colour, extra, mark, children]`: for an image report `colour` is the
layer that wrote the bytes (for a directory, the layer that wrote most of them), `extra` the
reclaimable bytes of hidden copies at or under it and `mark` the count of findings naming it; for
a comparison `colour` is the change (0 same, 1 changed, 2 added, 3 removed; for a directory, the
change of most of its bytes) and `extra` the byte delta. `children` is null for a file. A
directory keeps its largest `FANOUT` children and folds the rest into one `… N more` node, so a
huge image still gives a small page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..analysis import Analysis
from ..filetree import FileTree
from ..model import Entry, EntryKind

FANOUT = 120
SAME, CHANGED, ADDED, REMOVED = 0, 1, 2, 3
_CHANGE_CODE = {"changed": CHANGED, "added": ADDED, "removed": REMOVED}

Node = list[Any]


class _Dir:
    __slots__ = ("dirs", "files", "waste")

    def __init__(self) -> None:
        self.waste = 0
        """Reclaimable bytes of paths under it that are gone from the final tree."""
        self.dirs: dict[str, _Dir] = {}
        self.files: dict[str, tuple[int, int, int, int]] = {}
        """name -> (bytes, colour, extra, mark)"""


def _insert(root: _Dir, path: str) -> tuple[_Dir, str]:
    node = root
    parts = path.split("/")
    for part in parts[:-1]:
        node = node.dirs.setdefault(part, _Dir())
    return node, parts[-1]


def _size(entry: Entry) -> int:
    return entry.size if entry.kind is EntryKind.FILE else 0


def _fold(kids: list[Node], colour_of_rest: int) -> list[Node]:
    kids.sort(key=lambda k: (-k[1], k[0]))
    if len(kids) <= FANOUT:
        return kids
    rest = kids[FANOUT - 1 :]
    more: Node = [
        f"… {len(rest):,} more",
        sum(k[1] for k in rest),
        colour_of_rest,
        sum(k[3] for k in rest),
        sum(k[4] for k in rest),
        None,
    ]
    return [*kids[: FANOUT - 1], more]


def _emit_image(name: str, d: _Dir) -> Node:
    kids = [_emit_image(n, sub) for n, sub in d.dirs.items()]
    kids += [[n, *f, None] for n, f in d.files.items()]
    by_layer: dict[int, int] = {}
    for k in kids:
        by_layer[k[2]] = by_layer.get(k[2], 0) + k[1]
    layer = max(by_layer, key=lambda x: (by_layer[x], -x)) if by_layer else -1
    return [
        name,
        sum(k[1] for k in kids),
        layer,
        d.waste + sum(k[3] for k in kids),
        sum(k[4] for k in kids),
        _fold(kids, -1),
    ]


def _charge_waste(root: _Dir, analysis: Analysis) -> dict[str, int]:
    """Reclaimable bytes per file of the final tree; a path gone from it charges the deepest
    directory still drawn above it (a deleted cache shows up as waste where it was)."""
    per_file: dict[str, int] = {}
    for f in analysis.waste.files:
        path = f.path.lstrip("/")
        if path in analysis.tree.live and analysis.tree.live[path].kind is not EntryKind.DIR:
            per_file[path] = per_file.get(path, 0) + f.reclaimable_bytes
            continue
        node = root
        for part in path.split("/")[:-1]:
            if part not in node.dirs:
                break
            node = node.dirs[part]
        node.waste += f.reclaimable_bytes
    return per_file


def image_tree(analysis: Analysis, finding_paths: Iterable[str] = ()) -> Node:
    """The final filesystem of one image, coloured by layer, with waste and findings per node."""
    tree = analysis.tree
    marks: dict[str, int] = {}
    for p in finding_paths:
        marks[p.lstrip("/")] = marks.get(p.lstrip("/"), 0) + 1
    root = _Dir()
    for path, entry in tree.live.items():
        if entry.kind is EntryKind.DIR:
            parent, name = _insert(root, path + "/x")
            continue
        parent, name = _insert(root, path)
        layer = tree.versions[path][-1].layer
        parent.files[name] = (_size(entry), layer, 0, marks.get(path, 0))
    for path, wasted in _charge_waste(root, analysis).items():
        parent, name = _insert(root, path)
        size, layer, _, mark = parent.files[name]
        parent.files[name] = (size, layer, wasted, mark)
    return _emit_image("/", root)


def finding_paths(doc: Mapping[str, Any]) -> list[str]:
    """The paths the findings in a `--json` document name, whichever capability added them: any
    object under `layerscope` with a rule (`ruleId`, `rule` or `id`) and a `paths` list."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            paths = value.get("paths")
            if isinstance(paths, list) and any(k in value for k in ("ruleId", "rule", "id")):
                for p in paths:
                    path = p.get("path") if isinstance(p, dict) else p
                    if isinstance(path, str):
                        out.append(path)
                return
            for item in value.values():
                walk(item)

    walk({k: v for k, v in doc.get("layerscope", {}).items() if k != "waste"})
    return out


def _emit_diff(name: str, d: _Dir) -> Node:
    kids = [_emit_diff(n, sub) for n, sub in d.dirs.items()]
    kids += [[n, *f, None] for n, f in d.files.items()]
    # A directory takes the colour of most of its bytes (removed files count their size in A).
    by_code: dict[int, int] = {}
    for k in kids:
        by_code[k[2]] = by_code.get(k[2], 0) + k[1]
    change = max(by_code, key=lambda c: (by_code[c], c)) if by_code else SAME
    return [name, sum(k[1] for k in kids), change, sum(k[3] for k in kids), 0, _fold(kids, CHANGED)]


def diff_tree(doc: Mapping[str, Any], tree_b: FileTree) -> Node:
    """The union of both final filesystems, coloured by change, from the comparison document
    (so the page and `--json` name the same changes) and B's tree for the unchanged paths."""
    root = _Dir()
    for path, entry in tree_b.live.items():
        if entry.kind is EntryKind.DIR:
            _insert(root, path + "/x")
            continue
        parent, name = _insert(root, path)
        parent.files[name] = (_size(entry), SAME, 0, 0)
    for p in doc["layerscope"]["diff"]["paths"]:
        code = _CHANGE_CODE[p["change"]]
        path = p["path"].lstrip("/")
        if p["kindA" if code == REMOVED else "kindB"] == "dir":
            parent, name = _insert(root, path + "/x")
            continue
        parent, name = _insert(root, path)
        size = p["sizeA"] if code == REMOVED else p["sizeB"]
        parent.files[name] = (size, code, p["delta"], 0)
    return _emit_diff("/", root)
