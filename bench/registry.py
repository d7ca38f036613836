"""`make bench` part 3: an image of about 570 MB straight from a local registry.

Starts Debian's docker-registry on 127.0.0.1, pushes bench/run.py's docker-archive into it with
skopeo (gzip layers), then measures, best of N:

  * layerscope --ci registry://… with the layer cache off (pull + analyse, no daemon);
  * skopeo copy docker://… docker-archive:… followed by dive --ci on that file (dive cannot
    read a registry);
  * layerscope --ci registry://… a second time, through the layer cache (open and analyse).

    python bench/registry.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from servers import skopeo_copy, start_registry  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from run import merge_results  # noqa: E402

OUT = ROOT / "bench" / "out"


_IN_PROCESS = """
import sys, time
from layerscope.analysis import analyse
from layerscope.cache import LayerCache, default_dir
from layerscope.loader import load_image
from layerscope.sources.resolve import Request, open_spec
t0 = time.perf_counter()
spec = open_spec(Request(sys.argv[1]))
image = load_image(spec, cache=LayerCache(default_dir()))
t1 = time.perf_counter()
analyse(image)
t2 = time.perf_counter()
print(f"manifest, config and cached layers {t1 - t0:.3f} s, analysis {t2 - t1:.3f} s")
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one command, measured by GNU time."""
    report = OUT / "time.txt"
    start = time.perf_counter()
    subprocess.run(
        ["/usr/bin/time", "-o", str(report), "-f", "%M", *cmd],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False,
    )  # fmt: skip
    return time.perf_counter() - start, int(report.read_text().split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    image = OUT / "big.docker-archive.tar"
    if not image.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "run.py"), "--generate-only"], check=True
        )
    bindir = Path(sys.executable).parent
    dive = shutil.which("dive", path=str(bindir)) or "dive"
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        work = Path(tmp)
        registry = start_registry(work / "registry")
        try:
            skopeo_copy(f"docker-archive:{image}", registry, "big:1")
            ref = f"registry://{registry.host}/big:1"
            env = {k: v for k, v in os.environ.items() if k != "CI"}
            env["XDG_CACHE_HOME"] = str(work / "xdg")
            ours = [str(bindir / "layerscope"), "--ci", ref]
            cold = [timed([*ours, "--no-cache"], env) for _ in range(args.runs)]
            pulled = work / "pulled.tar"
            theirs = []
            for _ in range(args.runs):
                pulled.unlink(missing_ok=True)
                src = f"docker://{registry.host}/big:1"
                copy = timed(["skopeo", "copy", "--quiet", "--src-tls-verify=false", src,
                              f"docker-archive:{pulled}"], env)  # fmt: skip
                run = timed([dive, "--ci", "--source", "docker-archive", str(pulled)], env)
                theirs.append((copy[0] + run[0], max(copy[1], run[1])))
            timed(ours, env)  # fill the cache
            warm = [timed(ours, env) for _ in range(args.runs)]
            split = subprocess.run(
                [sys.executable, "-c", _IN_PROCESS, ref], env=env, capture_output=True, text=True,
                check=True,
            ).stdout  # fmt: skip
        finally:
            registry.stop()
    best = min
    c, t, w = best(cold), best(theirs), best(warm)
    print(f"{'registry image (570 MB, gzip)':40} {'wall s':>8} {'peak MB':>8}")
    print(f"{'layerscope registry://, no cache':40} {c[0]:8.2f} {c[1]:8.0f}")
    print(f"{'skopeo copy + dive --ci':40} {t[0]:8.2f} {t[1]:8.0f}")
    print(f"{'layerscope registry://, second open':40} {w[0]:8.2f} {w[1]:8.0f}")
    print(
        f"ratio (layerscope cold / skopeo+dive): wall {c[0] / t[0]:.2f}x, memory {c[1] / t[1]:.2f}x"
    )
    print(f"second open, in process: {split.strip()}")
    merge_results(
        "registry",
        {
            "layerscope_cold": {"wall_s": round(c[0], 3), "peak_mb": round(c[1], 1)},
            "skopeo_copy_plus_dive": {"wall_s": round(t[0], 3), "peak_mb": round(t[1], 1)},
            "layerscope_warm": {"wall_s": round(w[0], 3), "peak_mb": round(w[1], 1)},
            "cold_wall_ratio": round(c[0] / t[0], 3),
            "note": f"best of {args.runs}",
        },
    )


if __name__ == "__main__":
    main()
