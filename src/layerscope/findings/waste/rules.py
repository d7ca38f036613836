"""The waste rules: ids, default severities, titles and generic fixes (the rules table)."""

from __future__ import annotations

from ..model import Category, Rule, Severity

_W, _I, _L, _M = Category.WASTE, Severity.INFO, Severity.LOW, Severity.MEDIUM

APT_LISTS = Rule(
    "LS-W001",
    _W,
    _M,
    "apt package lists left in a layer (/var/lib/apt/lists)",
    "end the RUN that ran `apt-get update` with `&& rm -rf /var/lib/apt/lists/*`, or use "
    "`RUN --mount=type=cache,target=/var/lib/apt/lists`",
)
APT_CACHE = Rule(
    "LS-W002",
    _W,
    _M,
    "apt archives and caches left in a layer (/var/cache/apt)",
    "end the installing RUN with `&& apt-get clean`, or use "
    "`RUN --mount=type=cache,target=/var/cache/apt`",
)
PIP_CACHE = Rule(
    "LS-W003",
    _W,
    _M,
    "pip cache left in a layer (~/.cache/pip of any user)",
    "`pip install --no-cache-dir` (or `ENV PIP_NO_CACHE_DIR=1`), or "
    "`RUN --mount=type=cache,target=/root/.cache/pip`",
)
NPM_CACHE = Rule(
    "LS-W004",
    _W,
    _M,
    "npm cache left in a layer (~/.npm/_cacache)",
    "`&& npm cache clean --force` in the same RUN, or `RUN --mount=type=cache,target=/root/.npm`",
)
YARN_CACHE = Rule(
    "LS-W005",
    _W,
    _M,
    "yarn cache left in a layer",
    "`&& yarn cache clean` in the same RUN, or a cache mount on the yarn cache folder",
)
PNPM_STORE = Rule(
    "LS-W006",
    _W,
    _M,
    "pnpm store left in a layer",
    "`&& pnpm store prune` in the same RUN, or a cache mount on the store, or a multi-stage build",
)
APK_CACHE = Rule(
    "LS-W007",
    _W,
    _M,
    "apk cache left in a layer (/var/cache/apk)",
    "`apk add --no-cache`",
)
DNF_CACHE = Rule(
    "LS-W008",
    _W,
    _M,
    "dnf/yum cache left in a layer (/var/cache/dnf, /var/cache/yum)",
    "`&& dnf clean all` (or `yum clean all`) in the same RUN, or a cache mount",
)
GO_CACHE = Rule(
    "LS-W009",
    _W,
    _M,
    "Go build or module cache left in a layer",
    "build in a stage and COPY the binary into the final one, or "
    "`RUN --mount=type=cache,target=/root/.cache/go-build` (and `/go/pkg/mod`)",
)
JVM_CACHE = Rule(
    "LS-W010",
    _W,
    _M,
    "Maven or Gradle repository left in a layer (~/.m2, ~/.gradle)",
    "build in a stage and COPY the artifact into the final one, or a cache mount on "
    "`/root/.m2` / `/root/.gradle`",
)
DELETED_LATER = Rule(
    "LS-W011",
    _W,
    _M,
    "files created in one layer and deleted in a later one (incl. packages purged later)",
    "delete them in the RUN that created them (a later delete frees nothing), or build in a "
    "stage and COPY the result",
)
OVERWRITTEN = Rule(
    "LS-W012",
    _W,
    _L,
    "files written in one layer and overwritten in a later one",
    "write the final content once: do both steps in one RUN, or build in a stage",
)
REWRITTEN = Rule(
    "LS-W013",
    _W,
    _M,
    "same content stored again: only owner or mode changed (chown -R, chmod -R)",
    "`COPY --chown=USER:GROUP` / `--chmod`, or change ownership in the RUN that created the files",
)
DEV_DEPENDENCIES = Rule(
    "LS-W014",
    _W,
    _M,
    "npm devDependencies installed in the final image",
    "`npm ci --omit=dev` (or `npm prune --omit=dev`), or install them only in a build stage",
)
TOOLCHAIN = Rule(
    "LS-W015",
    _W,
    _L,
    "build toolchain and headers in the final image (compilers, *-dev packages, /usr/include)",
    "compile in a build stage and COPY only the result into a runtime stage",
)
CONTEXT_JUNK = Rule(
    "LS-W016",
    _W,
    _M,
    "files a COPY of the build context dragged in (.git/, host "
    "node_modules, __pycache__, .DS_Store ...)",
    "add the listed entries to `.dockerignore`",
)
DUPLICATES = Rule(
    "LS-W017",
    _W,
    _L,
    "the same content stored at several paths or in several layers",
    "keep one copy: COPY or install it once, link the others, or build in a stage",
)
DOCS = Rule(
    "LS-W018",
    _W,
    _I,
    "docs, man pages and locales",
    "`apt-get install --no-install-recommends`, and dpkg `path-exclude=/usr/share/doc/*` "
    "(man, info, locale) in /etc/dpkg/dpkg.cfg.d/ before installing",
)
TOOL_LOGS = Rule(
    "LS-W019",
    _W,
    _L,
    "logs written by package tools (apt, dpkg, dnf, yum)",
    "remove them in the same RUN: `&& rm -rf /var/log/apt/* /var/log/dpkg.log "
    "/var/log/alternatives.log`",
)

ALL = (
    APT_LISTS,
    APT_CACHE,
    PIP_CACHE,
    NPM_CACHE,
    YARN_CACHE,
    PNPM_STORE,
    APK_CACHE,
    DNF_CACHE,
    GO_CACHE,
    JVM_CACHE,
    DELETED_LATER,
    OVERWRITTEN,
    REWRITTEN,
    DEV_DEPENDENCIES,
    TOOLCHAIN,
    CONTEXT_JUNK,
    DUPLICATES,
    DOCS,
    TOOL_LOGS,
)
