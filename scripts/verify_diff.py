"""`make verify-diff`: `layerscope diff` on the pyapp build (bloated vs fixed, and each image's
docker-archive vs its OCI twin), checked against each image's own analysis, never fixed numbers.

    LAYERSCOPE_PYAPP=/path/to/pyapp-out make verify-diff
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

LIMIT_HTML = 5_000_000
LIMIT_COMMENT = 65_536


def layerscope(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run(
        [sys.executable, "-m", "layerscope", *args],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def check(ok: bool, what: str) -> None:
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        raise SystemExit(1)


def analysis(path: Path, out: Path) -> dict[str, Any]:
    proc = layerscope(str(path), "--json", str(out))
    check(proc.returncode == 0, f"layerscope {path.name} --json {proc.stderr.strip()}")
    return dict(json.loads(out.read_text()))


def diff(a: Path, b: Path, out: Path, *extra: str) -> tuple[dict[str, Any], str]:
    proc = layerscope("diff", str(a), str(b), "--json", str(out), *extra)
    check(proc.returncode == 0, f"layerscope diff {a.name} {b.name} {proc.stderr.strip()}")
    return dict(json.loads(out.read_text())["layerscope"]["diff"]), proc.stdout


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LAYERSCOPE_PYAPP", ""))
    if not (root / "pyapp-fixed.oci-archive.tar").exists():
        print(f"no pyapp build in {root!s} (set LAYERSCOPE_PYAPP): nothing to verify")
        return
    bloated = root / "pyapp-bloated.docker-archive.tar"
    fixed = root / "pyapp-fixed.oci-archive.tar"
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        for name in ("bloated", "fixed"):
            twin, _ = diff(
                root / f"pyapp-{name}.docker-archive.tar",
                root / f"pyapp-{name}.oci-archive.tar",
                t / f"{name}-twins.json",
            )
            check(twin["identical"] and not twin["paths"], f"{name}: docker-archive == OCI twin")
            check(twin["layers"]["pullBytes"] == 0, f"{name}: nothing to pull between the twins")
        a, b = analysis(bloated, t / "a.json"), analysis(fixed, t / "b.json")
        d, md = diff(
            bloated, fixed, t / "d.json", "--format", "markdown", "--html", str(t / "d.html")
        )
        growth = b["image"]["sizeBytes"] - a["image"]["sizeBytes"]
        check(d["delta"]["sizeBytes"] == growth < 0, f"shrinks by {-growth:,} bytes, as analysed")
        check(d["layers"]["sharedPrefix"] >= 1, "the debootstrap base layer is shared")
        pulled = {r["digestId"] for r in d["layers"]["rows"] if r["side"] == "only in B"}
        expected = sum(x["compressedSizeBytes"] for x in b["layer"] if x["digestId"] in pulled)
        check(d["layers"]["pullBytes"] == expected, f"pull {expected:,} compressed bytes for B")
        removed = [p["path"] for p in d["paths"] if p["change"] == "removed"]
        check(any(p.startswith("/var/cache/apt/") for p in removed), "apt caches removed")
        check("/usr/local/bin/app-helper" in removed, "the setuid helper removed")
        check(d["delta"]["efficiencyScore"] > 0, "efficiency improves")
        check(md.startswith("## layerscope diff") and len(md) <= LIMIT_COMMENT, "Markdown fits")
        size = (t / "d.html").stat().st_size
        check(size < LIMIT_HTML, f"diff HTML report {size:,} bytes")
        proc = layerscope(str(bloated), "--html", str(t / "a.html"))
        size = (t / "a.html").stat().st_size
        check(proc.returncode == 0 and size < LIMIT_HTML, f"image HTML report {size:,} bytes")


if __name__ == "__main__":
    main()
