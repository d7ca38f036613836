"""`make bench`: what `--security` (the content scan) adds to a cold run, next to dive's own `--ci`.

The budget (issue 12): the scan may add no more than dive's `--ci` time on top of layerscope's
cold run. For each image, interleaved runs of `layerscope --no-cache --json FILE` (the findings
computed), the same with `--security`, and `dive --ci`; medians; the added time and its ratio to
dive's time. Images: the
pyapp bloated build (`$LAYERSCOPE_PYAPP`, default `../pyapp-out`) when present, the benchmark's
generated image when `bench/run.py` has made it, and any given as arguments.

    python bench/security.py [--runs N] [IMAGE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


def wall(cmd: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


def images(extra: list[Path]) -> list[Path]:
    pyapp = Path(os.environ.get("LAYERSCOPE_PYAPP") or ROOT.parent / "pyapp-out")
    found = [pyapp / "pyapp-bloated.docker-archive.tar", OUT / "big.docker-archive.tar", *extra]
    return [p for p in found if p.is_file()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    # The same outputs with and without --security (the JSON, so the advisor's findings are
    # computed in both): the difference is the content scan alone.
    ours = [str(bindir / "layerscope"), "--no-cache", "--json", str(OUT / "security-bench.json")]
    dive = shutil.which("dive", path=str(bindir)) or shutil.which("dive")
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    head = ("cold s", "+security s", "added s", "dive --ci s", "added/dive")
    print(f"{'image':34} {head[0]:>7} {head[1]:>11} {head[2]:>8} {head[3]:>11} {head[4]:>10}")
    for image in images(args.images):
        cold: list[float] = []
        secure: list[float] = []
        dived: list[float] = []
        for _ in range(args.runs):  # interleaved, so a busy moment hits all three alike
            cold.append(wall([*ours, str(image)]))
            secure.append(wall([*ours, "--security", str(image)]))
            if dive:
                dived.append(wall([dive, "--ci", "--source", "docker-archive", str(image)]))
        c, s = statistics.median(cold), statistics.median(secure)
        d = statistics.median(dived) if dived else float("nan")
        print(f"{image.name[:34]:34} {c:7.2f} {s:11.2f} {s - c:8.2f} {d:11.2f} {(s - c) / d:10.2f}")
        results.append(
            {
                "image": str(image),
                "sizeBytes": image.stat().st_size,
                "coldSeconds": c,
                "securitySeconds": s,
                "addedSeconds": s - c,
                "diveCiSeconds": d,
                "addedOverDive": (s - c) / d,
                "runs": args.runs,
            }
        )
    (OUT / "security.json").write_text(json.dumps(results, indent=2) + "\n")
    print("medians of interleaved cold runs (--no-cache); added/dive <= 1 is the budget")


if __name__ == "__main__":
    main()
