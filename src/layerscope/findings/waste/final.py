"""What the final image ships that it need not: what a COPY of the build context dragged in,
npm devDependencies, build toolchains, docs and package tools' logs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

from ...content import read_members
from ...session import OpenedImage
from ..dockerfile import history_form
from ..model import Finding
from . import rules
from .paths import Copy, by_layer, layer_findings, matcher

JUNK: tuple[tuple[str, tuple[str, ...]], ...] = (
    (".git", ("*.git/*", ".git")),
    ("node_modules", ("node_modules/*", "*/node_modules/*")),
    ("**/__pycache__", ("*/__pycache__/*", "__pycache__/*")),
    ("**/*.pyc", ("*.pyc",)),
    ("**/.DS_Store", ("*.DS_Store",)),
    ("**/.pytest_cache", ("*.pytest_cache/*",)),
    ("**/.mypy_cache", ("*.mypy_cache/*",)),
    ("**/.ruff_cache", ("*.ruff_cache/*",)),
    ("**/.tox", ("*.tox/*",)),
    ("**/.venv", ("*.venv/*",)),
    ("**/.idea", ("*.idea/*",)),
    ("**/.vscode", ("*.vscode/*",)),
    ("**/*.swp", ("*.swp",)),
    ("**/Thumbs.db", ("*Thumbs.db",)),
)
_JUNK = [(entry, matcher(p)) for entry, p in JUNK]


def _context_layers(opened: OpenedImage) -> set[int]:
    """Layers made by COPY or ADD above the base image."""
    base = opened.analysis.waste.base.layers
    return {
        layer.index
        for layer in opened.image.layers
        if layer.index >= base and history_form(layer.history.created_by)[0] in ("COPY", "ADD")
    }


def junk_findings(opened: OpenedImage, copies: list[Copy]) -> list[Finding]:
    layers = _context_layers(opened)
    out = []
    for _, group in sorted(by_layer(c for c in copies if c.layer in layers).items()):
        hits, entries = [], []
        for c in group:
            for entry, pattern in _JUNK:
                if pattern.match(c.path):
                    hits.append(c)
                    if entry not in entries:
                        entries.append(entry)
                    break
        if not hits:
            continue
        ignore = "\n".join(entries)
        found = layer_findings(
            rules.CONTEXT_JUNK,
            opened.image,
            hits,
            f"build-context files ({', '.join(entries)}) copied",
            f"add to .dockerignore:\n{ignore}",
        )
        out += [_with_evidence(f, ("dockerignore", ignore)) for f in found]
    return out


def _with_evidence(f: Finding, item: tuple[str, str]) -> Finding:
    return replace(f, evidence=(*f.evidence, item))


TOOLCHAIN = matcher(
    (
        "usr/include/*",
        "usr/local/include/*",
        "usr/lib/gcc/*",
        "usr/libexec/gcc/*",
        "usr/lib/gcc-cross/*",
        "usr/bin/gcc*",
        "usr/bin/g++*",
        "usr/bin/cc1*",
        "usr/bin/c++*",
        "usr/bin/*-linux-gnu-gcc*",
        "usr/bin/*-linux-gnu-g++*",
        "usr/bin/*-linux-gnu-cpp*",
        "usr/bin/clang*",
        "usr/lib/llvm-*",
        "usr/bin/ld.bfd",
        "usr/bin/ld.gold",
        "usr/bin/*-linux-gnu-ld*",
        "usr/bin/*-linux-gnu-as",
        "usr/bin/as",
        "usr/local/go/*",
        "usr/local/rustup/*",
        "usr/local/cargo/*",
        "*/.rustup/toolchains/*",
    )
)


def toolchain_findings(opened: OpenedImage, copies: list[Copy]) -> list[Finding]:
    hits = [c for c in copies if c.shipped and TOOLCHAIN.match(c.path)]
    return layer_findings(
        rules.TOOLCHAIN,
        opened.image,
        hits,
        "compilers, headers and build tools shipped",
        "compile in a build stage (`FROM … AS build`) and COPY only the result into the "
        "runtime stage",
    )


DOCS = matcher(
    (
        "usr/share/doc/*",
        "usr/share/man/*",
        "usr/share/info/*",
        "usr/share/locale/*",
        "usr/local/share/man/*",
        "usr/share/gtk-doc/*",
    )
)
LOGS = matcher(
    (
        "var/log/apt/*",
        "var/log/dpkg.log",
        "var/log/alternatives.log",
        "var/log/dnf*",
        "var/log/yum.log",
        "var/log/hawkey.log",
        "var/log/apk.log",
    )
)


def docs_findings(opened: OpenedImage, copies: list[Copy]) -> list[Finding]:
    hits = [c for c in copies if c.shipped and DOCS.match(c.path)]
    return layer_findings(
        rules.DOCS, opened.image, hits, "docs, man pages and locales", rules.DOCS.fix
    )


def log_findings(opened: OpenedImage, copies: list[Copy]) -> list[Finding]:
    hits = [c for c in copies if LOGS.match(c.path)]
    return layer_findings(
        rules.TOOL_LOGS,
        opened.image,
        hits,
        "package tools' logs",
        "append `&& rm -rf /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log` to the "
        "installing RUN",
    )


def _project_roots(opened: OpenedImage) -> dict[str, int]:
    """`dir/package.json` of each directory with a `node_modules`, and its layer."""
    live = opened.analysis.tree.live
    roots: dict[str, int] = {}
    for path in live:
        head, sep, _ = path.partition("node_modules/")
        if sep and "node_modules/" not in head:
            pkg = head + "package.json"
            if pkg in live and pkg not in roots:
                versions = opened.analysis.tree.versions[pkg]
                roots[pkg] = versions[-1].layer
    return roots


def dev_dependency_findings(opened: OpenedImage, copies: list[Copy]) -> list[Finding]:
    roots = _project_roots(opened)
    if not roots:
        return []
    manifests: dict[str, bytes] = {}
    wanted_by_layer: dict[int, set[str]] = {}
    for pkg, layer in roots.items():
        wanted_by_layer.setdefault(layer, set()).add(pkg)

    def keep(path: str, chunks: Iterator[bytes]) -> None:
        manifests[path] = b"".join(chunks)[: 4 << 20]

    for layer, wanted in wanted_by_layer.items():
        read_members(opened.blobs[layer], wanted, keep)
    out: list[Finding] = []
    for pkg, data in sorted(manifests.items()):
        try:
            dev = json.loads(data).get("devDependencies") or {}
        except (ValueError, AttributeError):
            continue
        if not isinstance(dev, dict) or not dev:
            continue
        base = pkg.removesuffix("package.json") + "node_modules/"
        prefixes = tuple(base + name + "/" for name in dev)
        hits = [c for c in copies if c.shipped and c.path.startswith(prefixes)]
        if not hits:
            continue
        names = [n for n in sorted(dev) if any(c.path.startswith(base + n + "/") for c in hits)]
        found = layer_findings(
            rules.DEV_DEPENDENCIES,
            opened.image,
            hits,
            f"{len(names)} devDependencies of /{pkg} installed",
            "install with `npm ci --omit=dev` (or run `npm prune --omit=dev` in the same RUN)",
        )
        out += [_with_evidence(f, ("devDependencies", ", ".join(sorted(dev)))) for f in found]
    return out
