"""`make bench` part 4: the fleet scan against one `layerscope --ci` per image.

Starts Debian's docker-registry on 127.0.0.1 and pushes (skopeo) 50 images built from 20 distinct
base layers (each image: one of 4 distro layers of 45 MB, 3 of 16 runtime layers of 24 MB, one
small layer of its own; 117 MB and 4,000 files an image). Then, each with a cold layer cache:

  * a shell loop running `layerscope --ci registry://…` once per image;
  * `layerscope scan registry://HOST --workers 2` (the embedded cluster, both cores);
  * the same scan with `--workers 1`.

and prints wall times, their ratios, and layers parsed against distinct layers.

    python bench/fleet.py [--images 50]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

from servers import Registry, skopeo_copy, start_registry  # noqa: E402

from imagebuilder import D, F, ImageDef, Layer, W, write_oci_layout  # noqa: E402

OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent
_POOL = random.Random(11).randbytes(4 << 20)
_TEXT = b"".join(b"line %d of a config or source file\n" % i for i in range(100_000))


def _files(seed: int, root: str, count: int) -> list[F]:
    """`count` files of 1-60 kB (30 kB on average, as in a distro's /usr) under root, half random
    bytes, half text."""
    rng = random.Random(seed)
    out: list[F] = [D(root)]
    for d in range(count // 100 + 1):
        out.append(D(f"{root}/d{d:03d}"))
        for i in range(min(100, count - d * 100)):
            size = rng.randrange(1_000, 60_000)
            pool = _POOL if i % 2 else _TEXT
            start = rng.randrange(0, len(pool) - size)
            out.append(F(f"{root}/d{d:03d}/f{i:03d}", pool[start : start + size]))
    return out


def _bases() -> list[Layer]:
    distros = [Layer([D("usr"), *_files(k, f"usr/distro{k}", 1500)], f"ADD distro{k}")
               for k in range(4)]  # fmt: skip
    runtimes = [Layer([D("opt"), *_files(100 + k, f"opt/rt{k}", 800),
                       F("var/cache/apt.bin", _POOL[: 200_000 + k])], f"RUN install rt{k}")
                for k in range(16)]  # fmt: skip
    return distros + runtimes


def _image(n: int, bases: list[Layer]) -> ImageDef:
    rng = random.Random(1000 + n)
    distro = bases[n % 4]
    runtimes = rng.sample(bases[4:], 3)
    own = Layer([D("app"), *_files(5000 + n, "app/src", 40), W("var/cache/apt.bin")], f"COPY {n}")
    return ImageDef([distro, *runtimes, own], tag=f"app{n}:latest")


def _push_all(registry: Registry, work: Path, count: int) -> list[str]:
    """Push the images once; the registry's storage is kept in bench/out for the next run."""
    names = [f"team{n % 5}/app{n:02d}:latest" for n in range(count)]
    marker = registry.root / f"pushed-{count}"
    if marker.exists():
        return names
    bases = _bases()

    def push(n: int) -> str:
        layout = write_oci_layout([_image(n, bases)], work / f"layout{n}")
        dest = f"team{n % 5}/app{n:02d}:latest"
        skopeo_copy(f"oci:{layout}", registry, dest)
        return dest

    push(0)  # the first push stores the shared blobs once
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(push, range(1, count)))
    marker.touch()
    return names


def _timed(cmd: list[str], env: dict[str, str], work: Path) -> tuple[float, float]:
    """(wall, CPU) seconds; CPU is user + system of the command and every process it waited
    for (GNU time), which the other users of a shared machine do not inflate."""
    report = work / "time.txt"
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-o", str(report), "-f", "%U %S", *cmd], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}): {proc.stderr[-800:]}")
    user, system = report.read_text().split()[-2:]
    return wall, float(user) + float(system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=50)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        work = Path(tmp)
        registry = start_registry(OUT / f"fleet-registry-v2-{args.images}")
        try:
            images = _push_all(registry, work, args.images)
            refs = " ".join(f"registry://{registry.host}/{i}" for i in images)
            loop = (f'for r in {refs}; do XDG_CACHE_HOME="$(mktemp -d -p {work})" '
                    f'{BIN / "layerscope"} --ci "$r" >/dev/null; done')  # fmt: skip
            t_loop = _timed(["bash", "-c", loop], env, work)
            scans: dict[int, tuple[float, float]] = {}
            for workers in (2, 1):
                db = work / f"scan{workers}.duckdb"
                cache = work / f"cache{workers}"
                scans[workers] = _timed(
                    [str(BIN / "layerscope"), "scan", f"registry://{registry.host}",
                     "--workers", str(workers), "--out", str(db), "--cache-dir", str(cache)],
                    env, work,
                )  # fmt: skip
                with duckdb.connect(str(db), read_only=True) as con:
                    counts = dict(con.execute("SELECT key, value FROM scan").fetchall())
                    parsed, parsing = con.execute("""SELECT count(*) FILTER (parsed),
                        sum(parse_seconds) FROM layers""").fetchone() or (0, 0)  # fmt: skip
                    analysing = (con.execute("SELECT sum(seconds) FROM images").fetchone()
                                 or (0,))[0]  # fmt: skip
                print(f"scan --workers {workers}: {counts['analysed']} images analysed, "
                      f"{counts['failed']} failed, {counts['distinct_layers']} distinct layers, "
                      f"{parsed} parsed; worker time: parsing {parsing:.1f} s, assembling "
                      f"{analysing:.1f} s; scan {counts['seconds']} s of "
                      f"{scans[workers][0]:.1f} s wall")  # fmt: skip
        finally:
            registry.stop()
    print(f"load average while it ran: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"{'fleet of ' + str(args.images) + ' images (cold caches)':44} {'wall s':>8} {'CPU s':>8}"
    )
    for label, (wall, cpu) in [("shell loop: layerscope --ci per image", t_loop),
                               ("layerscope scan --workers 2", scans[2]),
                               ("layerscope scan --workers 1", scans[1])]:  # fmt: skip
        print(f"{label:44} {wall:8.2f} {cpu:8.2f}")
    print(f"speed-up, wall: scan (2 workers) vs loop {t_loop[0] / scans[2][0]:.2f}x, "
          f"2 workers vs 1 {scans[1][0] / scans[2][0]:.2f}x; CPU: loop / scan "
          f"{t_loop[1] / scans[2][1]:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
