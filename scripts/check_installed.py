"""Build the sdist and the wheel, install the wheel into a fresh venv outside the checkout, and
use it as a person would: --version, --ci, --json, and the explorer's first screen in tmux.

Run by `.ci/run` (via `make check-installed`): a file the program reads at run time that the
wheel lacks, a build warning or an explorer that cannot start fails CI.

    python scripts/check_installed.py IMAGE
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "layerscope"


def step(what: str) -> None:
    print(f"check-installed: {what}", flush=True)


def fail(what: str) -> None:
    print(f"check-installed: FAILED: {what}", file=sys.stderr, flush=True)
    sys.exit(1)


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        fail(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


def build(work: Path) -> Path:
    step("building the sdist, then the wheel from the sdist")
    out = run([sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(ROOT)], work)
    warnings = [line for line in out.splitlines() if "deprecat" in line.lower()]
    if warnings:
        fail("the build warns:\n" + "\n".join(warnings))
    wheels = list((work / "dist").glob("layerscope-*.whl"))
    if len(wheels) != 1:
        fail(f"expected one wheel, found {wheels}")
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    needed = {
        "layerscope/" + p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    missing = sorted(needed - names)
    if missing:
        fail(f"the wheel lacks {missing}")
    return wheels[0]


def install(work: Path, wheel: Path) -> Path:
    step(f"installing {wheel.name} into a fresh venv (not editable)")
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], work)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], work)
    where = run(
        [str(venv / "bin" / "python"), "-c", "import layerscope; print(layerscope.__file__)"], work
    ).strip()
    if not where.startswith(str(venv)):
        fail(f"layerscope was imported from {where}, not from the venv")
    return venv / "bin" / "layerscope"


def use(exe: Path, image: Path, work: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    env["XDG_CACHE_HOME"] = str(work / "cache")
    version = run([str(exe), "--version"], work, env).strip()
    step(f"--version: {version}")
    if not version.startswith("layerscope "):
        fail(f"--version printed {version!r}")
    proc = subprocess.run([str(exe), str(image), "--ci"], cwd=work, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    if proc.returncode not in (0, 1) or "Result:" not in proc.stdout:
        fail(f"--ci exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    step(f"--ci: exit {proc.returncode}, {proc.stdout.strip().splitlines()[-1]}")
    run([str(exe), str(image), "--json", str(work / "out.json")], work, env)
    doc = json.loads((work / "out.json").read_text())
    step(f"--json: {len(doc['layer'])} layers, efficiency {doc['image']['efficiencyScore']:.4f}")


def explorer(exe: Path, image: Path, work: Path) -> None:
    step("the explorer in tmux (80x24): first screen, then q")
    sock, status = work / "tmux.sock", work / "status"
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR", "TMUX")}
    env.update(TERM="xterm-256color", XDG_CACHE_HOME=str(work / "cache"))
    shell = f"{exe} {image}; echo $? > {status}; sleep 30"
    tmux = ["tmux", "-S", str(sock), "-f", "/dev/null"]
    subprocess.run([*tmux, "new-session", "-d", "-s", "x", "-x", "80", "-y", "24", shell],
                   check=True, env=env, cwd=work)  # fmt: skip
    try:
        screen = ""
        for _ in range(300):
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "x"], text=True,
                                    capture_output=True, check=False).stdout  # fmt: skip
            # The layer list and the file tree with its rows (tree guides) are drawn.
            if "Layers" in screen and "layer contents" in screen.lower() and "─" in screen:
                break
            if status.exists():
                break
            time.sleep(0.1)
        else:
            fail(f"no first screen in 30 s:\n{screen}")
        if status.exists():
            fail(f"the explorer exited {status.read_text().strip()} before showing:\n{screen}")
        print(screen, flush=True)
        subprocess.run([*tmux, "send-keys", "-t", "x", "q"], check=True)
        for _ in range(100):
            if status.exists() and status.read_text().strip():
                break
            time.sleep(0.1)
        code = status.read_text().strip() if status.exists() else "none"
        if code != "0":
            fail(f"q exited {code}")
        step("q exited 0")
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)


def main() -> None:
    image = Path(sys.argv[1]).resolve()
    with tempfile.TemporaryDirectory(prefix="layerscope-installed-") as tmp:
        work = Path(tmp)
        wheel = build(work)
        exe = install(work, wheel)
        use(exe, image, work)
        explorer(exe, image, work)
    step("passed")


if __name__ == "__main__":
    main()
