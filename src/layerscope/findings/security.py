"""Security findings: secrets (in files of every layer, in the history, ENV and labels),
sensitive files, and permissions, each with the layer and instruction that put it there.

Two depths:
  * always (no file data read, no extra import; about 0.1 s per million paths): secret-named
    build arguments, ENV values and labels; setuid/setgid, world-writable and PATH entries
    writable by the runtime user; running as root;
  * with `contents=True` (`--security`, the explorer's findings view, a CI rule that needs it):
    sensitive file names and `.git/` directories (every version of every path: 0.3-0.5 s per
    million), and every version of every small text file scanned with the secret detectors
    (see `contentscan`); the detectors also read the history, ENV and labels.

Every value found is added to the returned `Redactor`; nothing here holds a value in a title,
detail, evidence or instruction except in its redacted form.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ..analysis import Analysis
from ..errors import ConfigError
from ..model import BlobRef, readable_command
from ..session import OpenedImage
from .contentscan import DEFAULT_LIMIT, ContentScan, ScannedFile, ScanStats, scan_contents, state_of
from .engine import FindingOptions
from .metadata import MetaSecret, metadata_secrets, runs_as_root
from .model import Category, Finding, FindingSet, PathRef, PathState, Rule, Severity
from .permissions import (
    PathPerm,
    runtime_user,
    security_base,
    setuid_files,
    world_writable,
    writable_path_entries,
)
from .redact import Redactor
from .secrets import Hit, SecretClass, SecretScanner, library_available
from .sensitive import git_directory, is_example, may_match, name_match

ReadFile = Callable[[str], str]
"""Reads a small file of the final filesystem (`/etc/passwd`, for the runtime user's ids)."""

_SECRET_FIX = (
    "keep it out of the build context (.dockerignore) and pass it only while building "
    "(`RUN --mount=type=secret,id=NAME`), or build in a stage and copy only the result; a later "
    "`rm` does not remove it from the layer that stored it. Rotate it: anyone who can pull the "
    "image has it."
)


def _rule(id_: str, severity: Severity, title: str, fix: str) -> Rule:
    return Rule(id_, Category.SECURITY, severity, title, fix)


PRIVATE_KEY = _rule("LS-S001", Severity.CRITICAL, "Private key stored in a layer", _SECRET_FIX)
CLOUD_KEY = _rule("LS-S002", Severity.CRITICAL, "Cloud credentials stored in a layer", _SECRET_FIX)
TOKEN = _rule("LS-S003", Severity.HIGH, "Access token stored in a layer", _SECRET_FIX)
PASSWORD = _rule(
    "LS-S004",
    Severity.HIGH,
    "Password in a URL or connection string stored in a layer",
    _SECRET_FIX,
)
ASSIGNMENT = _rule(
    "LS-S005", Severity.MEDIUM, "Secret-looking assignment in an environment file", _SECRET_FIX
)
KNOWN_VALUE = _rule(
    "LS-S006", Severity.HIGH, "A secret from the build metadata written into a file", _SECRET_FIX
)
SENSITIVE_NAME = _rule(
    "LS-S010",
    Severity.MEDIUM,
    "Sensitive file by name (.env, id_rsa, .git-credentials, .aws/credentials ...)",
    "exclude it from the build context (.dockerignore) or mount it at run time; " + _SECRET_FIX,
)
CREDENTIAL_SHAPE = _rule(
    "LS-S011",
    Severity.HIGH,
    "Credentials file (.npmrc, .pypirc, .netrc, Docker config, kubeconfig) holding credentials",
    "use `RUN --mount=type=secret,id=npmrc,target=/root/.npmrc` (or the tool's equivalent) "
    "instead of copying the file in",
)
GIT_DIR = _rule(
    "LS-S012",
    Severity.MEDIUM,
    "A .git directory in the image (its history may hold more)",
    "add `.git` to .dockerignore, or COPY only the files the image needs",
)
BUILD_ARG = _rule(
    "LS-S020",
    Severity.HIGH,
    "Secret build argument recorded in the image history",
    "pass it as a build secret: `RUN --mount=type=secret,id=NAME` with "
    "`docker build --secret id=NAME,env=NAME`, not ARG; rotate it (the history is public)",
)
HISTORY = _rule(
    "LS-S021",
    Severity.HIGH,
    "Secret in a layer command (the history)",
    "never write credentials into a Dockerfile instruction; use `RUN --mount=type=secret`",
)
ENV_VALUE = _rule(
    "LS-S022",
    Severity.HIGH,
    "Secret-looking ENV value in the image config",
    "set it when the container starts (an orchestrator secret, `docker run --env-file`), not ENV",
)
LABEL_VALUE = _rule(
    "LS-S023",
    Severity.HIGH,
    "Secret-looking label in the image config",
    "labels are public metadata: remove the value from LABEL",
)
SETUID = _rule(
    "LS-S030",
    Severity.HIGH,
    "setuid/setgid file added or changed by the image's own layers",
    "drop the bit where the file is created (`install -m 0755`, `COPY --chmod=0755`, "
    "`chmod u-s,g-s FILE` in the same RUN)",
)
SETUID_BASE = _rule(
    "LS-S031",
    Severity.INFO,
    "setuid/setgid files from the base image",
    "choose a minimal or distroless base, or `chmod u-s,g-s` the ones not needed",
)
WORLD_WRITABLE = _rule(
    "LS-S032",
    Severity.MEDIUM,
    "World-writable file or directory without the sticky bit",
    "`chmod o-w` (or `chmod +t` for a shared directory) in the RUN that creates it, or "
    "`COPY --chmod=`",
)
WRITABLE_PATH = _rule(
    "LS-S033",
    Severity.MEDIUM,
    "Executable or directory in PATH writable by the runtime user",
    "keep PATH binaries owned by root and not writable by the USER "
    "(`COPY --chown=root:root --chmod=0755`)",
)
ROOT_USER = _rule(
    "LS-S034",
    Severity.INFO,
    "The image runs as root (no USER)",
    "create a user (`RUN useradd -r app`) and add `USER app`",
)

RULES: tuple[Rule, ...] = (
    PRIVATE_KEY,
    CLOUD_KEY,
    TOKEN,
    PASSWORD,
    ASSIGNMENT,
    KNOWN_VALUE,
    SENSITIVE_NAME,
    CREDENTIAL_SHAPE,
    GIT_DIR,
    BUILD_ARG,
    HISTORY,
    ENV_VALUE,
    LABEL_VALUE,
    SETUID,
    SETUID_BASE,
    WORLD_WRITABLE,
    WRITABLE_PATH,
    ROOT_USER,
)
CONTENT_RULES = frozenset(
    r.id
    for r in (PRIVATE_KEY, CLOUD_KEY, TOKEN, PASSWORD, ASSIGNMENT, KNOWN_VALUE, CREDENTIAL_SHAPE)
)
_META_RULES = {"build": BUILD_ARG, "ENV": ENV_VALUE, "label": LABEL_VALUE}
_BY_CLASS = {
    SecretClass.PRIVATE_KEY: PRIVATE_KEY,
    SecretClass.CLOUD_KEY: CLOUD_KEY,
    SecretClass.TOKEN: TOKEN,
    SecretClass.PASSWORD: PASSWORD,
    SecretClass.ASSIGNMENT: ASSIGNMENT,
    SecretClass.KNOWN: KNOWN_VALUE,
}


@dataclass(frozen=True, slots=True)
class SecurityResult:
    findings: FindingSet
    redactor: Redactor
    """Every secret value found: scrub any text with it before it is shown."""
    scan: ScanStats | None = None
    """What the content scan read and skipped; None when contents were not scanned."""


def needs_contents(fail_on: Iterable[str]) -> bool:
    """Whether a CI `failOn` list can only be decided by scanning file contents."""
    severities = {s.value for s in Severity}
    return any(x.lower() in severities or x.upper() in CONTENT_RULES for x in fail_on)


def security_findings(
    analysis: Analysis,
    blobs: tuple[BlobRef, ...],
    *,
    contents: bool = False,
    limit: int = DEFAULT_LIMIT,
    read_file: ReadFile | None = None,
) -> SecurityResult:
    """All security findings of an opened image (see the module docstring for the two depths)."""
    if contents and not library_available():
        raise ConfigError(
            "--security needs the secret detectors: pip install 'layerscope[security]'"
        )
    scanner = SecretScanner() if contents else None
    redactor = Redactor()
    meta = metadata_secrets(analysis.image, scanner)
    redactor.add_all([m.secret for m in meta])
    scan: ContentScan | None = None
    if contents:
        known = SecretScanner(known=[m.secret for m in meta])
        scan = scan_contents(analysis, blobs, known, limit, keep=frozenset({PASSWD}))
        for f in scan.files:
            redactor.add_all([h.secret for h in f.hits])
        read_file = _kept_or(analysis, scan, read_file)
    builder = _Builder(analysis, redactor)
    found = [*builder.metadata(meta), *builder.permissions(read_file)]
    if scan is not None:
        found.extend(builder.names())
        found.extend(builder.contents(scan.files))
    return SecurityResult(FindingSet.of(found), redactor, scan.stats if scan else None)


PASSWD = "etc/passwd"


def _kept_or(analysis: Analysis, scan: ContentScan, read_file: ReadFile | None) -> ReadFile | None:
    """Read files the content scan kept from there, so no layer is read twice."""
    entry = analysis.tree.live.get(PASSWD)
    data = scan.kept.get((entry.content_hash, entry.size)) if entry is not None else None
    if data is None:
        return read_file
    text = data.decode("utf-8", "replace")
    return lambda path: (
        text if path.lstrip("/") == PASSWD else (read_file(path) if read_file else "")
    )


_DONE: weakref.WeakKeyDictionary[OpenedImage, dict[tuple[bool, int], SecurityResult]] = (
    weakref.WeakKeyDictionary()
)
"""Results per opened image, so the CLI's redaction and the advisor's producer scan once."""


class SecurityProducer:
    """The security rules as a producer for the advisor's engine (see `engine.Producer`)."""

    @property
    def rules(self) -> tuple[Rule, ...]:
        return RULES

    def __call__(self, opened: OpenedImage, options: FindingOptions) -> Iterable[Finding]:
        # Contents already scanned for this image (`--security`, the explorer's scan) count
        # even when these options do not ask for it.
        done = _DONE.get(opened, {})
        scanned = next((r for (contents, _), r in done.items() if contents), None)
        if scanned is not None and not options.security_contents:
            return scanned.findings
        result = scan_opened(opened, contents=options.security_contents, limit=options.scan_limit)
        return result.findings


def scan_opened(
    opened: OpenedImage, *, contents: bool = False, limit: int = DEFAULT_LIMIT
) -> SecurityResult:
    """`security_findings` of an opened image, reading `/etc/passwd` from it when needed; one
    run per image and settings (the result is kept while the image is open)."""
    memo = _DONE.setdefault(opened, {})
    if (contents, limit) not in memo:
        memo[(contents, limit)] = _scan_opened(opened, contents, limit)
    return memo[(contents, limit)]


def _scan_opened(opened: OpenedImage, contents: bool, limit: int) -> SecurityResult:

    def read_file(path: str) -> str:
        clean = path.lstrip("/")
        if clean not in opened.analysis.tree.live:
            return ""
        data, _ = opened.read_file(clean, len(opened.image.layers) - 1, limit=1 << 20)
        return data.decode("utf-8", "replace")

    return security_findings(
        opened.analysis, opened.blobs, contents=contents, limit=limit, read_file=read_file
    )


class _Builder:
    """Turns what the detectors saw into findings, with layers, instructions and fixes."""

    def __init__(self, analysis: Analysis, redactor: Redactor) -> None:
        self.analysis = analysis
        self.redactor = redactor
        self.base = security_base(analysis)

    def instruction(self, layer: int | None) -> str:
        if layer is None or layer >= len(self.analysis.image.layers):
            return ""
        created_by = self.analysis.image.layers[layer].history.created_by
        return self.redactor.scrub(readable_command(created_by))

    def ending(self, path: str, layer: int) -> str:
        """How a stored version stopped shipping: `deleted in layer 8`, `overwritten in 7`."""
        for v in self.analysis.tree.versions.get(path.lstrip("/"), ()):
            if v.layer > layer:
                return f"{'deleted' if v.entry is None else 'overwritten'} in layer {v.layer}"
        return "present in the final image"

    # -- secrets in files -------------------------------------------------------------------
    def contents(self, files: tuple[ScannedFile, ...]) -> Iterator[Finding]:
        groups: dict[tuple[str, str], list[tuple[ScannedFile, list[Hit]]]] = {}
        for f in files:
            by_rule: dict[str, list[Hit]] = {}
            for h in f.hits:
                by_rule.setdefault(_BY_CLASS[h.cls].id, []).append(h)
            for rule_id, hits in by_rule.items():
                groups.setdefault((rule_id, f.path), []).append((f, hits))
            if f.shape:
                groups.setdefault((CREDENTIAL_SHAPE.id, f.path), []).append((f, []))
        rules = {r.id: r for r in RULES}
        for (rule_id, path), versions in sorted(groups.items()):
            yield self._content_finding(rules[rule_id], path, versions)

    def _content_finding(
        self, rule: Rule, path: str, versions: list[tuple[ScannedFile, list[Hit]]]
    ) -> Finding:
        versions.sort(key=lambda v: v[0].layer)
        refs = tuple(PathRef(f.path, f.layer, f.size, f.state) for f, _ in versions)
        layers = tuple(sorted({f.layer for f, _ in versions}))
        secrets = {h.secret.value: h for _, hits in versions for h in hits}
        evidence = _evidence(secrets.values())
        first = versions[0][0]
        what = rule.title.lower() if not secrets else _kinds(secrets.values())
        if rule is CREDENTIAL_SHAPE:
            what = first.shape
        if any(r.state is PathState.PRESENT for r in refs):
            where = "present in the final image"
        else:
            where = f"{self.ending(path, refs[-1].layer)}, still shipped in layer " + ", ".join(
                str(x) for x in layers
            )
        severity = Severity.INFO if is_example(path) else None
        detail = (
            "an example, test or documentation file: check it is not a real credential"
            if severity
            else "every layer is a tar anyone who can pull the image can extract"
        )
        return Finding(
            rule=rule,
            title=f"{what} in {path} (layer {first.layer}; {where})",
            layers=layers,
            instruction=self.instruction(first.layer),
            fix=rule.fix,
            paths=refs,
            path_count=len(refs),
            severity=severity,
            detail=detail,
            evidence=evidence,
        )

    # -- metadata -----------------------------------------------------------------------------
    def metadata(self, found: list[MetaSecret]) -> Iterator[Finding]:
        """One finding per place and value; BuildKit records every ARG in scope in each RUN."""
        groups: dict[tuple[str, str], list[MetaSecret]] = {}
        for m in found:
            groups.setdefault((m.where, m.secret.value), []).append(m)
        for (where, _), ms in groups.items():
            rule = _META_RULES.get(where.partition(" ")[0], HISTORY)
            layers = tuple(sorted({m.layer for m in ms if m.layer is not None}))
            name = where.rpartition(" ")[2]
            used = [x for x in layers if _uses(self.analysis, x, name)] if rule is BUILD_ARG else []
            first = used[0] if used else (layers[0] if layers else None)
            if not layers:
                at = "the image config"
            elif len(layers) == 1:
                at = f"layer {layers[0]}"
            else:
                at = f"the history of {len(layers)} layers, " + (
                    f"used by layer {first}" if used else f"from layer {layers[0]}"
                )
            evidence = [("secret", str(ms[0].secret))]
            if used:
                evidence.append(("used by layers", ", ".join(str(x) for x in used)))
            yield Finding(
                rule=rule,
                title=f"{where} holds a secret ({at})",
                layers=layers,
                instruction=self.instruction(first),
                fix=rule.fix,
                detail="recognised by its name" if ms[0].by_name else "recognised by its value",
                evidence=tuple(evidence),
                cited_layer=first,
            )

    # -- names ----------------------------------------------------------------------------------
    def names(self) -> Iterator[Finding]:
        gits: dict[str, list[PathRef]] = {}
        versions_of = self.analysis.tree.versions
        for path in [p for p in versions_of if may_match(p)]:
            versions = versions_of[path]
            git = git_directory(path)
            if git is not None:
                for v in versions:
                    if v.entry is not None:
                        gits.setdefault(git, []).append(self._ref(path, v.layer, v.entry.size))
                continue
            match = name_match(path)
            if match is None:
                continue
            named = tuple(
                self._ref(path, v.layer, v.entry.size) for v in versions if v.entry is not None
            )
            if named:
                yield self._name_finding(path, match.what, match.severity, named)
        for git, refs in sorted(gits.items()):
            layers = tuple(sorted({r.layer for r in refs}))
            yield Finding(
                rule=GIT_DIR,
                title=f"git repository /{git} ({len(refs)} entries, layer {layers[0]})",
                layers=layers,
                instruction=self.instruction(layers[0]),
                fix=GIT_DIR.fix,
                paths=tuple(sorted(refs, key=lambda r: -r.size)[:20]),
                path_count=len(refs),
                severity=Severity.INFO if is_example(git) else None,
            )

    def _ref(self, path: str, layer: int, size: int) -> PathRef:
        return PathRef("/" + path, layer, size, state_of(self.analysis, path, layer))

    def _name_finding(
        self, path: str, what: str, severity: Severity, refs: tuple[PathRef, ...]
    ) -> Finding:
        layers = tuple(sorted({r.layer for r in refs}))
        present = any(r.state is PathState.PRESENT for r in refs)
        where = (
            "present in the final image"
            if present
            else f"{self.ending(path, layers[-1])}, still shipped"
        )
        return Finding(
            rule=SENSITIVE_NAME,
            title=f"{what}: /{path} (layer {layers[0]}; {where})",
            layers=layers,
            instruction=self.instruction(layers[0]),
            fix=SENSITIVE_NAME.fix,
            paths=refs,
            path_count=len(refs),
            severity=severity,
        )

    # -- permissions ----------------------------------------------------------------------------
    def permissions(self, read_file: ReadFile | None) -> Iterator[Finding]:
        special = setuid_files(self.analysis)
        own = [p for p in special if p.layer >= self.base]
        base = [p for p in special if p.layer < self.base]
        for p in own:
            yield self._perm(
                SETUID,
                p,
                f"setuid/setgid {p.path} ({oct(p.mode & 0o7777)}) "
                + ("rewritten" if p.was_special else "added")
                + f" by layer {p.layer}",
                Severity.LOW if p.was_special else None,
            )
        if base:
            yield self._group(
                SETUID_BASE, base, f"{len(base)} setuid/setgid files in the base image"
            )
        writable = world_writable(self.analysis)
        for p in writable:
            yield self._perm(
                WORLD_WRITABLE,
                p,
                f"world-writable {p.path} ({oct(p.mode & 0o7777)}) from layer {p.layer}",
                Severity.INFO if p.layer < self.base else None,
            )
        image = self.analysis.image
        if runs_as_root(image):
            yield Finding(
                rule=ROOT_USER,
                title="the image runs as root (no USER, or USER root)",
                layers=(),
                instruction="",
                fix=ROOT_USER.fix,
            )
        elif read_file is not None:
            yield from self._path_entries(read_file)

    def _path_entries(self, read_file: ReadFile) -> Iterator[Finding]:
        image = self.analysis.image
        user = runtime_user(image.user, lambda: read_file("/etc/passwd"))
        if user is None:
            return
        for p in writable_path_entries(self.analysis, user):
            yield self._perm(
                WRITABLE_PATH,
                p,
                f"{p.path} in PATH is writable by USER {image.user} (layer {p.layer})",
                None,
            )

    def _perm(self, rule: Rule, p: PathPerm, title: str, severity: Severity | None) -> Finding:
        return Finding(
            rule=rule,
            title=title,
            layers=(p.layer,),
            instruction=self.instruction(p.layer),
            fix=rule.fix,
            paths=(PathRef(p.path, p.layer, p.size, PathState.PRESENT),),
            path_count=1,
            severity=severity,
        )

    def _group(self, rule: Rule, perms: list[PathPerm], title: str) -> Finding:
        layers = tuple(sorted({p.layer for p in perms}))
        return Finding(
            rule=rule,
            title=title,
            layers=layers,
            instruction=self.instruction(layers[0]),
            fix=rule.fix,
            paths=tuple(PathRef(p.path, p.layer, p.size, PathState.PRESENT) for p in perms),
            path_count=len(perms),
        )


def _uses(analysis: Analysis, layer: int, name: str) -> bool:
    """Whether the layer's command reads the build argument (`$NAME` or `${NAME}`)."""
    command = readable_command(analysis.image.layers[layer].history.created_by)
    return f"${name}" in command or f"${{{name}" in command


def _evidence(hits: Iterable[Hit]) -> tuple[tuple[str, str], ...]:
    """One (name, redacted value) pair per secret; names are unique (JSON makes them keys)."""
    out: dict[str, str] = {}
    for h in hits:
        name = f"{h.secret.kind}, line {h.line}"
        while name in out:
            name += "'"
        out[name] = str(h.secret)
    return tuple(out.items())


def _kinds(hits: Iterable[Hit]) -> str:
    kinds = sorted({h.secret.kind for h in hits})
    return ", ".join(kinds)
