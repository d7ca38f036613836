"""`make bench` (advisor part): what the findings and stories cost, beside dive, in one run.

On the generated big image (bench/run.py makes it) and any image paths given: `dive --ci`,
`layerscope --ci` (dive's rules only: no finding is computed) and `layerscope --summary
--no-packages` (every finding and each layer's story; the package report is measured apart).
Warm: the layer cache is filled by a first, unmeasured run.

    python bench/advisor.py [--runs N] [IMAGE ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BIG, generate, measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    generate()
    images = [BIG["docker"], *[p.resolve() for p in args.images]]
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    here = Path(sys.executable).parent
    layerscope = str(here / "layerscope")
    dive = shutil.which("dive", path=str(here)) or shutil.which("dive")
    loose = ["--lowestEfficiency", "0", "--highestUserWastedPercent", "1"]
    for image in images:
        print(f"{image.name} (warm)")
        measure([layerscope, str(image), "--summary"], env)  # fills the layer cache
        rows = {
            "layerscope --ci (dive's rules)": [layerscope, str(image), "--ci", *loose],
            "layerscope --summary (findings)": [
                layerscope,
                str(image),
                "--summary",
                "--no-packages",
            ],
        }
        if dive and image.name.endswith("docker-archive.tar"):
            rows = {"dive --ci": [dive, "--ci", "--source", "docker-archive", str(image)], **rows}
        base = None
        for name, cmd in rows.items():
            runs = [measure(cmd, env) for _ in range(args.runs)]
            wall, rss = min(r[0] for r in runs), max(r[1] for r in runs)
            base = base or wall
            print(f"  {name:34} {wall:6.2f} s {rss:7.0f} MB  {wall / base:5.2f}x")


if __name__ == "__main__":
    main()
