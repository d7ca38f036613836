"""Package-manager and language caches and lists left in a layer, shipped or deleted later:
both cost the same bytes in the stored image."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import translate

from ...model import Image
from ..model import Finding, Rule, Severity
from . import rules
from .paths import Copy, instruction, layer_findings, matcher


@dataclass(frozen=True, slots=True)
class Cache:
    rule: Rule
    what: str
    patterns: tuple[str, ...]
    fix: str


CACHES: tuple[Cache, ...] = (
    Cache(
        rules.APT_LISTS,
        "apt package lists",
        ("var/lib/apt/lists/*",),
        "append `&& rm -rf /var/lib/apt/lists/*` to the RUN that ran `apt-get update`",
    ),
    Cache(
        rules.APT_CACHE,
        "apt archives and caches",
        ("var/cache/apt/*",),
        "append `&& apt-get clean` to the RUN that installed the packages",
    ),
    Cache(
        rules.PIP_CACHE,
        "pip cache",
        ("*/.cache/pip/*",),
        "add `--no-cache-dir` to `pip install` (or set `PIP_NO_CACHE_DIR=1`)",
    ),
    Cache(
        rules.NPM_CACHE,
        "npm cache",
        ("*/.npm/_cacache/*", "*/.npm/_npx/*"),
        "append `&& npm cache clean --force` to the RUN that ran npm",
    ),
    Cache(
        rules.YARN_CACHE,
        "yarn cache",
        ("*/.cache/yarn/*", "usr/local/share/.cache/yarn/*", "*/.yarn/berry/cache/*"),
        "append `&& yarn cache clean` to the RUN that ran yarn",
    ),
    Cache(
        rules.PNPM_STORE,
        "pnpm store",
        ("*/.local/share/pnpm/store/*", "*/.pnpm-store/*", "*/.cache/pnpm/*"),
        "append `&& pnpm store prune` to the RUN that ran pnpm, or use a cache mount",
    ),
    Cache(
        rules.APK_CACHE,
        "apk cache",
        ("var/cache/apk/*", "etc/apk/cache/*"),
        "use `apk add --no-cache`",
    ),
    Cache(
        rules.DNF_CACHE,
        "dnf/yum cache",
        ("var/cache/dnf/*", "var/cache/yum/*"),
        "append `&& dnf clean all` (or `yum clean all`) to the installing RUN",
    ),
    Cache(
        rules.GO_CACHE,
        "Go build and module caches",
        ("*/.cache/go-build/*", "go/pkg/mod/*", "*/go/pkg/mod/*"),
        "build in a stage and COPY the binary, or mount caches: "
        "`RUN --mount=type=cache,target=/root/.cache/go-build`",
    ),
    Cache(
        rules.JVM_CACHE,
        "Maven/Gradle repository",
        ("*/.m2/repository/*", "*/.gradle/caches/*", "*/.gradle/wrapper/dists/*"),
        "build in a stage and COPY the artifact, or `RUN --mount=type=cache,target=/root/.m2`",
    ),
)


_ANY = re.compile(
    "|".join(
        f"(?P<c{i}>{'|'.join(translate(p) for p in c.patterns)})" for i, c in enumerate(CACHES)
    )
)


def cache_findings(image: Image, copies: list[Copy]) -> list[Finding]:
    """One pass over the copies; each goes to the first cache (in table order) it matches."""
    hits: list[list[Copy]] = [[] for _ in CACHES]
    for c in copies:
        m = _ANY.match(c.path)
        if m is not None and m.lastgroup is not None:
            hits[int(m.lastgroup[1:])].append(c)
    out: list[Finding] = []
    for cache, found in zip(CACHES, hits, strict=True):
        out += layer_findings(cache.rule, image, found, f"{cache.what} left", cache.fix)
    return out


_PIP_INSTALL = re.compile(r"\b(?:pip3?|pip3\.\d+)\s+install\b")


def pip_history_findings(image: Image, copies: list[Copy]) -> list[Finding]:
    """`pip install` without `--no-cache-dir`, read from the history, where this build stored
    no pip cache (pip skips a cache it cannot write; the next build may not): informational,
    so `--fix` still adds the flag. Quiet when `PIP_NO_CACHE_DIR` is set in the config."""
    if any(e.startswith("PIP_NO_CACHE_DIR=") for e in image.env):
        return []
    cached = {c.layer for c in copies if matcher(("*/.cache/pip/*",)).match(c.path)}
    out = []
    for layer in range(len(image.layers)):
        command = instruction(image, layer)
        if layer in cached or not _PIP_INSTALL.search(command) or "--no-cache-dir" in command:
            continue
        out.append(
            Finding(
                rule=rules.PIP_CACHE,
                title=f"pip install without --no-cache-dir in layer {layer} (no cache stored "
                "by this build)",
                layers=(layer,),
                instruction=command,
                fix="add `--no-cache-dir` to `pip install` (or set `PIP_NO_CACHE_DIR=1`)",
                severity=Severity.INFO,
                detail="seen in the history; a build where pip can write its cache stores it",
            )
        )
    return out
