from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def _shared() -> Path:
    """The shared fixtures: $LAYERSCOPE_SHARED, else `shared/` beside this checkout, else beside
    the local repository it was cloned from (a clean clone in /tmp finds the same fixtures)."""
    if os.environ.get("LAYERSCOPE_SHARED"):
        return Path(os.environ["LAYERSCOPE_SHARED"])
    candidates = [ROOT.parent / "shared"]
    try:
        origin = subprocess.run(
            ["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"],
            capture_output=True, text=True, check=False, timeout=10,
        ).stdout.strip()  # fmt: skip
    except OSError:
        origin = ""
    if origin and "://" not in origin and Path(origin).is_dir():
        candidates.append(Path(origin).resolve().parent / "shared")
    return next((c for c in candidates if c.is_dir()), candidates[0])


SHARED = _shared()
FIXTURES = SHARED / "fixtures"
DIVE_DATA = FIXTURES / "dive-data"
REAL = FIXTURES / "real"


@pytest.fixture(autouse=True)
def _no_ci_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    # .ci/run has CI=true, which switches layerscope to CI mode, as in dive.
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    # The layer cache and Docker credentials of the person running the tests stay untouched.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path_factory.mktemp("docker-config")))


def require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"fixture {path} is missing (set LAYERSCOPE_SHARED to the shared/ folder)")
    return path
