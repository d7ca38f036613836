"""What the entrypoint can reach: a static estimate, never a certainty.

From the config's Entrypoint + Cmd, resolve the program at the final layer (WorkingDir, PATH),
follow shebangs to interpreters, ELF `PT_INTERP` and `DT_NEEDED` through `DT_RPATH`,
`LD_LIBRARY_PATH`, `DT_RUNPATH`, `ld.so.conf` and the default directories (ld.so(8)'s order),
and for Python the imports (`ast`) of the program and of the app's modules in WorkingDir, mapped
to the files that provide them and to the distributions, then their Requires-Dist. Anything
loaded by name at run time (plugins, `importlib`, `dlopen`, a shell's commands) is not seen.
"""

from __future__ import annotations

import ast
import fnmatch
import io
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..content import origin
from ..errors import LayerscopeError
from ..filetree import FileTree
from ..model import BlobRef, EntryKind, Layer
from ..oci import RuntimeConfig
from .attribution import Attribution
from .collect import read_layer_files
from .fspath import Resolver
from .model import Ecosystem
from .python import normalize

Key = tuple[str, str, str]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_LIB_DIRS = ("lib", "usr/lib", "lib64", "usr/lib64")
LD_SO_CONF = "etc/ld.so.conf"
APP_FILE_LIMIT = 500
"""At most this many `.py` files under WorkingDir are read as the app."""
LABEL = "a static guess: verify before removing"


@dataclass(frozen=True, slots=True)
class Reach:
    argv: tuple[str, ...]
    program: str
    """The program's path after PATH and symlinks ('' when none could be resolved)."""
    files: tuple[str, ...]
    """Files read and followed (programs, interpreters, libraries, Python modules)."""
    packages: frozenset[Key]
    unresolved: tuple[str, ...] = ()
    """What could not be followed (a library or module not found, a missing program)."""
    notes: tuple[str, ...] = field(default=())


class _Walk:
    def __init__(
        self,
        config: RuntimeConfig,
        tree: FileTree,
        blobs: tuple[BlobRef, ...],
        layers: Sequence[Layer],
    ) -> None:
        self.tree, self.blobs, self.layers = tree, blobs, layers
        self.resolve = Resolver(tree.live)
        self.env = dict(e.split("=", 1) for e in config.env if "=" in e)
        self.workdir = config.working_dir.strip("/")
        self.seen: set[str] = set()
        self.pending: list[str] = []
        self.modules: set[str] = set()
        self.python_dirs: list[str] = []
        self.unresolved: list[str] = []
        self.notes: list[str] = []
        self.lib_dirs: list[str] = list(DEFAULT_LIB_DIRS)
        self.module_files: set[str] = set()
        """Files that provide modules the program imports (mapped to packages, not read)."""
        self._extensions: dict[str, dict[str, str]] = {}
        self.stdlib: list[str] = []

    # -- files ----------------------------------------------------------------------------
    def is_file(self, path: str) -> bool:
        entry = self.tree.live.get(path)
        return entry is not None and entry.kind in (EntryKind.FILE, EntryKind.HARDLINK)

    def add(self, path: str) -> None:
        real = self.resolve.regular(path)
        if real not in self.seen and self.is_file(real):
            self.seen.add(real)
            self.pending.append(real)

    def which(self, name: str) -> str | None:
        if "/" in name:
            path = posixpath.normpath(posixpath.join("/", self.workdir, name)).lstrip("/")
            return path if self.is_file(self.resolve.regular(path)) else None
        for d in self.env.get("PATH", DEFAULT_PATH).split(":"):
            path = posixpath.join(d.strip("/"), name)
            if self.is_file(self.resolve.regular(path)):
                return path
        return None

    def read(self, paths: list[str]) -> dict[str, bytes]:
        """The contents of `paths` (final layer), each layer blob read at most once."""
        by_layer: dict[int, dict[str, str]] = {}
        last = self.tree.layer_count - 1
        for path in paths:
            try:
                where = origin(self.tree, path, last)
            except LayerscopeError:
                continue
            by_layer.setdefault(where.layer, {})[where.path] = path
        out: dict[str, bytes] = {}
        for layer, names in sorted(by_layer.items()):
            got = read_layer_files(self.blobs[layer], self.layers[layer].entries, set(names))
            for member, data in got.items():
                out[names[member]] = data
        return out

    # -- following ------------------------------------------------------------------------
    def follow(self, path: str, data: bytes) -> None:
        if data.startswith(b"#!"):
            self.shebang(path, data)
        elif data.startswith(b"\x7fELF"):
            self.elf(path, data)
        elif path.endswith(".py"):
            self.python_source(path, data)

    def shebang(self, path: str, data: bytes) -> None:
        words = data[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
        if not words:
            return
        interp = words[0]
        if posixpath.basename(interp) == "env" and len(words) > 1:
            found = self.which(words[-1] if words[1].startswith("-") else words[1])
        else:
            found = (
                interp.lstrip("/")
                if self.is_file(self.resolve.regular(interp.lstrip("/")))
                else None
            )
        if found is None:
            self.unresolved.append(f"interpreter {interp} of /{path}")
            return
        self.add(found)
        if "python" in posixpath.basename(interp) or "python" in " ".join(words[1:]):
            self.python(found)
            self.python_source(path, data)

    def python(self, interpreter: str) -> None:
        """Where this interpreter imports from, as its sys.path would be on Debian-likes."""
        name = posixpath.basename(self.resolve.regular(interpreter))
        if not name.startswith("python") or self.python_dirs:
            return
        version = name.removeprefix("python")
        prefix = posixpath.dirname(posixpath.dirname(self.resolve.regular(interpreter)))
        bases = [prefix, "usr", "usr/local"]
        dirs = [self.workdir]
        for b in dict.fromkeys(bases):
            lib = f"{b}/lib/python{version}".lstrip("/")
            dirs += [lib, f"{lib}/lib-dynload", f"{lib}/site-packages", f"{lib}/dist-packages"]
        dirs.append("usr/lib/python3/dist-packages")
        self.python_dirs = [
            d
            for d in dirs
            if d == self.workdir
            or self.resolve.directory(d) in self.tree.live
            or self.tree.exists(d)
        ]
        # The interpreter imports its standard library at start-up, and the distributions use
        # much of the rest: the whole standard library counts as reached.
        for b in dict.fromkeys(bases):
            self.stdlib.append(self.resolve.directory(f"{b}/lib/python{version}".lstrip("/")) + "/")

    def python_source(self, path: str, data: bytes) -> None:
        try:
            module = ast.parse(data, filename=path)
        except (SyntaxError, ValueError):
            self.notes.append(f"/{path}: not valid Python, imports not followed")
            return
        for node in ast.walk(module):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                self.import_module(name.split(".")[0])

    def import_module(self, top: str) -> None:
        """Map a top-level module to the file that provides it (its imports are not followed:
        distributions' own dependencies come from their metadata)."""
        if top in self.modules:
            return
        self.modules.add(top)
        for d in self.python_dirs:
            for candidate in (f"{d}/{top}/__init__.py".lstrip("/"), f"{d}/{top}.py".lstrip("/")):
                real = self.resolve.regular(candidate)
                if self.is_file(real):
                    if d == self.workdir and real not in self.seen:
                        self.add(real)  # the app's own module: its imports are the app's
                    self.module_files.add(real)
                    return
            if self.tree.exists(f"{d}/{top}".lstrip("/")):
                return  # a namespace package
            ext = self.extensions(d).get(top)
            if ext is not None:
                self.module_files.add(ext)
                return
        if top not in _BUILTINS:
            self.unresolved.append(f"python module {top}")

    def extensions(self, directory: str) -> dict[str, str]:
        """Extension modules in a directory: top-level name -> file (`zlib.cpython-311-....so`)."""
        if directory not in self._extensions:
            found: dict[str, str] = {}
            prefix = self.resolve.directory(directory) + "/"
            for path, entry in self.tree.live.items():
                rest = path[len(prefix) :] if path.startswith(prefix) else "/"
                if "/" not in rest and rest.endswith(".so") and entry.kind is EntryKind.FILE:
                    found.setdefault(rest.split(".")[0], path)
            self._extensions[directory] = found
        return self._extensions[directory]

    def elf(self, path: str, data: bytes) -> None:
        from elftools.common.exceptions import ELFError  # noqa: PLC0415
        from elftools.elf.dynamic import DynamicSegment  # noqa: PLC0415
        from elftools.elf.elffile import ELFFile  # noqa: PLC0415

        needed: list[str] = []
        rpath: list[str] = []
        runpath: list[str] = []
        try:
            elf = ELFFile(io.BytesIO(data))
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_INTERP":
                    self.add(seg.get_interp_name().lstrip("/"))  # type: ignore[attr-defined]
                elif isinstance(seg, DynamicSegment):
                    for tag in seg.iter_tags():
                        kind = tag.entry.d_tag
                        if kind == "DT_NEEDED":
                            needed.append(tag.needed)  # type: ignore[attr-defined]
                        elif kind == "DT_RPATH":
                            rpath += tag.rpath.split(":")  # type: ignore[attr-defined]
                        elif kind == "DT_RUNPATH":
                            runpath += tag.runpath.split(":")  # type: ignore[attr-defined]
        except (ELFError, ValueError, KeyError) as exc:
            self.notes.append(f"/{path}: ELF not readable ({exc}), libraries not followed")
            return
        here = posixpath.dirname("/" + path)

        def expand(ds: list[str]) -> list[str]:
            return [
                d.replace("$ORIGIN", here).replace("${ORIGIN}", here).strip("/") for d in ds if d
            ]

        ld_path = self.env.get("LD_LIBRARY_PATH", "").split(":")
        search = (
            (expand(rpath) if not runpath else [])
            + expand(ld_path)
            + expand(runpath)
            + self.lib_dirs
        )
        for lib in needed:
            found = next(
                (f"{d}/{lib}" for d in search if self.is_file(self.resolve.regular(f"{d}/{lib}"))),
                None,
            )
            if found is None:
                self.unresolved.append(f"library {lib} of /{path}")
            else:
                self.add(found)

    def ld_so_conf(self, files: Mapping[str, bytes]) -> None:
        dirs: list[str] = []

        def parse(path: str, depth: int) -> None:
            for raw in files.get(path, b"").decode("utf-8", "replace").splitlines():
                line = raw.split("#")[0].strip()
                if line.startswith("include ") and depth < 4:
                    pattern = posixpath.join(
                        posixpath.dirname("/" + path), line[8:].strip()
                    ).lstrip("/")
                    for p in sorted(files):
                        if fnmatch.fnmatch(p, pattern):
                            parse(p, depth + 1)
                elif line:
                    dirs.append(line.strip("/"))

        parse(LD_SO_CONF, 0)
        self.lib_dirs = [*dict.fromkeys([*dirs, *DEFAULT_LIB_DIRS])]


_BUILTINS = {
    "sys",
    "builtins",
    "_io",
    "marshal",
    "posix",
    "time",
    "_thread",
    "_imp",
    "_warnings",
    "_weakref",
    "itertools",
    "errno",
    "gc",
    "_abc",
    "_codecs",
    "_signal",
    "_sre",
    "_stat",
    "atexit",
    "_string",
    "_functools",
    "_locale",
    "_operator",
    "_collections",
    "pwd",
    "_tracemalloc",
    "_symtable",
    "xxsubtype",
    "faulthandler",
    "__future__",
}


def _app_files(walk: _Walk) -> list[str]:
    if not walk.workdir:
        return []
    skip = ("/site-packages/", "/dist-packages/", "/node_modules/", "/.git/", "/.venv/")
    prefix = walk.workdir + "/"
    found = sorted(
        p
        for p, e in walk.tree.live.items()
        if p.startswith(prefix)
        and p.endswith(".py")
        and e.kind is EntryKind.FILE
        and not any(s in "/" + p for s in skip)
    )
    return found[:APP_FILE_LIMIT]


def _conf_files(tree: FileTree) -> list[str]:
    return [
        p
        for p in tree.live
        if p == LD_SO_CONF or (p.startswith("etc/ld.so.conf.d/") and p.endswith(".conf"))
    ]


def estimate(
    config: RuntimeConfig,
    tree: FileTree,
    blobs: tuple[BlobRef, ...],
    layers: Sequence[Layer],
    attribution: Attribution,
) -> Reach:
    """Follow the entrypoint at the final layer; the packages whose files it reaches."""
    argv = (*config.entrypoint, *config.cmd)
    walk = _Walk(config, tree, blobs, layers)
    program = walk.which(argv[0]) if argv else None
    if not argv:
        walk.notes.append("the image sets no Entrypoint or Cmd: nothing is reached")
    elif program is None:
        walk.unresolved.append(f"program {argv[0]} (not found in WorkingDir or PATH)")
    conf = _conf_files(tree)
    first = walk.read(conf)  # read with the first round: ld.so.conf before any library
    walk.ld_so_conf(first)
    if program is not None:
        walk.add(program)
        if posixpath.basename(program).startswith("python"):
            walk.python(program)
        for name in _app_files(walk):
            walk.add(name)
    while walk.pending:
        batch, walk.pending = walk.pending, []
        for path, data in walk.read(batch).items():
            walk.follow(path, data)
    return Reach(
        tuple(argv),
        walk.resolve.regular(program) if program else "",
        tuple(sorted(walk.seen | walk.module_files)),
        _packages(walk, attribution),
        tuple(dict.fromkeys(walk.unresolved)),
        tuple(walk.notes),
    )


def _packages(walk: _Walk, attribution: Attribution) -> frozenset[Key]:
    owners: dict[str, list[Key]] = {}
    by_module: dict[str, Key] = {}
    by_name: dict[str, Key] = {}
    present = [u for u in attribution.usages if u.present]
    for u in present:
        for path in u.files:
            owners.setdefault(path, []).append(u.package.key)
        if u.package.ecosystem is Ecosystem.PYTHON:
            by_name[u.package.name] = u.package.key
            for top in u.package.top_level or _tops(u.package.files, u.package.database):
                by_module.setdefault(top, u.package.key)
    reached = {k for path in walk.seen | walk.module_files for k in owners.get(path, ())}
    if walk.stdlib:
        skip = ("site-packages/", "dist-packages/")
        for path, keys in owners.items():
            if any(
                path.startswith(d) and skip[0] not in path and skip[1] not in path
                for d in walk.stdlib
            ):
                reached.update(keys)
    reached |= {by_module[m] for m in walk.modules if m in by_module}
    requires = {u.package.key: u.package.requires for u in present}
    todo = [k for k in reached if k[0] == Ecosystem.PYTHON.value]
    while todo:
        for dep in requires.get(todo.pop(), ()):
            key = by_name.get(normalize(dep))
            if key is not None and key not in reached:
                reached.add(key)
                todo.append(key)
    return frozenset(reached)


def _tops(files: Iterable[str], database: str) -> set[str]:
    """Top-level importable names of a distribution, from its RECORD paths."""
    base = database.rpartition("/")[0] + "/"
    tops = set()
    for f in files:
        if f.startswith(base):
            first = f[len(base) :].split("/")[0]
            if (
                not first.endswith((".dist-info", ".egg-info", ".pth"))
                and first != "__pycache__"
                and ".." not in first
            ):
                tops.add(first.removesuffix(".py").split(".")[0])
    return tops
