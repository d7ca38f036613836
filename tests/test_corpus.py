"""The malformed-image corpus (scripts/make_corpus.py), each case through the real CLI.

A broken image: exit 2, one line on stderr naming the file, blob or digest and what is wrong, no
traceback, no JSON file, no temporary file in $TMPDIR or the layer cache. An odd but valid one:
exit 0 and the JSON lists what it holds (valid JSON, whatever the names' bytes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from make_corpus import CASES, Case, build

MIB = 1 << 20
# Peak memory (max RSS) of one run; the gzip bomb inflates to 1 GiB and must stay far below.
RSS_LIMIT = {"gzip-bomb": 200 * MIB, "tiny-200000": 700 * MIB, "deep-10000": 700 * MIB}
DEFAULT_RSS_LIMIT = 250 * MIB


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    build(root)
    return root


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    max_rss: int
    """Peak resident memory of the process, in bytes."""


# `python -m layerscope`, and the peak resident memory written down as it exits.
_MEASURED = (
    "import sys\n"
    "from layerscope.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
    "open('.hwm', 'w').write(hwm[0] if hwm else '')\n"
    "sys.exit(code)\n"
)


def run_cli(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> Run:
    """The real CLI in a subprocess, and its peak memory (VmHWM, counted from its exec)."""
    out, err = cwd / ".stdout", cwd / ".stderr"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [sys.executable, "-c", _MEASURED, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=o,
            stderr=e,
        )
        end = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > end:
                proc.kill()
                proc.wait()
                pytest.fail(f"layerscope {' '.join(args)} still running after {timeout} s")
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
    hwm = cwd / ".hwm"
    peak = int(hwm.read_text().split()[1]) * 1024 if hwm.exists() else 0
    run = Run(proc.returncode, out.read_text(), err.read_text(), peak)
    for f in (out, err, hwm):
        f.unlink(missing_ok=True)
    return run


def _leftovers(directory: Path) -> list[str]:
    """Temporary files (entries being written are dot files, renamed into place when whole)."""
    if not directory.exists():
        return []
    return sorted(p.name for p in directory.rglob("*") if p.is_file() and p.name.startswith("."))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case, corpus: Path, tmp_path: Path) -> None:
    work, tmp, cache = tmp_path / "work", tmp_path / "tmp", tmp_path / "cache"
    for d in (work, tmp, cache):
        d.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "XDG_CACHE_HOME": str(cache), "NO_COLOR": "1"}
    env.pop("CI", None)
    image = str(corpus / case.path)
    args = [image, *case.args, "--json", "out.json"] + ([] if case.ok else ["--ci"])
    run = run_cli(args, work, env)
    assert "Traceback" not in run.stderr
    assert os.listdir(tmp) == [], "a temporary file was left behind"
    assert _leftovers(cache / "layerscope" / "layers") == [], "a partial cache entry was left"
    assert run.max_rss < RSS_LIMIT.get(case.name, DEFAULT_RSS_LIMIT), f"{run.max_rss / MIB} MiB"
    if case.ok:
        _assert_read(case, run, work / "out.json")
    else:
        _assert_refused(case, run, image, work)


def _assert_refused(case: Case, run: Run, image: str, work: Path) -> None:
    assert run.code == 2, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    line = lines[0]
    assert line.startswith("layerscope: error: "), line
    assert image in line or Path(image).name in line, f"does not name the image: {line}"
    assert case.names in line, f"does not name {case.names!r}: {line}"
    for word in case.says:
        assert word in line.lower(), f"{word!r} missing in: {line}"
    assert os.listdir(work) == [], "an output file was written"
    assert run.stdout == ""


def _assert_read(case: Case, run: Run, out: Path) -> None:
    assert run.code == 0, run.stderr
    for word in case.says:
        assert word in run.stderr.lower()
    # Strict: valid UTF-8 and valid JSON whatever the names' bytes were.
    doc = json.loads(out.read_bytes().decode("utf-8", "strict"))
    paths = {f["path"] for layer in doc["layer"] for f in layer["fileList"]}
    for path in case.present:
        assert path in paths, f"{path} not in the JSON"


def test_corpus_is_large_and_covers_every_family() -> None:
    families = {c.family for c in CASES}
    assert len(CASES) >= 60
    assert families >= {"file", "truncated", "docker", "oci", "layout", "tar", "valid"}
    assert len({c.name for c in CASES}) == len(CASES)


def test_non_utf8_names_round_trip_through_json(corpus: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    run = run_cli([str(corpus / "non-utf8-names.tar"), "--json", "o.json"], tmp_path, env)
    assert run.code == 0, run.stderr
    raw = (tmp_path / "o.json").read_bytes()
    doc = json.loads(raw.decode("utf-8"))
    names = {f["path"] for layer in doc["layer"] for f in layer["fileList"]}
    # The undecodable bytes come back as Python's surrogate escapes: the original bytes.
    assert {n.encode("utf-8", "surrogateescape") for n in names} >= {
        b"caf\xe9",
        b"\xff\xfe",
        b"\xff\xfe/\x80",
        "ok\u00e9".encode(),
    }
    assert b"\\udce9" in raw  # escaped in the file, never raw bytes
