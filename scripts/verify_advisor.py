"""Verify the advisor on the real pyapp build (`make verify-advisor`; not a unit test).

Builds the pyapp pair with ../shared/fixtures/pyapp/build.sh (root, dockerd, the Debian and PyPI
mirrors), or uses an existing build: `PYAPP_OUT=DIR make verify-advisor`. Then checks:

1. every waste mistake of Dockerfile.bloated is found with the right rule, layer and line;
2. the fixed image has no finding above info;
3. the predicted recoverable bytes (findings above info) are within 15% of the real size
   difference between the two images;
4. `--fix` applied to Dockerfile.bloated builds (with a private dockerd, as build.sh does) an
   image within 15% of the fixed one's size (skipped, and said so, with `--no-build`).

Prints one line per check and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from layerscope.findings import dockerfile as df
from layerscope.findings.advice import Advice, advise
from layerscope.findings.engine import FindingOptions
from layerscope.findings.fix import fix_diff
from layerscope.findings.model import Finding, Severity
from layerscope.layer import tar_chunks
from layerscope.session import OpenedImage, open_image
from layerscope.sources.archive import spec_from_path
from layerscope.units import human_bytes

HERE = Path(__file__).resolve().parent.parent
FIXTURE = Path(os.environ.get("LAYERSCOPE_SHARED", HERE.parent / "shared")) / "fixtures" / "pyapp"
TOLERANCE = 0.15
failures: list[str] = []


def check(ok: bool, what: str) -> None:
    print(f"{'PASS' if ok else 'FAIL'}: {what}", flush=True)
    if not ok:
        failures.append(what)


def opened(path: Path) -> OpenedImage:
    return open_image(spec_from_path(path, str(path), None, None))


def advice_for(o: OpenedImage, dockerfile: Path) -> tuple[Advice, df.DockerfileMap]:
    mapping = df.map_layers(df.read(dockerfile), o.image)
    return advise(o, FindingOptions(dockerfile=mapping)), mapping


def line_of(d: df.Dockerfile, needle: str) -> int:
    return next(i.line for i in d.instructions if needle in f"{i.keyword} {i.text}")


def layer_at(mapping: df.DockerfileMap, line: int) -> int:
    return next(i for i, ins in enumerate(mapping.by_layer) if ins is not None and ins.line == line)


def find(advice: Advice, rule: str, line: int) -> list[Finding]:
    return [f for f in advice.findings if f.rule.id == rule and f.location.endswith(f":{line}")]


def check_bloated(o: OpenedImage, dockerfile: Path) -> Advice:
    advice, mapping = advice_for(o, dockerfile)
    d = mapping.dockerfile
    apt = line_of(d, "apt-get install")
    pip = line_of(d, "pip install")
    chown = line_of(d, "chown -R")
    purge = line_of(d, "apt-get purge")
    later_rm = line_of(d, "rm -rf /root/.cache/pip")
    lists = find(advice, "LS-W001", apt)
    check(
        bool(lists) and lists[0].level.at_least(Severity.MEDIUM),
        f"apt lists: LS-W001 at Dockerfile:{apt} (layer {layer_at(mapping, apt)})",
    )
    check(
        bool(lists) and lists[0].hidden_bytes > 0,
        f"apt lists deleted at line {later_rm} still counted (hidden "
        f"{human_bytes(lists[0].hidden_bytes if lists else 0)})",
    )
    caches = find(advice, "LS-W002", apt)
    check(
        bool(caches) and caches[0].shipped_bytes > 0,
        f"apt caches still shipping: LS-W002 at Dockerfile:{apt} "
        f"({human_bytes(caches[0].shipped_bytes if caches else 0)} shipped)",
    )
    pip_layer = layer_at(mapping, pip)
    cached = [p for p, _ in o.analysis.tree.changes(pip_layer) if "/.cache/pip/" in f"/{p}"]
    found_pip = find(advice, "LS-W003", pip)
    if cached:
        check(bool(found_pip), f"pip cache: LS-W003 at Dockerfile:{pip}")
    else:  # pip stored none in this build: the history still shows the missing flag
        check(
            bool(found_pip) and found_pip[0].recoverable_bytes == 0,
            f"pip install without --no-cache-dir (no cache stored in layer {pip_layer}): "
            f"LS-W003 from the history at Dockerfile:{pip}",
        )
    purged = [
        f
        for f in find(advice, "LS-W011", apt)
        if dict(f.evidence).get("deletedIn") == str(layer_at(mapping, purge))
    ]
    check(
        bool(purged) and any(p.path.endswith("/pip3") for p in purged[0].paths),
        f"python3-pip purged at line {purge}: LS-W011 at Dockerfile:{apt}",
    )
    rewrite = find(advice, "LS-W013", chown)
    check(
        bool(rewrite) and any(p.path == "/srv/app/main.py" for p in rewrite[0].paths),
        f"chown -R rewrite: LS-W013 at Dockerfile:{chown}",
    )
    env = [
        f
        for f in advice.findings
        if f.rule.id == "LS-W011" and any(p.path == "/srv/app/.env" for p in f.paths)
    ]
    check(bool(env), "the .env copied and deleted later: LS-W011")
    story = advice.stories[layer_at(mapping, line_of(d, "useradd"))]
    check("account databases" in story, f"useradd's layer story: {story[:70]}…")
    check(not advice.findings.check_disjoint(), "no byte counted by two findings")
    return advice


def check_fixed(o: OpenedImage, dockerfile: Path) -> None:
    advice, _ = advice_for(o, dockerfile)
    above = advice.findings.at_least(Severity.LOW)
    names = ", ".join(f"{f.rule.id} {f.title}" for f in above)
    check(
        not above,
        f"fixed image: no finding above info ({len(above)}{': ' + names if names else ''})",
    )


def within(a: int, b: int) -> bool:
    return b > 0 and abs(a - b) / b <= TOLERANCE


@contextmanager
def private_dockerd(work: Path) -> Iterator[dict[str, str]]:
    log = (work / "dockerd.log").open("w")
    proc = subprocess.Popen(
        [
            "dockerd",
            "--storage-driver=overlay2",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--host",
            f"unix://{work}/d.sock",
            "--data-root",
            f"{work}/root",
            "--exec-root",
            f"{work}/exec",
            "--pidfile",
            f"{work}/d.pid",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(120):
            if "API listen" in (work / "dockerd.log").read_text():
                break
            time.sleep(0.5)
        yield {**os.environ, "DOCKER_HOST": f"unix://{work}/d.sock", "DOCKER_BUILDKIT": "1"}
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


def build_fixed_by_fix(bloated: OpenedImage, diff: str, out: Path) -> Path:
    """Dockerfile.bloated patched with `diff`, built in the pyapp context; its docker-archive."""
    work = Path(tempfile.mkdtemp(prefix="verify-advisor-"))
    ctx = work / "ctx"
    shutil.copytree(FIXTURE / "context", ctx)
    for p in [ctx, *ctx.rglob("*")]:
        p.chmod(p.stat().st_mode | 0o200)
    with (ctx / "debian-bookworm-minbase-rootfs.tar").open("wb") as fh:
        for chunk in tar_chunks(bloated.blobs[0]):  # layer 0 is the ADDed root filesystem
            fh.write(chunk)
    subprocess.run([str(FIXTURE / "make-env.sh"), str(ctx / ".env")], check=True)
    target = ctx / "Dockerfile.autofix"
    shutil.copy(ctx / "Dockerfile.bloated", target)
    subprocess.run(["patch", "-s", str(target)], input=diff, text=True, check=True)
    docker = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
    hosts = "pypi.org files.pythonhosted.org"
    try:
        with private_dockerd(work) as env:
            subprocess.run(
                [
                    docker,
                    "build",
                    "--network",
                    "host",
                    "--progress",
                    "plain",
                    "--build-arg",
                    f"PIP_TRUSTED_HOST={hosts}",
                    "--build-arg",
                    "API_TOKEN=tok_verify",
                    "-f",
                    str(target),
                    "-t",
                    "layerscope-verify/pyapp:autofix",
                    str(ctx),
                ],
                env=env,
                check=True,
                stdout=(work / "build.log").open("w"),
                stderr=subprocess.STDOUT,
            )
            image = out / "pyapp-autofix.docker-archive.tar"
            subprocess.run(
                [docker, "save", "-o", str(image), "layerscope-verify/pyapp:autofix"],
                env=env,
                check=True,
            )
            return image
    finally:
        subprocess.run(["sh", "-c", f"umount {work}/exec/netns/* 2>/dev/null"], check=False)
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-build", action="store_true", help="skip building the --fix result")
    args = ap.parse_args()
    out_env = os.environ.get("PYAPP_OUT")
    out = Path(out_env) if out_env else Path(tempfile.mkdtemp(prefix="pyapp-out-"))
    if not out_env:
        subprocess.run([str(FIXTURE / "build.sh")], env={**os.environ, "OUT": str(out)}, check=True)
    context = FIXTURE / "context"
    with (
        opened(out / "pyapp-bloated.oci-archive.tar") as bloated,
        opened(out / "pyapp-fixed.oci-archive.tar") as fixed,
    ):
        advice = check_bloated(bloated, context / "Dockerfile.bloated")
        check_fixed(fixed, context / "Dockerfile.fixed")
        predicted = advice.findings.at_least(Severity.LOW).recoverable_bytes
        real = bloated.image.size - fixed.image.size
        check(
            within(predicted, real),
            f"predicted recoverable {human_bytes(predicted)} vs real "
            f"difference {human_bytes(real)} ({(predicted - real) / real:+.1%}, within 15%)",
        )
        mapping = df.map_layers(df.read(context / "Dockerfile.bloated"), bloated.image)
        diff = fix_diff(mapping.dockerfile, mapping, advice, bloated.analysis)
        check(bool(diff), "--fix produced a diff for Dockerfile.bloated")
        if args.no_build:
            print("SKIP: building the --fix result (--no-build)")
        else:
            built = build_fixed_by_fix(bloated, diff, out)
            with opened(built) as autofix:
                size, goal = autofix.image.size, fixed.image.size
                check(
                    within(size, goal),
                    f"--fix build {human_bytes(size)} vs fixed "
                    f"{human_bytes(goal)} ({(size - goal) / goal:+.1%}, within 15%)",
                )
    print(f"{'FAILED' if failures else 'PASSED'}: {len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
