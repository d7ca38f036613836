"""The waste rules: ids, severities, fixes, and the table of well-known paths each one owns.

Paths are matched without their leading `/`. `HOME` stands for any user's home directory
(`root/`, `home/NAME/`, and the few places tools put a shared cache), so a cache left by
`USER app` is found as surely as root's. Add a cache by adding a line to `CACHES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Category, Rule, Severity

HOME = r"(?:root|home/[^/]+|usr/local/share|var/lib/[^/]+|app|srv/[^/]+|opt/[^/]+)"


def _rule(id_: str, severity: Severity, title: str, fix: str) -> Rule:
    return Rule(id_, Category.WASTE, severity, title, fix)


APT_LISTS = _rule(
    "LS-W001",
    Severity.MEDIUM,
    "apt package lists left in a layer",
    "end the RUN that runs `apt-get update` with `&& rm -rf /var/lib/apt/lists/*` (or use "
    "`RUN --mount=type=cache,target=/var/lib/apt/lists`)",
)
APT_CACHE = _rule(
    "LS-W002",
    Severity.MEDIUM,
    "apt archives and caches left in a layer",
    "end the installing RUN with `&& apt-get clean` (or a cache mount on /var/cache/apt)",
)
PIP_CACHE = _rule(
    "LS-W003",
    Severity.MEDIUM,
    "pip cache left in a layer",
    "`pip install --no-cache-dir` (or `ENV PIP_NO_CACHE_DIR=1`, or a cache mount on ~/.cache/pip)",
)
NPM_CACHE = _rule(
    "LS-W004",
    Severity.MEDIUM,
    "npm cache left in a layer",
    "end the RUN with `&& npm cache clean --force`, or a cache mount on ~/.npm",
)
YARN_CACHE = _rule(
    "LS-W005",
    Severity.MEDIUM,
    "yarn cache left in a layer",
    "end the RUN with `&& yarn cache clean`, or a cache mount on the yarn cache",
)
PNPM_STORE = _rule(
    "LS-W006",
    Severity.MEDIUM,
    "pnpm store left in a layer",
    "end the RUN with `&& pnpm store prune`, or a cache mount on the pnpm store",
)
APK_CACHE = _rule(
    "LS-W007",
    Severity.MEDIUM,
    "apk cache left in a layer",
    "`apk add --no-cache` (or `&& rm -rf /var/cache/apk/*` in the same RUN)",
)
DNF_CACHE = _rule(
    "LS-W008",
    Severity.MEDIUM,
    "dnf/yum cache left in a layer",
    "end the installing RUN with `&& dnf clean all` (`yum clean all`)",
)
GO_CACHE = _rule(
    "LS-W009",
    Severity.MEDIUM,
    "Go build or module cache left in a layer",
    "build in a stage and copy only the binary, or a cache mount on /root/.cache/go-build "
    "and /go/pkg/mod",
)
JVM_CACHE = _rule(
    "LS-W010",
    Severity.MEDIUM,
    "Maven or Gradle repository left in a layer",
    "build in a stage and copy only the artifact, or a cache mount on ~/.m2 / ~/.gradle",
)
TOOL_LOGS = _rule(
    "LS-W011",
    Severity.INFO,
    "Logs written by package tools",
    "`&& rm -rf /var/log/apt /var/log/dpkg.log /var/log/*.log` in the installing RUN",
)
SYSTEM_STATE = _rule(
    "LS-W012",
    Severity.INFO,
    "System databases rewritten by a later layer (dpkg, debconf, ldconfig, accounts)",
    "expected when a later layer installs packages or adds users; fewer install layers store "
    "fewer copies",
)
REWRITTEN = _rule(
    "LS-W020",
    Severity.LOW,
    "Files stored again with only owner or mode changed (chown -R, chmod -R)",
    "`COPY --chown=USER:GROUP` / `--chmod=`, or change ownership in the RUN that created the files",
)
DELETED = _rule(
    "LS-W021",
    Severity.LOW,
    "Files created in one layer and deleted in a later one",
    "delete them in the RUN that created them, or build in a stage and copy only the result",
)
OVERWRITTEN = _rule(
    "LS-W022",
    Severity.LOW,
    "Files created in one layer and overwritten in a later one",
    "write the final version in the RUN that created the file, or build in a stage",
)
PURGED = _rule(
    "LS-W023",
    Severity.MEDIUM,
    "Packages removed in a later layer (`apt-get purge` frees nothing)",
    "remove them in the RUN that installed them, or install them only in a build stage",
)
TOOLCHAIN = _rule(
    "LS-W030",
    Severity.LOW,
    "Build toolchain and headers in the final image",
    "compile in a build stage and copy only the result into a runtime stage",
)
DEV_DEPS = _rule(
    "LS-W031",
    Severity.LOW,
    "npm devDependencies in the final image",
    "`npm ci --omit=dev` (or prune them: `npm prune --omit=dev`) in the final stage",
)
CONTEXT_JUNK = _rule(
    "LS-W032",
    Severity.LOW,
    "Build-context files a COPY dragged in (.git, host node_modules, __pycache__, .DS_Store)",
    "add the listed entries to .dockerignore, or COPY only what the image needs",
)
DUPLICATE = _rule(
    "LS-W040",
    Severity.LOW,
    "The same content stored at several paths",
    "keep one copy (a symlink, a single install location, or copy from one stage once)",
)
DOCS = _rule(
    "LS-W050",
    Severity.INFO,
    "Documentation, man pages and locales",
    "`apt-get install --no-install-recommends`, and dpkg `path-exclude=/usr/share/doc/*` "
    "(also man, info, locale) in /etc/dpkg/dpkg.cfg.d/ before installing",
)

WASTE_RULES: tuple[Rule, ...] = (
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
    TOOL_LOGS,
    SYSTEM_STATE,
    REWRITTEN,
    DELETED,
    OVERWRITTEN,
    PURGED,
    TOOLCHAIN,
    DEV_DEPS,
    CONTEXT_JUNK,
    DUPLICATE,
    DOCS,
)


@dataclass(frozen=True, slots=True)
class PathRule:
    """A rule that owns every stored copy under some well-known paths, shipped or not."""

    rule: Rule
    pattern: re.Pattern[str]
    what: str
    """How a title names the paths: `apt package lists`."""


def _p(rule: Rule, regex: str, what: str) -> PathRule:
    return PathRule(rule, re.compile(regex), what)


# Order matters: the first matching line claims a stored copy.
CACHES: tuple[PathRule, ...] = (
    _p(APT_LISTS, r"var/lib/apt/lists/(?!lock$|partial/?$)", "apt package lists"),
    _p(APT_CACHE, r"var/cache/apt/", "apt archives and caches"),
    _p(PIP_CACHE, rf"{HOME}/\.cache/pip/", "pip cache"),
    _p(NPM_CACHE, rf"{HOME}/\.npm/", "npm cache"),
    _p(YARN_CACHE, rf"(?:{HOME}/\.cache/yarn/|{HOME}/\.yarn/berry/cache/)", "yarn cache"),
    _p(PNPM_STORE, rf"(?:{HOME}/\.local/share/pnpm/store/|{HOME}/\.pnpm-store/)", "pnpm store"),
    _p(APK_CACHE, r"(?:var/cache/apk/|etc/apk/cache/)", "apk cache"),
    _p(DNF_CACHE, r"var/cache/(?:dnf|yum)/", "dnf/yum cache"),
    _p(GO_CACHE, rf"(?:{HOME}/\.cache/go-build/|(?:{HOME}/)?go/pkg/mod/)", "Go caches"),
    _p(JVM_CACHE, rf"{HOME}/(?:\.m2/repository/|\.gradle/caches/)", "Maven/Gradle repository"),
    _p(
        TOOL_LOGS,
        r"var/log/(?:apt/|dpkg\.log|alternatives\.log|yum\.log|dnf[^/]*\.log|hawkey\.log|"
        r"apk\.log|bootstrap\.log)",
        "package tool logs",
    ),
)

SYSTEM_PATHS = re.compile(
    r"(?:var/lib/dpkg/|var/cache/debconf/|var/cache/ldconfig/|etc/ld\.so\.cache$|"
    r"etc/(?:passwd|shadow|group|gshadow|subuid|subgid)-?$|var/log/(?:lastlog|faillog|wtmp|btmp)$|"
    r"var/lib/rpm/|lib/apk/db/|var/lib/systemd/|etc/ssl/certs/|usr/share/mime/|"
    r"var/lib/pam/|etc/alternatives/|var/lib/ucf/)"
)
DOC_PATHS = re.compile(
    r"usr/(?:share/)?(?:doc|man|info)/|usr/share/locale/(?!locale\.alias$)|usr/share/i18n/"
)
TOOLCHAIN_PATHS = re.compile(
    r"usr/include/|usr/lib/gcc/|usr/libexec/gcc/|usr/bin/(?:[\w-]*-)?(?:gcc|g\+\+|cc1\w*|c\+\+|"
    r"cpp|as|ld(?:\.bfd|\.gold)?)(?:-\d+)?$|usr/lib/llvm-\d+/|usr/local/go/pkg/tool/"
)
# The build-context entries `COPY . .` drags in, and their .dockerignore lines.
CONTEXT_ENTRIES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:^|/)\.git/"), ".git"),
    (re.compile(r"(?:^|/)\.(?:hg|svn)/"), ".hg, .svn"),
    (re.compile(r"(?:^|/)node_modules/"), "node_modules"),
    (re.compile(r"(?:^|/)__pycache__/"), "**/__pycache__"),
    (re.compile(r"(?:^|/)\.DS_Store$"), "**/.DS_Store"),
    (re.compile(r"(?:^|/)Thumbs\.db$"), "**/Thumbs.db"),
    (re.compile(r"(?:^|/)\.(?:pytest_cache|mypy_cache|tox|ruff_cache|venv)/"), "the tool's dir"),
    (re.compile(r"(?:^|/)(?:\.idea|\.vscode)/"), ".idea, .vscode"),
    (re.compile(r"\.(?:swp|pyc)$"), "*.swp, **/*.pyc"),
)
PACKAGE_REMOVAL = re.compile(
    r"\b(?:apt-get|apt|aptitude)\s+(?:-\S+\s+)*(?:purge|remove|autoremove)\b|\bdpkg\s+(?:-r|-P|"
    r"--remove|--purge)\b|\bapk\s+del\b|\b(?:dnf|yum|microdnf)\s+(?:-\S+\s+)*(?:remove|erase)\b|"
    r"\bpip3?\s+uninstall\b|\bnpm\s+(?:uninstall|prune)\b"
)
