"""`make bench`: layerscope against dive, cold and warm apart (a benchmark, not a test).

Generates (once, cached in bench/out) an image of over 500 MB, 50,000 entries and 10 layers with
overwrites, deletes and cache directories, as a docker-archive, an OCI archive with gzip layers
and one with zstd layers. Adds the realistic pyapp image (Debian base, apt and pip installs) from
`$LAYERSCOPE_PYAPP` when that directory holds it, with an OCI archive of gzip layers made from it
by skopeo (once). Accepts more docker-archives as arguments.

For each image, the runs are interleaved (dive, layerscope cold, layerscope warm, dive, ...) so
that the load of a shared machine falls on every tool alike; each figure is the median of
`--runs` runs, measured by GNU time (wall clock, peak resident memory):

  * dive:  `dive --ci --source docker-archive` on the docker-archive of the same image (dive
    reads no OCI archive: an OCI variant is compared with dive on its docker-archive);
  * cold:  `layerscope --ci --no-cache` (every layer read, every digest verified);
  * warm:  `layerscope --ci` with a layer cache filled by one earlier run (a cache hit).

Writes every figure, the versions and the machine's facts to bench/out/results.json.

    python bench/run.py [--runs N] [--quick] [IMAGE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from imagebuilder import D, F, ImageDef, Layer, W, write_docker_archive, write_oci_layout  # noqa: E402

OUT = ROOT / "bench" / "out"
RESULTS = OUT / "results.json"
_POOL = random.Random(7).randbytes(8 << 20)

# The goals of issue 9, as (figure, at most) over the ratio layerscope / dive.
GOALS = {
    "cold_wall": 0.6,
    "cold_peak": 1.0,
    "warm_wall": 0.25,
    "oci_gzip_cold_wall": 1.0,
    "oci_zstd_cold_wall": 0.8,
}


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


BIG = {
    "docker": OUT / "big.docker-archive.tar",
    "gzip": OUT / "big.oci-archive.tar",
    "zstd": OUT / "big.oci-zstd-archive.tar",
}


def generate() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    missing = [p for p in BIG.values() if not p.exists()]
    if not missing:
        return
    print("generating the benchmark image (once) ...", flush=True)
    img = big_image()
    for kind, path in BIG.items():
        if path.exists():
            continue
        tmp = path.with_suffix(".partial")
        if kind == "docker":
            write_docker_archive(img, tmp)
        else:
            write_oci_layout([img], tmp, kind, as_tar=True)
        tmp.rename(path)


def pyapp_images() -> list[tuple[str, Path, Path]]:
    """(label, image, its docker-archive) for the realistic pyapp image, when it was built."""
    where = os.environ.get("LAYERSCOPE_PYAPP", "/work/pyapp-out")
    docker = Path(where) / "pyapp-bloated.docker-archive.tar"
    if not docker.is_file():
        print(f"(no pyapp image in {where}: set LAYERSCOPE_PYAPP to include it)")
        return []
    out = [("pyapp docker-archive", docker, docker)]
    gz = OUT / "pyapp-bloated.oci-gzip-archive.tar"
    if not gz.exists() and shutil.which("skopeo"):
        tmp = gz.with_suffix(".partial")
        tmp.unlink(missing_ok=True)
        subprocess.run(
            ["skopeo", "copy", "--quiet", "--dest-compress-format", "gzip",
             f"docker-archive:{docker}", f"oci-archive:{tmp}"],
            check=True,
        )  # fmt: skip
        tmp.rename(gz)
    if gz.exists():
        out.append(("pyapp OCI, gzip layers", gz, docker))
    zst = Path(where) / "pyapp-bloated.oci-archive.tar"
    if zst.is_file():
        out.append(("pyapp OCI, zstd layers", zst, docker))
    return out


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of one run, measured by GNU time."""
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


def summary(samples: list[tuple[float, float, int]]) -> dict[str, Any]:
    walls = [s[0] for s in samples]
    peaks = [s[1] for s in samples]
    return {
        "wall_s": round(statistics.median(walls), 4),
        "peak_mb": round(statistics.median(peaks), 1),
        "wall_min_s": round(min(walls), 4),
        "wall_max_s": round(max(walls), 4),
        "walls_s": [round(w, 4) for w in walls],
        "peaks_mb": [round(p, 1) for p in peaks],
        "exit_codes": sorted({s[2] for s in samples}),
        "runs": len(samples),
    }


def _env(cache: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    return env


def bench_image(
    label: str,
    image: Path,
    docker: Path,
    runs: int,
    *,
    dive: str | None,
    dive_cache: dict[Path, Any],
) -> dict[str, Any]:
    bindir = Path(sys.executable).parent
    ours = [str(bindir / "layerscope"), "--ci"]
    cache = OUT / "cache" / image.name
    shutil.rmtree(cache, ignore_errors=True)
    cold_cmd = [*ours, "--no-cache", str(image)]
    warm_cmd = [*ours, str(image)]
    measure(warm_cmd, _env(cache))  # fills the cache (and the page cache) for the warm runs
    want_dive = dive is not None and docker not in dive_cache
    samples: dict[str, list[tuple[float, float, int]]] = {"cold": [], "warm": [], "dive": []}
    for _ in range(runs):
        if want_dive:
            assert dive is not None
            cmd = [dive, "--ci", "--source", "docker-archive", str(docker)]
            samples["dive"].append(measure(cmd, _env()))
        samples["cold"].append(measure(cold_cmd, _env()))
        samples["warm"].append(measure(warm_cmd, _env(cache)))
    shutil.rmtree(cache, ignore_errors=True)
    if want_dive:
        dive_cache[docker] = summary(samples["dive"])
    result: dict[str, Any] = {
        "label": label,
        "path": str(image),
        "bytes": image.stat().st_size,
        "dive_on": str(docker),
        "cold": summary(samples["cold"]),
        "warm": summary(samples["warm"]),
        "dive": dive_cache.get(docker),
    }
    if result["dive"]:
        d = result["dive"]
        result["ratios"] = {
            "cold_wall": round(result["cold"]["wall_s"] / d["wall_s"], 3),
            "cold_peak": round(result["cold"]["peak_mb"] / d["peak_mb"], 3),
            "warm_wall": round(result["warm"]["wall_s"] / d["wall_s"], 3),
            "warm_peak": round(result["warm"]["peak_mb"] / d["peak_mb"], 3),
        }
    return result


def startup(runs: int) -> dict[str, Any]:
    """`layerscope --version` and `--help`: the cost of starting before any work."""
    bindir = Path(sys.executable).parent
    out = {}
    for flag in ("--version", "--help"):
        samples = [measure([str(bindir / "layerscope"), flag], _env()) for _ in range(runs)]
        out[flag] = summary(samples)
    return out


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "memory_mb": mem_kb // 1024,
        "system": platform.platform(),
        "load_average_at_start": list(os.getloadavg()),
    }


def versions(dive: str | None) -> dict[str, str]:
    bindir = Path(sys.executable).parent
    ours = subprocess.run(
        [str(bindir / "layerscope"), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    theirs = ""
    if dive:
        theirs = subprocess.run(
            [dive, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    from importlib.metadata import PackageNotFoundError, version

    try:
        isal_version = version("isal")
    except PackageNotFoundError:
        isal_version = "not installed"
    return {
        "layerscope": ours,
        "dive": theirs,
        "python": platform.python_version(),
        "isal": isal_version,
    }


def goals(images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for img in images:
        ratios = img.get("ratios")
        if not ratios:
            continue
        if "OCI, gzip" in img["label"]:
            checks = {"oci_gzip_cold_wall": ratios["cold_wall"]}
        elif "OCI, zstd" in img["label"]:
            checks = {"oci_zstd_cold_wall": ratios["cold_wall"]}
        else:
            checks = {k: ratios[k] for k in ("cold_wall", "cold_peak", "warm_wall")}
        for name, value in checks.items():
            limit = GOALS[name]
            out.append(
                {"image": img["label"], "goal": name, "ratio": value, "at_most": limit,
                 "met": value <= limit}
            )  # fmt: skip
    return out


def merge_results(section: str, data: Any) -> None:
    """Add one benchmark's section to results.json (bench/tui.py and bench/registry.py too)."""
    doc = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    doc[section] = data
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="*", type=Path, help="more docker-archives")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="only the synthetic image's docker-archive and gzip"
    )
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate()
        return
    # Generate in a child process, so that this process stays small while it measures others.
    subprocess.run([sys.executable, __file__, "--generate-only"], check=True)
    images: list[tuple[str, Path, Path]] = [
        ("synthetic docker-archive", BIG["docker"], BIG["docker"]),
        ("synthetic OCI, gzip layers", BIG["gzip"], BIG["docker"]),
    ]
    if not args.quick:
        images.append(("synthetic OCI, zstd layers", BIG["zstd"], BIG["docker"]))
        images += pyapp_images()
    images += [(p.name, p, p) for p in args.images]
    bindir = Path(sys.executable).parent
    dive = shutil.which("dive", path=str(bindir)) or shutil.which("dive")
    doc: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "quick": args.quick,
        "runs": args.runs,
        "versions": versions(dive),
        "machine": machine(),
        "startup": startup(args.runs),
    }
    for flag, fig in doc["startup"].items():
        print(f"layerscope {flag:9} {fig['wall_s']:6.3f} s (median of {fig['runs']})")
    head = (
        f"{'image':30} {'':6} {'wall s':>7} {'peak MB':>8} {'x dive wall':>11} {'x dive mem':>10}"
    )
    print(head)
    results: list[dict[str, Any]] = []
    dive_cache: dict[Path, Any] = {}
    for label, image, docker in images:
        r = bench_image(label, image, docker, args.runs, dive=dive, dive_cache=dive_cache)
        results.append(r)
        d = r["dive"]
        print(f"{label[:30]:30} {'dive':6} {d['wall_s']:7.3f} {d['peak_mb']:8.1f}" if d else label)
        for kind in ("cold", "warm"):
            f = r[kind]
            ratio = ""
            if d:
                ratio = f"{f['wall_s'] / d['wall_s']:11.2f} {f['peak_mb'] / d['peak_mb']:10.2f}"
            print(f"{'':30} {kind:6} {f['wall_s']:7.3f} {f['peak_mb']:8.1f} {ratio}", flush=True)
    doc["images"] = results
    doc["goals"] = goals(results)
    doc["machine"]["load_average_at_end"] = list(os.getloadavg())
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    print("goals (layerscope / dive, median of each):")
    for g in doc["goals"]:
        mark = "met" if g["met"] else "NOT MET"
        print(f"  {g['image']:30} {g['goal']:20} {g['ratio']:6.2f} <= {g['at_most']:4}  {mark}")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
