"""The command line: the only module that knows the core, the sources and the outputs.

Exit codes (`errors.ExitCode`): 0 success (CI rules passed), 1 a CI rule failed, 2 any error in
the input or settings, 3 a bug in layerscope (the traceback goes to a crash log), 130 ctrl+c,
143 SIGTERM (both after removing temporary files).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import ConfigError, ExitCode, LayerscopeError
from .findings import command as advisor_command
from .findings import flags as security_flags
from .packages import command as packages
from .sources import ARCHIVE_SCHEMES, LIVE_SCHEMES

# The core is imported where it is used, not here: `--version` and `--help` start in a few tens
# of milliseconds, and each path loads only what it needs (no YAML parser without a .dive-ci,
# no HTTP client without a registry, no numpy or Textual outside the explorer).
if TYPE_CHECKING:
    from .cache import LayerCache
    from .ci import Rule
    from .loader import Progress, ProgressFn
    from .session import OpenedImage
    from .sources.resolve import Request
    from .sources.spec import ImageSpec

EXIT_OK, EXIT_FAILED, EXIT_ERROR = ExitCode.OK, ExitCode.FAILED, ExitCode.ERROR


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="layerscope",
        description="Show what is inside a container image, layer by layer, and where its "
        "bytes are wasted. Reads docker-archive tarballs (docker save, buildah, podman, "
        "skopeo, kaniko, Docker 25+) and OCI layouts, as a directory or a tar.",
        epilog="Exit codes: 0 success, 1 a CI rule failed, 2 an error in the input or settings, "
        "3 a bug in layerscope (see the crash log named on stderr), 130 interrupted, "
        "143 terminated.",
    )
    p.add_argument(
        "image",
        metavar="IMAGE",
        help="an image archive or OCI layout (PATH, PATH:name:tag, docker-archive://PATH, "
        "a .tar.gz or .tar.zst of one, '-' for an archive piped in on stdin, "
        "oci-archive://PATH), docker://NAME, podman://NAME, "
        "registry://HOST[:PORT]/REPO[:TAG|@DIGEST], or a NAME (the local engine, else the "
        "registry); 'layerscope cache' shows and prunes the layer cache; "
        "'layerscope diff A B' compares two images; 'layerscope scan' analyses a fleet of "
        "images ('layerscope scan --help')",
    )
    p.add_argument(
        "-j",
        "--json",
        metavar="FILE",
        help="write the analysis as JSON (dive's schema plus layerscope's) to FILE, '-' for stdout",
    )
    p.add_argument(
        "--html",
        metavar="FILE",
        help="write a self-contained HTML report (facts, layers, a zoomable treemap) to FILE",
    )
    p.add_argument(
        "--ci",
        action="store_true",
        help="evaluate the CI rules and exit 1 if one fails (also when the "
        "environment has CI=true)",
    )
    p.add_argument(
        "--ci-config",
        metavar="FILE",
        default=".dive-ci",
        help="YAML file with dive's CI rules (default: .dive-ci, if present)",
    )
    p.add_argument(
        "--lowestEfficiency",
        metavar="RATIO",
        help="fail if efficiency is below this (0..1, default 0.9)",
    )
    p.add_argument(
        "--highestWastedBytes",
        metavar="SIZE",
        help="fail if wasted bytes exceed this (e.g. 20MB; default disabled)",
    )
    p.add_argument(
        "--highestUserWastedPercent",
        metavar="RATIO",
        help="fail if wasted / user bytes exceeds this (0..1, default 0.1)",
    )
    p.add_argument(
        "--source",
        choices=[*ARCHIVE_SCHEMES, *LIVE_SCHEMES],
        help="where the image is (default: read from IMAGE)",
    )
    p.add_argument(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="choose one platform of a multi-platform image",
    )
    p.add_argument(
        "--tag", metavar="NAME:TAG", help="choose one image of an archive that holds several"
    )
    p.add_argument(
        "-i",
        "--ignore-errors",
        action="store_true",
        help="accepted for dive compatibility; layerscope never ignores a bad image",
    )
    p.add_argument(
        "--summary",
        action="store_true",
        help="print the summary instead of opening the explorer (the default when stdout "
        "is not a terminal)",
    )
    p.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        help="explorer settings (dive's .dive.yaml keys); default: the first YAML file in "
        "$XDG_CONFIG_HOME/layerscope, then dive's places",
    )
    p.add_argument(
        "--username",
        metavar="USER",
        help="registry user (the password from --password-stdin or $LAYERSCOPE_PASSWORD); "
        "default: the Docker config file and its credential helpers",
    )
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument(
        "--insecure",
        action="store_true",
        help="plain HTTP to the registry (always allowed for localhost)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="read every layer, and store none, instead of using the layer cache",
    )
    advisor_command.add_arguments(p)
    security_flags.add_arguments(p)
    packages.add_arguments(p)
    p.add_argument("--version", action="version", version=f"layerscope {__version__}")
    return p


def _env_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _use_color(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ


def _progress_printer() -> ProgressFn | None:
    if not sys.stderr.isatty():
        return None

    from .units import human_bytes  # noqa: PLC0415

    def show(p: Progress) -> None:
        end = "\n" if p.layers_done == p.layers_total else ""
        sys.stderr.write(
            f"\rLoading image: layers {p.layers_done}/{p.layers_total}, "
            f"{human_bytes(p.bytes_read)} read, {p.entries} files{end}"
        )
        sys.stderr.flush()

    return show


def _request(args: argparse.Namespace, image: str | None = None) -> Request:
    from .model import Platform  # noqa: PLC0415
    from .sources.credentials import Credentials  # noqa: PLC0415
    from .sources.resolve import Request  # noqa: PLC0415

    platform = None
    if args.platform:
        try:
            platform = Platform.parse(args.platform)
        except ValueError as exc:
            raise ConfigError(f"--platform: {exc}") from None
    creds = None
    if args.username:
        secret = os.environ.get("LAYERSCOPE_PASSWORD")
        if args.password_stdin:
            if args.image == "-":
                raise ConfigError("--password-stdin cannot share stdin with the image ('-')")
            secret = sys.stdin.readline().rstrip("\n")
        if secret is None:
            raise ConfigError("--username needs --password-stdin or LAYERSCOPE_PASSWORD")
        creds = Credentials(args.username, secret)
    return Request(image or args.image, args.source, args.tag, platform, creds, args.insecure)


def _note(text: str) -> None:
    sys.stderr.write(f"layerscope: {text}\n")


def open_spec(args: argparse.Namespace, image: str | None = None) -> ImageSpec:
    """The spec of `image` (default: the IMAGE argument) with the command line's options;
    what the source says about how it read the image goes to stderr."""
    from .sources.resolve import open_spec as resolve_spec  # noqa: PLC0415

    spec = resolve_spec(_request(args, image), _note)
    for warning in spec.warnings:
        _note(warning)
    return spec


def _cache(args: argparse.Namespace) -> LayerCache | None:
    from .cache import LayerCache, default_dir  # noqa: PLC0415

    return None if args.no_cache else LayerCache(default_dir())


def open_analysed(args: argparse.Namespace) -> OpenedImage:
    """The image read and analysed, still open (package databases and files are read from it)."""
    cache = _cache(args)
    try:
        from .session import open_image  # noqa: PLC0415

        return open_image(open_spec(args), _progress_printer(), cache)
    finally:
        if cache is not None and cache.write_errors:
            _note(f"layer cache not written ({cache.write_errors[0]}); use --no-cache")


def explore(args: argparse.Namespace) -> int:
    """Open the explorer; Textual is imported only here, so CI runs never load it."""
    from .analysis import analyse  # noqa: PLC0415
    from .findings.secure import secure  # noqa: PLC0415
    from .loader import load_image  # noqa: PLC0415
    from .session import OpenedImage  # noqa: PLC0415
    from .ui.app import LayerscopeApp  # noqa: PLC0415
    from .uiconfig import load_ui_config  # noqa: PLC0415

    config = load_ui_config(Path(args.config) if args.config else None)
    spec = open_spec(args)  # a missing file or a bad archive fails here, before the screen

    def loader(progress: ProgressFn) -> OpenedImage:
        opened = OpenedImage(spec, analyse(load_image(spec, progress, _cache(args))))
        limit = security_flags.scan_limit(args)
        opened.analysis = secure(opened, args.security, limit)[0]  # secrets redacted
        opened.index  # noqa: B018  (built in the loading thread, not on the first frame)
        return opened

    app = LayerscopeApp(loader=loader, ui_config=config, what=spec.source)
    try:
        code = app.run()
    finally:
        spec.close()
    if app.crash is not None:
        # The app has closed and the terminal is restored: the crash handler takes it from here.
        raise app.crash
    if app.load_error is not None:
        sys.stderr.write(f"layerscope: error: {app.load_error}\n")
        return EXIT_ERROR
    return code or EXIT_OK


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _rules(args: argparse.Namespace) -> list[Rule]:
    from .ci import load_rules_file, resolve_rules  # noqa: PLC0415

    path = Path(args.ci_config)
    file_rules = load_rules_file(path) if path.is_file() else {}
    if not path.is_file() and args.ci_config != ".dive-ci":
        raise ConfigError(f"{path}: CI config file not found")
    flags = {
        "lowestEfficiency": args.lowestEfficiency,
        "highestWastedBytes": args.highestWastedBytes,
        "highestUserWastedPercent": args.highestUserWastedPercent,
    }
    return resolve_rules(file_rules, flags)


def run(args: argparse.Namespace) -> int:
    ci_flag = args.ci
    ci_mode = ci_flag or _env_ci()
    # dive: --json skips the CI gate. Kept when CI comes only from the environment (CI=true is
    # set by every CI service), so a JSON-export job does not start failing; an explicit --ci
    # with --json does both.
    gate = ci_mode and (args.json is None or ci_flag)
    quiet = args.json is None and args.html is None and not args.fix
    if not ci_mode and quiet and not args.summary and not args.sarif and _interactive():
        return explore(args)
    from .ci import describe as describe_ci  # noqa: PLC0415
    from .ci import evaluate, passed  # noqa: PLC0415
    from .export import to_document, write_json  # noqa: PLC0415
    from .findings.secure import scan_json, scan_note, secure  # noqa: PLC0415
    from .report import ci_report, summary  # noqa: PLC0415

    rules = _rules(args) if gate else None  # bad rule values fail before the long load
    advisor = advisor_command.prepare(args, gate)
    plan = packages.plan(args, gate, text=not gate and args.json is None)
    with open_analysed(args) as opened:
        # Every output is rendered from a copy of the analysis with each secret found redacted.
        opened.analysis, security = secure(opened, advisor.security_contents, advisor.scan_limit)
        analysis = opened.analysis
        advice = advisor.advise(opened)
        pkgs = packages.analyse(plan, opened)
        advisor.write_sarif(advice, opened)
        fix = advisor.diff(opened, advice) if args.fix else None
    if security.scan is not None:
        _note(scan_note(security.scan))
    results = None
    if rules is not None:
        results = evaluate(rules, analysis) + advisor.gate(analysis, advice)
        results += packages.results(plan, pkgs)
    packages.write_sbom(args, pkgs, analysis.image.name)
    # The document (dive's per-layer file lists included) is built only for an output that
    # needs it: a --ci run without --json or --html never pays for it.
    doc: dict[str, Any] = {}
    if args.json is not None or args.html is not None:
        ci_doc = describe_ci(results) if results else None
        extensions = {**advisor.extensions(advice), **packages.extensions(args, pkgs)}
        extensions["security"] = scan_json(security.scan)
        doc = to_document(analysis, ci_doc, extensions)
    if args.json is not None:
        write_json(doc, args.json)
    if args.html is not None:
        from .html.report import image_report, write_html  # noqa: PLC0415
        from .html.tree import finding_paths, image_tree  # noqa: PLC0415

        write_html(image_report(doc, image_tree(analysis, finding_paths(doc))), args.html)
    if fix is not None:
        sys.stdout.write(fix)
    if results is not None:
        out = sys.stderr if args.json == "-" or args.fix else sys.stdout
        out.write(ci_report(analysis, results, _use_color(out)))
        return EXIT_OK if passed(results) else EXIT_FAILED
    if quiet and args.sbom != "-":
        color = _use_color(sys.stdout)
        sys.stdout.write(summary(analysis, color))
        sys.stdout.write(advisor.section(advice, opened, color))
        sys.stdout.write(packages.summary_text(args, pkgs))
    return EXIT_OK


def cache_command(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="layerscope cache",
        description="Show the layer cache (where, how many layers, how big), or prune it.",
    )
    p.add_argument("action", nargs="?", choices=["show", "prune", "clear"], default="show")
    p.add_argument(
        "--keep",
        metavar="SIZE",
        default="2GB",
        help="prune: keep at most this much, least recently used first out (default 2GB)",
    )
    args = p.parse_args(argv)
    from .cache import LayerCache, default_dir  # noqa: PLC0415
    from .units import human_bytes, parse_bytes  # noqa: PLC0415

    cache = LayerCache(default_dir())
    if args.action != "show":
        keep = 0 if args.action == "clear" else parse_bytes(args.keep)
        removed = cache.prune(keep)
        sys.stdout.write(f"removed {removed} layer(s)\n")
    st = cache.stats()
    sys.stdout.write(f"{st.directory}: {st.layers} layer(s), {human_bytes(st.bytes)}\n")
    return EXIT_OK


def diff_command(argv: Sequence[str]) -> int:
    """`layerscope diff A B`: the comparison lives in `compare/`; here only how to open things."""
    from .compare import command  # noqa: PLC0415

    p = argparse.ArgumentParser(
        prog="layerscope diff",
        description="Compare two images: layers shared, bytes to pull, files, packages and "
        "findings that changed. A and B take every form the main command takes.",
        epilog="Exit codes: 0 success, 1 a --max-growth or --fail-on-new rule failed, 2 an error.",
    )
    command.add_arguments(p)
    p.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", help="the platform of both images")
    p.add_argument("--username", metavar="USER", help="registry user, as for the main command")
    p.add_argument("--config", metavar="FILE", help="explorer settings, as for the main command")
    for flag, text in (
        ("--password-stdin", "read the registry password from stdin"),
        ("--insecure", "plain HTTP to the registry (always allowed for localhost)"),
        ("--no-cache", "read every layer, and store none, instead of using the layer cache"),
        ("--no-packages", "leave the installed packages out of the comparison"),
    ):
        p.add_argument(flag, action="store_true", help=text)
    args = p.parse_args(argv)
    args.source, args.tag = None, None
    cache = _cache(args)

    def open_one(ref: str) -> OpenedImage:
        from .session import open_image  # noqa: PLC0415

        return open_image(open_spec(args, ref), _progress_printer(), cache)

    hooks = command.Hooks(
        open_image=open_one,
        explore=lambda a, b: _explore_diff(args, a, b),
        write_html=_write_diff_html,
        interactive=_interactive(),
        color=_use_color(sys.stdout),
        **_diff_providers(args),
    )
    return command.run(args, hooks)


def _diff_providers(args: argparse.Namespace) -> dict[str, Any]:
    """Findings (every registered producer: waste and security rules, metadata and names, no
    content scan) and the packages still in the final filesystem join the comparison."""
    from .compare.model import PackageRecord  # noqa: PLC0415
    from .findings.advice import advise  # noqa: PLC0415
    from .findings.model import FindingSet  # noqa: PLC0415
    from .packages.analyse import analyse_packages  # noqa: PLC0415

    def findings(opened: OpenedImage) -> FindingSet:
        # One collect over all producers: a byte claimed by one family is not counted again.
        return advise(opened).findings

    found: dict[str, Any] = {"findings": findings}
    if not args.no_packages:

        def packages(opened: OpenedImage) -> tuple[PackageRecord, ...]:
            usages = analyse_packages(opened, reach=False).attribution.usages
            return tuple(u.package for u in usages if u.removed_in is None)

        found["packages"] = packages
    return found


def _explore_diff(args: argparse.Namespace, a: OpenedImage, b: OpenedImage) -> int:
    from .compare.diff import compare  # noqa: PLC0415
    from .compare.summary import headline  # noqa: PLC0415
    from .compare.text import figures  # noqa: PLC0415
    from .ui.diffview import DiffApp, merged_opened  # noqa: PLC0415
    from .uiconfig import load_ui_config  # noqa: PLC0415

    config = load_ui_config(Path(args.config) if args.config else None)
    diff = compare(a, b)
    summary = "\n".join([headline(diff), "", *(line.strip() for line in figures(diff))])
    return DiffApp(merged_opened(a, b), summary, config).run() or EXIT_OK


def _write_diff_html(doc: dict[str, Any], b: OpenedImage, target: str) -> None:
    from .html.report import diff_report, write_html  # noqa: PLC0415
    from .html.tree import diff_tree  # noqa: PLC0415

    write_html(diff_report(doc, diff_tree(doc, b.analysis.tree)), target)


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every `finally` cleans up as for ctrl+c."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        if argv[:1] == ["cache"]:
            return cache_command(argv[1:])
        if argv[:1] == ["diff"]:
            return diff_command(argv[1:])
        if argv[:1] == ["scan"]:
            from .fleet.command import main as scan_main  # noqa: PLC0415  (an optional extra)

            return scan_main(argv[1:])
        args = build_parser().parse_args(argv)
        return run(args)
    except LayerscopeError as exc:
        sys.stderr.write(f"layerscope: error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("layerscope: interrupted\n")
        return ExitCode.INTERRUPTED
    except Terminated:
        sys.stderr.write("layerscope: terminated\n")
        return ExitCode.TERMINATED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        return crashed(exc)


def crashed(exc: BaseException) -> int:
    """Report a bug: one line on stderr, the traceback in a crash log; ExitCode.INTERNAL."""
    import time  # noqa: PLC0415
    import traceback  # noqa: PLC0415

    from .cache import default_dir  # noqa: PLC0415

    text = "".join(traceback.format_exception(exc))
    where = "stderr"
    try:
        log_dir = default_dir().parent
        log_dir.mkdir(parents=True, exist_ok=True)
        log = log_dir / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        log.write_text(f"layerscope {__version__}\n{' '.join(sys.argv)}\n\n{text}")
        where = str(log)
    except OSError:
        sys.stderr.write(text)
    sys.stderr.write(
        f"layerscope: internal error: {type(exc).__name__}: {exc} (a bug; traceback in {where})\n"
    )
    return ExitCode.INTERNAL
