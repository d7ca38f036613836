"""dive 0.13.1's figures, computed exactly as dive computes them, quirks included.

dive builds one tree per layer from the raw tar entries and walks their leaves
(dive/filetree/efficiency.go). Its quirks are kept on purpose, so that a pipeline gating on dive's
numbers gets the same numbers: opaque markers are dropped, a deleted directory counts no waste,
every copy of a duplicated path counts as wasted, layer 0 is "the base", and a whiteout whose
target is missing below ends the walk of its layer. The trees here live only during the walk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .gosort import go_sort
from .model import Entry, Image

_WHITEOUT = ".wh."
_DOUBLE_WHITEOUT = ".wh..wh.."

# Go's os.FileMode type bits, as archive/tar's FileInfo().Mode() sets them.
GO_MODE_DIR = 1 << 31
_GO_SYMLINK = 1 << 27
_GO_DEVICE = 1 << 26
_GO_PIPE = 1 << 25
_GO_SOCKET = 1 << 24
_GO_SETUID = 1 << 23
_GO_SETGID = 1 << 22
_GO_CHARDEV = 1 << 21
_GO_STICKY = 1 << 20
_C_TYPE = {
    0o040000: GO_MODE_DIR,
    0o010000: _GO_PIPE,
    0o120000: _GO_SYMLINK,
    0o060000: _GO_DEVICE,
    0o020000: _GO_DEVICE | _GO_CHARDEV,
    0o140000: _GO_SOCKET,
}
_FLAG_TYPE = {
    ord("2"): _GO_SYMLINK,
    ord("3"): _GO_DEVICE | _GO_CHARDEV,
    ord("4"): _GO_DEVICE,
    ord("5"): GO_MODE_DIR,
    ord("6"): _GO_PIPE,
}


def go_file_mode(mode: int, typeflag: int) -> int:
    """archive/tar headerFileInfo.Mode(): permission, special and type bits as os.FileMode."""
    out = mode & 0o777
    if mode & 0o4000:
        out |= _GO_SETUID
    if mode & 0o2000:
        out |= _GO_SETGID
    if mode & 0o1000:
        out |= _GO_STICKY
    out |= _C_TYPE.get(mode & ~0o7777 & 0o170000, 0) if mode & ~0o7777 else 0
    return out | _FLAG_TYPE.get(typeflag, 0)


def _is_dir(entry: Entry | None) -> bool:
    return entry is not None and bool(go_file_mode(entry.mode, entry.typeflag) & GO_MODE_DIR)


class _Node:
    __slots__ = ("children", "entry", "name", "parent")

    def __init__(self, name: str, parent: _Node | None) -> None:
        self.name = name
        self.parent = parent
        self.children: dict[str, _Node] = {}
        self.entry: Entry | None = None  # None is dive's empty FileInfo{} (implicit parents)

    def path(self) -> str:
        """dive's FileNode.Path(): `/a/b`, with a leaf's `.wh.` prefix removed."""
        names = [self.name.removeprefix(_WHITEOUT)]
        node = self.parent
        while node is not None and node.parent is not None:
            names.append(node.name)
            node = node.parent
        return ("/" + "/".join(reversed(names))).replace("//", "/")

    def copy(self, parent: _Node | None) -> _Node:
        twin = _Node(self.name, parent)
        twin.entry = self.entry
        twin.children = {k: c.copy(twin) for k, c in self.children.items()}
        return twin


def _add_path(root: _Node, path: str, entry: Entry | None, keep_entry: bool = False) -> None:
    names = [n for n in path.split("/") if n]
    node = root
    for name in names:
        child = node.children.get(name)
        if child is None:
            if name.startswith(_DOUBLE_WHITEOUT):
                return  # dive never adds opaque markers (file_tree.go AddPath)
            child = _Node(name, node)
            node.children[name] = child
        node = child
    if names and not keep_entry:
        node.entry = entry


def _get(root: _Node, path: str) -> _Node | None:
    node: _Node | None = root
    for name in path.split("/"):
        if name and node is not None:
            node = node.children.get(name)
    return node


def _remove(root: _Node, path: str) -> None:
    node = _get(root, path)
    if node is not None and node is not root and node.parent is not None:
        del node.parent.children[node.name]


def _child_first(node: _Node) -> Iterator[_Node]:
    """Depth-first, children (sorted by name) before their parent; the root is not visited."""
    stack: list[tuple[_Node, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded or not current.children:
            if current.parent is not None:
                yield current
            continue
        stack.append((current, True))
        for name in sorted(current.children, reverse=True):
            stack.append((current.children[name], False))


def layer_tree(entries: tuple[Entry, ...]) -> _Node:
    root = _Node("", None)
    # Nodes by clean path: each entry finds its parent at once, so 10,000 nested directories
    # are not 10,000 walks from the root (50 million steps).
    index = {"": root}
    for entry in entries:
        node = _node_for(index, entry.path)
        if node is not None and node is not root:
            node.entry = entry
    return root


def _node_for(index: dict[str, _Node], path: str) -> _Node | None:
    """The node at `path` (clean: no empty or leading parts), made with its missing parents;
    None where a missing part is an opaque marker, which dive never adds (AddPath)."""
    missing = []
    node = index.get(path)
    while node is None:
        path, _, name = path.rpartition("/")
        missing.append(name)
        node = index.get(path)
    for name in reversed(missing):
        child = node.children.get(name)
        if child is None:
            if name.startswith(_DOUBLE_WHITEOUT):
                return None
            child = _Node(name, node)
            node.children[name] = child
        path = f"{path}/{name}" if path else name
        index[path] = child
        node = child
    return node


def _subtree_size(node: _Node) -> int:
    total = node.entry.size if node.entry else 0
    for sub in _child_first(node):
        total += sub.entry.size if sub.entry else 0
    return total


@dataclass(frozen=True, slots=True)
class DiveFile:
    path: str
    count: int
    cumulative_size: int
    min_size: int


@dataclass(frozen=True, slots=True)
class DiveAnalysis:
    efficiency: float
    size_bytes: int
    user_size_bytes: int
    wasted_bytes: int
    user_wasted_percent: float
    """NaN or inf where there are no user bytes, as dive computes it."""
    inefficient_files: tuple[DiveFile, ...]
    """Largest first, ties in the order dive prints them."""
    layer_sizes: tuple[int, ...]

    @property
    def reported_user_wasted_percent(self) -> float:
        """What dive prints and gates on: 0 when nothing is wasted (hides a single layer's NaN)."""
        return 0.0 if self.wasted_bytes == 0 else self.user_wasted_percent


class _Relevance:
    """The paths a set of whiteout lookups depends on: the targets, their ancestors, and
    everything below a target. Stacking only these gives the same nodes at the targets."""

    def __init__(self, targets: set[str]) -> None:
        self.targets = targets
        self.ancestors: set[str] = set()
        for target in targets:
            parts = target.split("/")
            for i in range(1, len(parts) + 1):
                self.ancestors.add("/".join(parts[:i]))
        self._tops = {a.partition("/")[0] for a in self.ancestors}
        self._reached: dict[str, tuple[int, int, bool]] = {}

    def reach(self, path: str) -> tuple[int, int, bool]:
        """(names in `path`, how many leading ones `walk` passes, whether the last passed one
        is inside a target): `walk` applies its test to each directory of a path in turn, and
        reaches the path's own node when all pass. Memoised by directory: a layer's entries
        share few directories."""
        known = self._reached.get(path)
        if known is not None:
            return known
        parent, _, name = path.rpartition("/")
        if parent:
            count, depth, inside = self._reached.get(parent) or self._reach_slow(parent)
        else:
            count, depth, inside = 0, 0, False
        result = (count + 1, depth, inside)
        if depth == count:  # the parent is reached: test this name
            stripped = (
                f"{parent}/{name.removeprefix(_WHITEOUT)}"
                if parent
                else (name.removeprefix(_WHITEOUT))
            )
            inside = inside or path in self.targets
            if inside or path in self.ancestors or stripped in self.ancestors:
                result = (count + 1, depth + 1, inside)
        return result

    def _reach_slow(self, directory: str) -> tuple[int, int, bool]:
        """`reach` for a directory, computed top-down without recursion and remembered."""
        top = directory.partition("/")[0]
        names = directory.split("/")
        if top not in self._tops and top.removeprefix(_WHITEOUT) not in self._tops:
            result = (len(names), 0, False)  # the usual case, decided on the first name
            self._reached[directory] = result
            return result
        prefix, inside, depth = "", False, 0
        for name in names:
            raw = f"{prefix}/{name}" if prefix else name
            stripped = raw[: len(raw) - len(name)] + name.removeprefix(_WHITEOUT)
            deep = inside or raw in self.targets
            if not (deep or raw in self.ancestors or stripped in self.ancestors):
                break
            depth += 1
            inside = deep
            prefix = raw
        result = (len(names), depth, inside)
        self._reached[directory] = result
        return result

    def walk(self, node: _Node, path: str, inside: bool) -> Iterator[tuple[_Node, str, str]]:
        """Child-first like dive's visitor, skipping subtrees no target depends on."""
        for name in sorted(node.children):
            child = node.children[name]
            raw = f"{path}/{name}" if path else name
            stripped = raw[: len(raw) - len(name)] + name.removeprefix(_WHITEOUT)
            deep = inside or raw in self.targets
            if not (deep or raw in self.ancestors or stripped in self.ancestors):
                continue
            yield from self.walk(child, raw, deep)
            yield child, raw, stripped


def _stacked_for(image: Image, last: int, targets: set[str]) -> _Node:
    """StackTreeRange(trees, 0, last), built only where the `targets` lookups can see.

    Each lower layer's tree is built again from its entries, holding only the paths the lookups
    depend on, so that no more than one whole layer tree is ever alive (dive keeps them all)."""
    relevance = _Relevance(targets)

    def tree(index: int) -> _Node:
        root = _Node("", None)
        made: set[str] = set()
        for entry in image.layers[index].entries:
            count, depth, _ = relevance.reach(entry.path)  # paths are clean: no empty names
            if depth == count:
                _add_path(root, entry.path, entry)
            elif depth:
                # The directories `walk` reaches exist, with whatever entries they have, even
                # when nothing below them is reached (a `.wh.x/...` path still yields `.wh.x`).
                reached = "/".join(entry.path.split("/")[:depth])
                if reached not in made:
                    made.add(reached)
                    _add_path(root, reached, None, keep_entry=True)
        return root

    stacked = _Node("", None)
    lower = [tree(index) for index in range(last + 1)] if last >= 0 else [tree(0)]
    for node, raw, _ in relevance.walk(lower[0], "", False):
        _add_path(stacked, raw, node.entry)  # trees[0].Copy(), as dive starts, whiteouts too
    for index in range(last + 1):
        for node, _, path in relevance.walk(lower[index], "", False):
            if node.name.startswith(_WHITEOUT):
                _remove(stacked, path)
            else:
                _add_path(stacked, path, node.entry)
    return stacked


class _Row:
    """dive's EfficiencyData: one path's appearances across the layers."""

    __slots__ = ("count", "cumulative", "minimum", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        """Without the leading `/` (the entry's own, interned, string where there is one)."""
        self.count = 0
        self.cumulative = 0
        self.minimum = -1  # "unset", as dive's minDiscoveredSize


def _leaf_key(node: _Node) -> str:
    """dive's FileNode.Path() without its leading `/`; the entry's string where it is the same."""
    entry = node.entry
    if entry is not None and not node.name.startswith(_WHITEOUT):
        return entry.path
    return node.path()[1:]


def _efficiency(image: Image) -> tuple[float, list[_Row]]:
    table: dict[str, _Row] = {}
    inefficient: list[_Row] = []
    for index, layer in enumerate(image.layers):
        tree = layer_tree(layer.entries)  # one layer's tree at a time
        leaves = [n for n in _child_first(tree) if not n.children]  # efficiency.go: leaves only
        del tree
        targets = {n.path()[1:] for n in leaves if n.name.startswith(_WHITEOUT)}
        stacked = _stacked_for(image, index - 1, targets) if targets else None
        for node in leaves:
            key = _leaf_key(node)
            row = table.get(key)
            if row is None:
                row = table[key] = _Row(key)
            if node.name.startswith(_WHITEOUT):
                assert stacked is not None
                below = _get(stacked, key)
                if below is None:
                    # dive's visitor errors: the rest of this layer is skipped, and the row it
                    # already made keeps its minimum of -1, which lowers the score.
                    break
                size = _subtree_size(below) if _is_dir(below.entry) else 0
            else:
                size = node.entry.size if node.entry else 0
            row.count += 1
            row.cumulative += size
            if row.minimum < 0 or size < row.minimum:
                row.minimum = size
            if row.count == 2:
                inefficient.append(row)
    min_total = sum(r.minimum for r in table.values())
    cum_total = sum(r.cumulative for r in table.values())
    score = 1.0 if cum_total == 0 else min_total / cum_total
    return score, inefficient


def analyse(image: Image) -> DiveAnalysis:
    """dive's efficiency, wasted bytes and user-wasted percent for `image`."""
    score, rows = _efficiency(image)
    go_sort(rows, key=lambda r: r.cumulative)
    rows.reverse()
    files = tuple(DiveFile("/" + r.path, r.count, r.cumulative, r.minimum) for r in rows)
    sizes = tuple(layer.size for layer in image.layers)
    size = sum(sizes)
    user = size - sizes[0] if sizes else 0
    wasted = sum(f.cumulative_size for f in files)
    return DiveAnalysis(
        efficiency=score,
        size_bytes=size,
        user_size_bytes=user,
        wasted_bytes=wasted,
        user_wasted_percent=_go_divide(wasted, user),
        inefficient_files=files,
        layer_sizes=sizes,
    )


def _go_divide(a: int, b: int) -> float:
    if b == 0:
        return float("nan") if a == 0 else float("inf")
    return a / b


def file_list(entries: tuple[Entry, ...]) -> list[dict[str, object]]:
    """dive's per-layer `fileList`: every node of the layer tree, children before parents."""
    out: list[dict[str, object]] = []
    for node in _child_first(layer_tree(entries)):
        e = node.entry
        if e is None:
            out.append(
                {
                    "path": "",
                    "typeFlag": 0,
                    "linkName": "",
                    "size": 0,
                    "fileMode": 0,
                    "uid": 0,
                    "gid": 0,
                    "isDir": False,
                }
            )
            continue
        mode = go_file_mode(e.mode, e.typeflag)
        out.append(
            {
                "path": e.path,
                "typeFlag": e.typeflag,
                "linkName": e.linkname,
                "size": e.size,
                "fileMode": mode,
                "uid": e.uid,
                "gid": e.gid,
                "isDir": bool(mode & GO_MODE_DIR),
            }
        )
    return out
