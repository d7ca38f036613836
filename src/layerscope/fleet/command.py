"""`layerscope scan`: analyse a fleet of images on Dask into a DuckDB file.

Exit codes: 0 every image analysed, 1 some images failed (each is recorded with its error),
2 bad input or settings (or the fleet extra is missing), 130 interrupted (finished images stay
in the file: `--resume` continues).
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ExitCode, ImageNotFound
from ..units import human_bytes

INSTALL = "pip install 'layerscope[fleet]'"
NEEDS = ("dask", "distributed", "duckdb")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="layerscope scan",
        description="Analyse every image of a registry, a list, a directory or an engine on "
        "Dask (shared layers are read once) and write the results to a DuckDB file.",
        epilog="Exit codes: 0 every image analysed, 1 some images failed (recorded with their "
        f"error), 2 bad input or settings. Needs the fleet extra: {INSTALL}",
    )
    p.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="registry://HOST[:PORT] (its whole catalog), a directory of image archives, "
        "docker:// or podman:// (every tagged image of the engine), or one image reference",
    )
    p.add_argument("--from", dest="from_file", metavar="FILE",
                   help="a file of image references, one a line (# comments)")  # fmt: skip
    p.add_argument("--repo-filter", metavar="GLOB", default="*",
                   help="registry repositories to scan (default: all)")  # fmt: skip
    p.add_argument("--tags", default="latest", metavar="latest|all|N",
                   help="registry tags per repository: latest (default), all, or the N newest "
                   "by image creation date")  # fmt: skip
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:8786",
        help="a running Dask scheduler (default: an embedded local cluster)",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes of the embedded cluster (default: one per core)",
    )
    p.add_argument("--out", default="scan.duckdb", metavar="FILE",
                   help="the DuckDB file to write (default: scan.duckdb; replaced unless "
                   "--resume)")  # fmt: skip
    p.add_argument("--parquet", metavar="DIR", help="also write each table as DIR/TABLE.parquet")
    p.add_argument("--resume", action="store_true",
                   help="keep the images --out already holds and scan only the rest")  # fmt: skip
    p.add_argument("--report", action="store_true",
                   help="print the fleet summary (alone: of the existing --out file)")  # fmt: skip
    p.add_argument("--cache-dir", metavar="DIR",
                   help="the workers' layer cache (default: each worker's own); a directory "
                   "every worker sees shares parsed layers across machines")  # fmt: skip
    p.add_argument("--no-cache", action="store_true",
                   help="parse every layer, use no layer cache")  # fmt: skip
    p.add_argument("--json-digest", action="store_true",
                   help="store per image the sha256 of the document `layerscope --json` "
                   "writes for it (without the capabilities' extensions), to compare with "
                   "single runs (about a third more work)")  # fmt: skip
    p.add_argument("--findings", action="store_true",
                   help="fill the findings table (the waste advisor and the security rules; "
                   "they read the layers they inspect again for each image)")  # fmt: skip
    p.add_argument("--packages", action="store_true",
                   help="fill the packages table (dpkg, apk, rpm, Python, npm databases; the "
                   "layers holding them are read again for each image)")  # fmt: skip
    p.add_argument("--insecure", action="store_true",
                   help="plain HTTP to the registry (always allowed for localhost)")  # fmt: skip
    return p


def missing_extra() -> list[str]:
    missing = []
    for name in NEEDS:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def _note(text: str) -> None:
    sys.stderr.write(f"layerscope scan: {text}\n")


def _refs(args: argparse.Namespace) -> list[str]:
    from .targets import (  # noqa: PLC0415
        TagChoice,
        engine_targets,
        from_directory,
        from_file,
        registry_targets,
    )

    choice = TagChoice.parse(args.tags)
    refs: list[str] = []
    if args.from_file:
        refs += from_file(Path(args.from_file))
    for target in args.targets:
        scheme, sep, rest = target.partition("://")
        if sep and scheme == "registry" and "/" not in rest.rstrip("/"):
            refs += registry_targets(rest.rstrip("/"), args.repo_filter, choice, args.insecure)
        elif target in ("docker://", "podman://", "docker", "podman"):
            refs += engine_targets(scheme if sep else target)
        elif not sep and Path(target).is_dir() and not (Path(target) / "index.json").exists():
            found = from_directory(Path(target))
            if not found:
                raise ImageNotFound(f"{target}: no image archives or OCI layouts in it")
            refs += found
        elif not sep and _looks_like_path(target) and not Path(target).exists():
            raise ImageNotFound(f"{target}: no such file or directory")
        else:
            refs.append(target)
    return list(dict.fromkeys(refs))


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", "./", "../", "~")) or text.endswith((".tar", ".tar.gz", ".tgz"))


def run(args: argparse.Namespace) -> int:
    missing = missing_extra()
    if missing:
        _note(f"needs {', '.join(missing)}, which the fleet extra installs: {INSTALL}")
        return ExitCode.ERROR
    from .report import fleet_report  # noqa: PLC0415
    from .store import check_writable, open_existing  # noqa: PLC0415

    out = Path(args.out)
    if not args.targets and not args.from_file:
        if not args.report:
            raise ConfigError("nothing to scan: give a TARGET or --from FILE (--help)")
        con = open_existing(out)
        try:
            sys.stdout.write(fleet_report(con))
        finally:
            con.close()
        return ExitCode.OK
    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    check_writable(out)
    refs = _refs(args)  # a bad target fails here, before --out is touched
    if not refs:
        raise ImageNotFound("no images to scan (check the targets, --repo-filter and --tags)")
    return _scan(args, refs, out)


def _scan(args: argparse.Namespace, refs: list[str], out: Path) -> int:
    from .runner import Cluster, connected  # noqa: PLC0415

    spool = ""
    if any(r.startswith(("docker://", "podman://")) for r in refs):
        spool = tempfile.mkdtemp(prefix="layerscope-scan-")
    try:
        with connected(Cluster(args.scheduler, args.workers)) as client:
            return _scan_into(client, args, refs, out, spool)
    finally:
        if spool:
            shutil.rmtree(spool, ignore_errors=True)


def _scan_into(client: Any, args: argparse.Namespace, refs: list[str], out: Path,
               spool: str) -> int:  # fmt: skip
    from .model import ImageRequest  # noqa: PLC0415
    from .progress import Bar  # noqa: PLC0415
    from .report import fleet_report  # noqa: PLC0415
    from .runner import scan  # noqa: PLC0415
    from .store import ScanStore  # noqa: PLC0415
    from .targets import TagChoice  # noqa: PLC0415

    store = ScanStore(out, resume=args.resume)  # only once the cluster answers
    try:
        done = store.finished() if args.resume else set()
        if done:
            _note(f"--resume: {len(done)} image(s) already in {out}")
        cache_dir = "" if args.no_cache else (
            os.path.abspath(args.cache_dir) if args.cache_dir else None)  # fmt: skip
        requests = [
            ImageRequest(
                r,
                r,
                args.insecure,
                cache_dir,
                spool,
                args.json_digest,
                args.packages,
                args.findings,
            )
            for r in refs
            if r not in done
        ]
        store.started(" ".join(args.targets) or str(args.from_file))
        bar = Bar(sys.stderr, sys.stderr.isatty())
        stats = scan(client, requests, store=store, choice=TagChoice.parse(args.tags), bar=bar,
                     note=_note)  # fmt: skip
        store.note(state="complete", images=stats.images, analysed=stats.analysed,
                   failed=stats.failed, distinct_layers=stats.distinct_layers,
                   layers_parsed=stats.layers_parsed, bytes_read=stats.bytes_read,
                   seconds=round(stats.seconds, 3), workers=stats.workers)  # fmt: skip
        if args.parquet:
            store.export_parquet(Path(args.parquet))
        _note(
            f"{stats.analysed} analysed, {stats.failed} failed, {stats.distinct_layers} distinct "
            f"layer(s), {stats.layers_parsed} parsed ({human_bytes(stats.bytes_read)}) in "
            f"{stats.seconds:.1f} s -> {out}"
        )
        if args.report:
            sys.stdout.write(fleet_report(store.con))
    finally:
        store.close()
    return ExitCode.FAILED if stats.failed else ExitCode.OK


def main(argv: Sequence[str]) -> int:
    return run(build_parser().parse_args(argv))
