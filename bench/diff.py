"""`layerscope diff A B` against what a dive user does instead: `dive --ci` on each image.

dive cannot compare two images; the nearest it comes is analysing each one. This times
`layerscope diff A B --json FILE` cold (`--no-cache`: every layer read; with and without the
package readers) and warm (the layer cache filled), and `dive --ci` on A plus `dive --ci` on B,
in the same run; wall time, best of N.

    python bench/diff.py [--runs N] [A B]   (default: the pyapp pair in $LAYERSCOPE_PYAPP)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIVE = Path(sys.executable).with_name("dive")


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1) or b"error" in proc.stderr.lower():  # 1: a rule failed
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-300:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("images", nargs="*")
    args = ap.parse_args()
    if len(args.images) == 2:
        a, b = (Path(x) for x in args.images)
    else:
        pyapp = Path(os.environ.get("LAYERSCOPE_PYAPP", ROOT.parent / "pyapp-out"))
        a, b = pyapp / "pyapp-bloated.docker-archive.tar", pyapp / "pyapp-fixed.docker-archive.tar"
    if not (a.exists() and b.exists()):
        print(f"bench/diff.py: {a} or {b} missing (set LAYERSCOPE_PYAPP); skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "CI"}
        env["XDG_CACHE_HOME"] = tmp
        ls = [sys.executable, "-m", "layerscope", "diff", str(a), str(b), "--json", f"{tmp}/d.json"]
        cold = min(timed([*ls, "--no-cache"], env) for _ in range(args.runs))
        bare = min(timed([*ls, "--no-cache", "--no-packages"], env) for _ in range(args.runs))
        timed(ls, env)  # fill the cache
        warm = min(timed(ls, env) for _ in range(args.runs))
        dive = min(
            timed([str(DIVE), "--ci", "--source", "docker-archive", str(a)], env)
            + timed([str(DIVE), "--ci", "--source", "docker-archive", str(b)], env)
            for _ in range(args.runs)
        )
    print(f"A = {a.name}, B = {b.name}; best of {args.runs}")
    print(f"dive --ci A + dive --ci B          {dive:7.2f} s")
    print(f"layerscope diff A B, cold          {cold:7.2f} s   {dive / cold:5.2f}x dive")
    print(f"  the same with --no-packages      {bare:7.2f} s   {dive / bare:5.2f}x dive")
    print(f"layerscope diff A B, warm (cache)  {warm:7.2f} s   {dive / warm:5.2f}x dive")


if __name__ == "__main__":
    main()
