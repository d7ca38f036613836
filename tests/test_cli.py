"""The command line: exit codes, streams, CI rules, JSON, bad input."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from layerscope.cli import main

from conftest import DIVE_DATA, REAL, require
from imagebuilder import F, ImageDef, Layer, write_docker_archive

DIVE_IMG = DIVE_DATA / "test-docker-image.tar"


def run(
    args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "layerscope", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full,
        timeout=120,
        check=False,
    )


def test_summary_by_default() -> None:
    proc = run([str(require(DIVE_IMG))])
    assert proc.returncode == 0, proc.stderr
    assert "dive-test:latest" in proc.stdout and "efficiency 98.4421 %" in proc.stdout
    assert proc.stderr == ""


def test_ci_passes_and_fails_with_dive_exit_codes(tmp_path: Path) -> None:
    img = str(require(DIVE_IMG))
    ok = run([img, "--ci", "--highestUserWastedPercent", "0.9"], cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Result:PASS [Total:3] [Passed:2] [Failed:0] [Warn:0] [Skipped:1]" in ok.stdout
    bad = run([img, "--ci"], cwd=tmp_path)
    assert bad.returncode == 1
    assert "FAIL: highestUserWastedPercent: userWastedPercent=0.4835 threshold=0.1" in bad.stdout
    assert "\x1b[" not in bad.stdout  # not a terminal: no colour


def test_ci_from_environment_and_evaluator_cases(tmp_path: Path) -> None:
    img = str(require(DIVE_IMG))
    # dive's ci/evaluator_test.go: (0.99, 1B, 0.01) -> all fail; (0.9, 50kB, 0.5) -> all pass
    allfail = run(
        [
            img,
            "--lowestEfficiency",
            "0.99",
            "--highestWastedBytes",
            "1B",
            "--highestUserWastedPercent",
            "0.01",
        ],
        cwd=tmp_path,
        env={"CI": "true"},
    )
    assert allfail.returncode == 1 and allfail.stdout.count("  FAIL: ") == 3
    allpass = run(
        [
            img,
            "--lowestEfficiency",
            "0.9",
            "--highestWastedBytes",
            "50kB",
            "--highestUserWastedPercent",
            "0.5",
        ],
        cwd=tmp_path,
        env={"CI": "yes"},
    )
    assert allpass.returncode == 0 and allpass.stdout.count("  PASS: ") == 3
    skip = run(
        [
            img,
            "--ci",
            "--lowestEfficiency",
            "disabled",
            "--highestWastedBytes",
            "off",
            "--highestUserWastedPercent",
            "false",
        ],
        cwd=tmp_path,
    )
    assert skip.returncode == 0 and skip.stdout.count("  SKIP: ") == 3
    one = run(
        [
            img,
            "--ci",
            "--lowestEfficiency",
            "0.9",
            "--highestWastedBytes",
            "1B",
            "--highestUserWastedPercent",
            "0.5",
        ],
        cwd=tmp_path,
    )
    assert one.returncode == 1 and "FAIL: highestWastedBytes" in one.stdout


def test_dive_ci_file_and_flag_precedence(tmp_path: Path) -> None:
    (tmp_path / ".dive-ci").write_text(
        "rules:\n  lowestEfficiency: 0.99\n  highestUserWastedPercent: disabled\nplugins: []\n"
    )
    img = str(require(DIVE_IMG))
    from_file = run([img, "--ci"], cwd=tmp_path)
    assert from_file.returncode == 1 and "FAIL: lowestEfficiency" in from_file.stdout
    # dive 0.13.1: a flag given on the command line wins over the file
    flag = run([img, "--ci", "--lowestEfficiency", "0.5"], cwd=tmp_path)
    assert flag.returncode == 0, flag.stdout


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--lowestEfficiency", "1.1"),
        ("--lowestEfficiency", "-0.1"),
        ("--lowestEfficiency", "not_a_number"),
        ("--highestWastedBytes", "not_a_size"),
        ("--highestUserWastedPercent", "1.1"),
    ],
)
def test_bad_rule_values_are_errors(flag: str, value: str, tmp_path: Path) -> None:
    proc = run([str(require(DIVE_IMG)), "--ci", flag, value], cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("layerscope: error: rule ")


def test_json_export_is_dive_schema_plus_ours(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text("x" * 10_000_000)  # dive leaves trailing garbage here; we replace the file
    proc = run([str(require(DIVE_IMG)), "--json", str(out)])
    assert proc.returncode == 0 and proc.stdout == ""
    doc = json.loads(out.read_text())
    assert doc["image"]["efficiencyScore"] == 0.9844212134184309
    assert doc["image"]["inefficientBytes"] == 32025
    assert doc["image"]["userWastedPercent"] == 0.4834911001404049
    assert doc["layerscope"]["schemaVersion"] == 1
    assert doc["layerscope"]["waste"]["directoryDeletedBytes"] == 12810
    assert doc["layer"][0]["id"].startswith("28cfe03618aa2e914e81")  # dive's layer id
    assert [len(layer["fileList"]) for layer in doc["layer"]] == [
        415,
        1,
        4,
        3,
        3,
        3,
        3,
        4,
        2,
        2,
        4,
        2,
        3,
        2,
    ]


def test_json_to_stdout_and_ci_env_skips_the_gate(tmp_path: Path) -> None:
    proc = run([str(require(DIVE_IMG)), "--json", "-"], env={"CI": "true"}, cwd=tmp_path)
    assert proc.returncode == 0  # as dive: --json with CI only from the environment exports
    assert json.loads(proc.stdout)["image"]["sizeBytes"] == 1220598


def test_explicit_ci_with_json_does_both(tmp_path: Path) -> None:
    out = tmp_path / "o.json"
    proc = run([str(require(DIVE_IMG)), "--ci", "--json", str(out)], cwd=tmp_path)
    assert proc.returncode == 1 and "Result:FAIL" in proc.stdout
    assert json.loads(out.read_text())["layerscope"]["ci"]["passed"] is False


def test_docker_archive_scheme_and_tag_suffix() -> None:
    path = require(REAL / "busybox-buildah.docker-archive.tar")
    assert main([f"docker-archive://{path}", "--json", os.devnull]) == 0
    assert main([f"{path}:localhost/imglab/busybox-buildah:1", "--json", os.devnull]) == 0


def test_json_to_a_device_or_a_symlink_writes_through(tmp_path: Path) -> None:
    path = require(REAL / "busybox-buildah.docker-archive.tar")
    assert main([str(path), "--json", os.devnull]) == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)  # not replaced by a regular file
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert main([str(path), "--json", str(link)]) == 0
    assert link.is_symlink() and json.loads(real.read_text())["layer"]


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "not-image",
        "truncated",
        "empty",
        "directory",
        "bad-platform",
        "docker",
        "json-dir",
    ],
)
def test_bad_input_is_one_line_exit_2_no_output(case: str, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    target = tmp_path / "x.tar"
    args: list[str] = []
    if case == "missing":
        target = tmp_path / "nope.tar"
    elif case == "not-image":
        target.write_text("hello")
    elif case == "truncated":
        src = require(DIVE_IMG).read_bytes()
        target.write_bytes(src[: len(src) // 2])
    elif case == "empty":
        target.write_bytes(b"")
    elif case == "directory":
        target = tmp_path
    elif case == "bad-platform":
        target = require(DIVE_IMG)
        args = ["--platform", "linux"]
    elif case == "docker":
        args = ["--source", "docker"]
        target = Path("alpine:3")
    elif case == "json-dir":
        target = require(DIVE_IMG)
        out = tmp_path / "no" / "such" / "dir.json"
    proc = run([str(target), "--json", str(out), *args])
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("layerscope: error: ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["x.tar"])


def test_digest_mismatch_names_the_layer(tmp_path: Path) -> None:
    img = write_docker_archive(ImageDef([Layer([F("a", b"abcdef" * 100)])]), tmp_path / "i.tar")
    data = bytearray(img.read_bytes())
    at = data.index(b"abcdef")
    data[at] = ord("X")
    img.write_bytes(bytes(data))
    proc = run([str(img)])
    assert proc.returncode == 2
    assert "layer 0" in proc.stderr and "diff_id" in proc.stderr


def test_help_for_every_option() -> None:
    proc = run(["--help"])
    assert proc.returncode == 0
    for option in (
        "--json",
        "--ci",
        "--ci-config",
        "--lowestEfficiency",
        "--highestWastedBytes",
        "--highestUserWastedPercent",
        "--source",
        "--platform",
        "--tag",
        "--summary",
        "--config",
        "--username",
        "--password-stdin",
        "--insecure",
        "--no-cache",
    ):
        assert option in proc.stdout


def test_ci_path_stays_headless() -> None:
    code = (
        "import sys, layerscope.cli; "
        "assert not [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unwritable_cache_does_not_fail_the_analysis(tmp_path: Path) -> None:
    cache = tmp_path / "ro"
    cache.mkdir()
    (cache / "layerscope").write_text("a file where the cache directory would go")
    proc = run([str(require(DIVE_IMG)), "--summary"], env={"XDG_CACHE_HOME": str(cache)})
    assert proc.returncode == 0 and "efficiency" in proc.stdout
    assert proc.stderr.startswith("layerscope: layer cache not written")


def test_a_bug_exits_3_with_one_line_and_a_crash_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Forced: a bug inside the analysis must never leave with 0 (success) or 1 (a rule failed).
    from layerscope import cli

    def broken(_: object) -> object:
        raise RuntimeError("forced failure")

    monkeypatch.setattr(cli, "open_analysed", broken)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    code = cli.main([str(require(DIVE_DATA / "test-docker-image.tar")), "--ci"])
    err = capsys.readouterr().err
    assert code == 3
    assert err.count("\n") == 1 and "internal error: RuntimeError: forced failure" in err
    logs = list((tmp_path / "layerscope").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    assert "Traceback" in logs[0].read_text() and "forced failure" in logs[0].read_text()
