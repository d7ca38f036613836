"""`make bench`: layerscope against dive on a large realistic image (a benchmark, not a test).

Generates (once, cached in bench/out) an image of over 500 MB, 50,000 entries and 10 layers with
overwrites, deletes and cache directories, as a docker-archive and an OCI archive; accepts more
image paths as arguments. Runs `layerscope --ci` on each and `dive --ci` on the docker-archives,
and prints wall time, peak memory and their ratios.

    python bench/run.py [--runs N] [IMAGE ...]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from imagebuilder import D, F, ImageDef, Layer, W, write_docker_archive, write_oci_layout  # noqa: E402

OUT = ROOT / "bench" / "out"
_POOL = random.Random(7).randbytes(8 << 20)


def _data(rng: random.Random, size: int) -> bytes:
    start = rng.randrange(0, len(_POOL) - size)
    return _POOL[start : start + size]


def _tree(rng: random.Random, root: str, count: int, mean: int) -> list[F]:
    out: list[F] = [D(root)]
    for d in range(count // 50 + 1):
        out.append(D(f"{root}/d{d:04d}"))
        for i in range(min(50, count - d * 50)):
            out.append(F(f"{root}/d{d:04d}/f{i:03d}.dat", _data(rng, rng.randint(1, 2 * mean))))
    return out


def big_image() -> ImageDef:
    rng = random.Random(42)
    base = [D("usr"), *_tree(rng, "usr/lib", 22_000, 9_000)]
    apt = [D("var"), D("var/lib"), *_tree(rng, "var/lib/apt", 2_500, 24_000)]
    pkgs = [D("usr"), *_tree(rng, "usr/share", 14_000, 11_000)]
    cache = [D("root"), D("root/.cache"), *_tree(rng, "root/.cache/pip", 2_000, 30_000)]
    app = [D("app"), *_tree(rng, "app/src", 3_000, 6_000)]
    chown = [F(e.path, e.data, e.mode, 1000, 1000, e.kind) for e in app]
    removed = [
        D("root"),
        D("root/.cache"),
        W("root/.cache/pip"),
        D("var"),
        D("var/lib"),
        D("var/lib/apt"),
    ] + [W(f"var/lib/apt/d{d:04d}") for d in range(50)]
    modified = [D("usr"), D("usr/lib")] + [
        F(f"usr/lib/d{d:04d}/f000.dat", _data(rng, 20_000)) for d in range(400)
    ]
    modified[2:2] = [D(f"usr/lib/d{d:04d}") for d in range(400)]
    logs = [D("var"), D("var/log")] + [
        F(f"var/log/big{i}.log", b"log line\n", size=1_500_000) for i in range(10)
    ]
    conf = [D("etc"), F("etc/app.conf", b"x=1\n"), F("etc/timezone", b"Etc/UTC\n")]
    steps = [base, apt, pkgs, cache, app, chown, removed, modified, logs, conf]
    cmds = [
        "ADD rootfs.tar /",
        "apt-get update",
        "apt-get install -y python3",
        "pip install -r req",
        "COPY . /app",
        "chown -R app /app",
        "rm -rf /root/.cache/pip /var/lib/apt/lists",
        "patch libs",
        "run tests > /var/log",
        "echo conf",
    ]
    return ImageDef(
        [Layer(s, f"/bin/sh -c {c}") for s, c in zip(steps, cmds, strict=True)],
        tag="layerscope/bench:latest",
    )


def generate() -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    docker, oci = OUT / "big.docker-archive.tar", OUT / "big.oci-archive.tar"
    if not docker.exists() or not oci.exists():
        print("generating the benchmark image (once) ...", flush=True)
        img = big_image()
        write_docker_archive(img, docker)
        write_oci_layout([img], oci, "gzip", as_tar=True)
    return [docker, oci]


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of one run, measured by GNU time."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    report = OUT / "time.txt"
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-o", str(report), "-f", "%M", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=OUT,
        check=False,
    )
    wall = time.perf_counter() - start
    return wall, int(report.read_text().split()[-1]) / 1024, proc.returncode


def best(cmd: list[str], runs: int) -> tuple[float, float, int]:
    results = [measure(cmd) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results), results[-1][2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate()
        return
    # Generate in a child process, so that this process stays small while it measures others.
    subprocess.run([sys.executable, __file__, "--generate-only"], check=True)
    images = [OUT / "big.docker-archive.tar", OUT / "big.oci-archive.tar", *args.images]
    bindir = Path(sys.executable).parent
    ours = [str(bindir / "layerscope"), "--ci"]
    dive = shutil.which("dive", path=str(bindir)) or shutil.which("dive")
    print(f"{'image':38} {'tool':11} {'wall s':>8} {'peak MB':>8} {'exit':>5}")
    for image in images:
        size = image.stat().st_size if image.is_file() else 0
        ls = best([*ours, str(image)], args.runs)
        print(f"{image.name[:38]:38} {'layerscope':11} {ls[0]:8.3f} {ls[1]:8.1f} {ls[2]:5}")
        if dive and "oci" not in image.name:
            dv = best([dive, "--ci", "--source", "docker-archive", str(image)], args.runs)
            print(f"{'':38} {'dive':11} {dv[0]:8.3f} {dv[1]:8.1f} {dv[2]:5}")
            print(
                f"{'':38} {'ratio':11} {ls[0] / dv[0]:8.2f} {ls[1] / dv[1]:8.2f}"
                f"   (layerscope / dive; {size / 1e6:.0f} MB archive)"
            )


if __name__ == "__main__":
    main()
