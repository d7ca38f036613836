"""The pyapp images' package attribution (skipped unless `$LAYERSCOPE_PYAPP` holds the build)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "scripts"))
import verify_packages


def _pyapp() -> Path:
    where = os.environ.get("LAYERSCOPE_PYAPP")
    if not where or not (Path(where) / "pyapp-bloated.docker-archive.tar").is_file():
        pytest.skip("no pyapp build: set LAYERSCOPE_PYAPP to the directory build.sh wrote")
    return Path(where)


@pytest.mark.parametrize("name, bloated", [("pyapp-bloated", True), ("pyapp-fixed", False)])
def test_pyapp_packages(name: str, bloated: bool) -> None:
    archive = _pyapp() / f"{name}.docker-archive.tar"
    assert verify_packages.check(name, archive, bloated) == []
