"""A short run of the fuzz target (`make fuzz` runs it for FUZZ_SECONDS): it starts from its
seeds, finds no crash, and leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytest.importorskip("atheris")


def test_fuzz_target_smoke_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fuzz.py"), "-max_total_time=20",
         "-rss_limit_mb=1500", f"-artifact_prefix={tmp_path}/", str(corpus)],
        capture_output=True, text=True, timeout=300, check=False, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Done" in run.stderr
    assert len(os.listdir(corpus)) > 20  # seeded, and grown
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]  # no crash-*, no temp dir
