"""`make bench`: what package attribution adds to the summary's cold time (a benchmark, not a test).

On the pyapp bloated image (`$LAYERSCOPE_PYAPP`, skipped when absent): `layerscope --summary
--no-cache` with packages (the default) and with `--no-packages`, and `dive --ci` in the same
run; medians of interleaved runs, cold = no layer cache. Also `--ci` with no package rule, which
must cost nothing.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def timed(cmd: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env={**os.environ, "CI": ""},
        check=False,
    )
    return time.perf_counter() - start


def main() -> int:
    where = Path(os.environ.get("LAYERSCOPE_PYAPP") or Path(__file__).parents[2] / "pyapp-out")
    image = where / "pyapp-bloated.docker-archive.tar"
    if not image.is_file():
        print(f"bench/packages.py: no pyapp build in {where}; skipped")
        return 0
    bindir = Path(sys.executable).parent
    ls = str(bindir / "layerscope")
    dive = shutil.which("dive", path=str(bindir)) or shutil.which("dive")
    cases = {
        "summary (packages)": [ls, str(image), "--summary", "--no-cache"],
        "summary --no-packages": [ls, str(image), "--summary", "--no-cache", "--no-packages"],
        "--ci (no package rule)": [ls, str(image), "--ci", "--no-cache", "--lowestEfficiency", "0"],
    }
    if dive:
        cases["dive --ci"] = [dive, "--ci", "--source", "docker-archive", str(image)]
    times: dict[str, list[float]] = {k: [] for k in cases}
    with tempfile.TemporaryDirectory() as cwd:  # no .layerscope.yaml or .dive-ci here
        for _ in range(RUNS):
            for name, cmd in cases.items():
                times[name].append(timed(cmd, cwd))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"packages on {image.name} (cold, medians of {RUNS} interleaved runs):")
    for name, value in med.items():
        ratio = f"  ({value / med['dive --ci']:.2f}x dive)" if "dive --ci" in med else ""
        print(f"  {name:24} {value:7.3f} s{ratio}")
    added = med["summary (packages)"] / med["summary --no-packages"] - 1
    print(
        f"  package attribution + reach add {added * 100:+.1f} % to the summary's cold time "
        "(budget +20 %)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
