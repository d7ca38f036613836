"""`--security` on the command line: findings in the summary, the scan report, the JSON, and no
secret value in any output (stdout, stderr, files)."""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
import sys
from pathlib import Path

import pytest

from imagebuilder import D, F, ImageDef, Layer, Step, W, write_docker_archive

RNG = random.Random(99)
ALNUM = string.ascii_letters + string.digits


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "layerscope", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def leaky(tmp_path: Path) -> tuple[Path, list[str]]:
    """An image with a token build argument, a .env copied in and deleted, a setuid helper."""
    token = "tok_" + "".join(RNG.choice(ALNUM) for _ in range(29))
    secret = "".join(RNG.choice(ALNUM + "/+") for _ in range(40))
    pw = "".join(RNG.choice(ALNUM) for _ in range(14))
    env = f"AWS_SECRET_ACCESS_KEY={secret}\nDATABASE_URL=postgres://app:{pw}@db:5432/app\n"
    args = f"RUN |1 API_TOKEN={token} /bin/sh -c "
    steps: list[Layer | Step] = [
        Layer([D("etc"), F("etc/os-release", b"ID=debian\n")], "ADD rootfs.tar /"),
        Step("ARG API_TOKEN"),
        Layer([D("srv"), F("srv/.env", env.encode())], "COPY .env /srv/.env"),
        Layer(
            [D("usr"), D("usr/local"), D("usr/local/bin"), F("usr/local/bin/h", b"#!", 0o4755)],
            args + 'echo "${API_TOKEN}" >/dev/null && install -m 4755 /bin/true /usr/local/bin/h',
        ),
        Layer([D("srv"), W("srv/.env")], "RUN rm /srv/.env"),
    ]
    path = write_docker_archive(ImageDef(steps), tmp_path / "leaky.tar")
    return path, [token, secret, pw]


def test_security_summary_lists_findings_and_leaks_nothing(
    leaky: tuple[Path, list[str]], tmp_path: Path
) -> None:
    path, values = leaky
    proc = run([str(path), "--security", "--summary"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for rule in ("LS-S002", "LS-S004", "LS-S010", "LS-S020", "LS-S030"):
        assert rule in out
    assert "/srv/.env (layer 1; deleted in layer 3, still shipped in layer 1)" in out
    assert "content scan: " in proc.stderr and "binaries skipped" in proc.stderr
    for value in values:
        assert value not in out and value not in proc.stderr


def test_json_is_redacted_with_and_without_security(
    leaky: tuple[Path, list[str]], tmp_path: Path
) -> None:
    path, values = leaky
    for extra in ([], ["--security"]):
        out = tmp_path / "out.json"
        proc = run([str(path), "--json", str(out), *extra], tmp_path)
        assert proc.returncode == 0, proc.stderr
        text = out.read_text()
        for value in values if extra else values[:1]:
            assert value not in text
        doc = json.loads(text)
        assert "API_TOKEN=<build-arg API_TOKEN 'tok_…'" in doc["layer"][2]["command"]
        assert doc["layerscope"]["security"]["contentScanned"] is bool(extra)


def test_scan_limit_is_reported_and_validated(
    leaky: tuple[Path, list[str]], tmp_path: Path
) -> None:
    path, _ = leaky
    out = tmp_path / "out.json"
    proc = run([str(path), "--security", "--scan-limit", "10", "--json", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    scan = json.loads(out.read_text())["layerscope"]["security"]
    assert scan["sizeLimitBytes"] == 10
    assert scan["tooLargeSkipped"] == 1  # the .env; os-release is exactly 10 bytes
    assert scan["largestSkipped"][0]["path"] == "/srv/.env"
    bad = run([str(path), "--security", "--scan-limit", "lots"], tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "--scan-limit" in bad.stderr
    assert not bad.stdout
