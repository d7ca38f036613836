"""`make verify-security`: the security findings on the real pyapp build (a check, not a unit test).

Needs the pyapp images built by `../shared/fixtures/pyapp/build.sh` in `$LAYERSCOPE_PYAPP`
(default `../pyapp-out` beside the checkout): the bloated and fixed docker-archives and OCI
archives, and `secrets.env` with the values planted in that build. It checks that:

  * every planted problem is found with the right rule, layer and state: the private key, the
    cloud key pair and the database password in the `.env` copied in and deleted later (hidden,
    still shipped in the COPY layer), the API_TOKEN build argument (recorded in the history, used
    by the RUN that writes build.log, and written into build.log), the setuid helper;
  * the fixed image has no finding above info, and neither has the Debian base layer alone;
  * no planted value appears in any output: the summary, the JSON, the CI report, SARIF, the
    HTML report, stdout and stderr of every run, and every file the runs left (the layer cache
    included).

Exit 0 when all hold, 1 with the failures listed otherwise, 2 when the build is missing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYERSCOPE = [sys.executable, "-m", "layerscope"]
FAILURES: list[str] = []


def check(ok: bool, what: str) -> None:
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        FAILURES.append(what)


def planted(path: Path) -> dict[str, str]:
    """The planted values: NAME -> value (the private key with its `\\n` escapes kept)."""
    out = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            out[name.strip()] = value.strip().strip('"')
    return out


def needles(values: dict[str, str]) -> dict[str, str]:
    """What must never appear: each value whole, and each line of the key's base64 body."""
    out = {}
    for name, value in values.items():
        if "PRIVATE KEY" in value:
            for i, line in enumerate(value.replace("\\n", "\n").splitlines()):
                if len(line) >= 40 and "-----" not in line:
                    out[f"{name} line {i}"] = line
        else:
            out[name] = value
        if name == "DATABASE_URL":
            out["DATABASE_URL password"] = value.partition("://")[2].partition("@")[0].split(":")[1]
    return out


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # The layer cache (and any crash log) go under the work directory, which is searched too.
    env = {**os.environ, "NO_COLOR": "1", "XDG_CACHE_HOME": str(cwd / "cache")}
    env.pop("CI", None)
    return subprocess.run(
        [*LAYERSCOPE, *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )


def base_layer_image(archive: Path, dest: Path) -> Path:
    """A docker-archive holding only the first layer of `archive` (the Debian root filesystem)."""
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())[0]  # type: ignore[union-attr]
        config = json.loads(tar.extractfile(manifest["Config"]).read())  # type: ignore[union-attr]
        layer = tar.extractfile(manifest["Layers"][0]).read()  # type: ignore[union-attr]
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    first = next(h for h in config["history"] if not h.get("empty_layer"))
    cfg = {
        "architecture": config.get("architecture", "amd64"),
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": first.get("created_by", "")}],
    }
    raw = json.dumps(cfg).encode()
    name = hashlib.sha256(raw).hexdigest() + ".json"
    with tarfile.open(dest, "w") as out:
        for member, data in (
            ("layer0/layer.tar", layer),
            (name, raw),
            (
                "manifest.json",
                json.dumps(
                    [{"Config": name, "RepoTags": ["pyapp-base:0"], "Layers": ["layer0/layer.tar"]}]
                ).encode(),
            ),
        ):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return dest


def findings_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings in a JSON document: `layerscope.findings` (the advisor's list)."""
    ls = doc.get("layerscope", {})
    found = ls.get("findings")
    if isinstance(found, dict):
        found = found.get("findings") or found.get("items") or []
    return list(found or [])


def api_findings(path: Path) -> list[Any]:
    """The findings as the library returns them (content scan on)."""
    sys.path.insert(0, str(ROOT / "src"))
    from layerscope.findings.security import scan_opened
    from layerscope.session import open_image
    from layerscope.sources.archive import spec_from_path

    with open_image(spec_from_path(path, str(path), None, None)) as opened:
        commands = [layer.command for layer in opened.image.layers]
        return [scan_opened(opened, contents=True).findings, commands]


def layer_running(commands: list[str], text: str) -> int:
    return next(i for i, c in enumerate(commands) if text in c)


def verify_bloated(path: Path) -> None:
    print(f"{path.name}: every planted problem, with its layer and state")
    findings, commands = api_findings(path)
    copy_env = layer_running(commands, "COPY .env")
    writes_log = layer_running(commands, "build.log")
    by_rule: dict[str, list[Any]] = {}
    for f in findings:
        by_rule.setdefault(f.rule.id, []).append(f)
    for rule, what in (
        ("LS-S001", "private key"),
        ("LS-S002", "cloud key pair"),
        ("LS-S004", "database password"),
    ):
        hits = [f for f in by_rule.get(rule, []) if f.paths and f.paths[0].path == "/srv/app/.env"]
        ok = bool(hits) and hits[0].layers[0] == copy_env
        ok = ok and all(p.state.value == "hidden" for p in hits[0].paths)
        check(ok, f"{rule} {what} in /srv/app/.env, layer {copy_env}, hidden but shipped")
        check(
            bool(hits) and hits[0].level.value in ("high", "critical"),
            f"{rule} is high or critical",
        )
    pair = by_rule.get("LS-S002", [])
    check(
        bool(pair)
        and {"aws-access-key-id", "aws-secret-access-key"}
        <= set(pair[0].title.replace(",", "").split()),
        "LS-S002 has the key id with its secret",
    )
    args = by_rule.get("LS-S020", [])
    check(
        len(args) == 1
        and "API_TOKEN" in args[0].title
        and ("used by layers", str(writes_log)) in args[0].evidence,
        f"LS-S020 build argument API_TOKEN recorded in the history, used by layer {writes_log}",
    )
    log = [f for f in by_rule.get("LS-S006", []) if f.paths[0].path == "/srv/app/build.log"]
    check(
        bool(log) and log[0].layers[0] == writes_log,
        f"LS-S006 the token written into /srv/app/build.log in layer {writes_log}",
    )
    setuid = [
        f for f in by_rule.get("LS-S030", []) if f.paths[0].path == "/usr/local/bin/app-helper"
    ]
    check(
        bool(setuid)
        and setuid[0].layers == (writes_log,)
        and setuid[0].paths[0].state.value == "present",
        f"LS-S030 setuid /usr/local/bin/app-helper added by layer {writes_log}, present",
    )
    check(
        all(
            f.rule.id != "LS-S030" or f.paths[0].path == "/usr/local/bin/app-helper"
            for f in findings
        ),
        "no other setuid file is blamed on the image's own layers",
    )


def verify_quiet(path: Path, label: str) -> None:
    print(f"{label}: nothing above info")
    findings, _ = api_findings(path)
    loud = [f"{f.rule.id} {f.level.value} {f.title}" for f in findings if f.level.value != "info"]
    check(not loud, f"{label}: no finding above info" + (f" (got: {loud})" if loud else ""))


def verify_outputs(image: Path, work: Path, secret: dict[str, str]) -> None:
    print(f"{image.name}: no planted value in any output")
    (work / ".layerscope.yaml").write_text("rules:\n  failOn: [high]\n")
    outputs: dict[str, str] = {}
    runs = {
        "summary --security": ["--security", "--summary"],
        "summary (default rules)": ["--summary"],
        "json --security": ["--security", "--json", str(work / "out.json")],
        "json (default rules)": ["--json", str(work / "plain.json")],
        "ci, failOn [high] (no --security)": ["--ci"],
        "sarif --security": ["--security", "--sarif", str(work / "out.sarif"), "--summary"],
        "html --security": ["--security", "--html", str(work / "out.html")],
    }
    for name, args in runs.items():
        proc = run([str(image), *args], work)
        outputs[f"{name}: stdout"] = proc.stdout
        outputs[f"{name}: stderr"] = proc.stderr
        check(proc.returncode in (0, 1), f"{name} ran (exit {proc.returncode})")
    files = [p for p in work.rglob("*") if p.is_file() and p.suffix != ".tar"]
    files = [p for p in files if "control" not in p.relative_to(work).parts]
    check(any("cache" in p.parts for p in files), "the layer cache was written (and is searched)")
    for file in sorted(files):
        outputs[str(file.relative_to(work))] = file.read_text(errors="replace")
    ci_out = outputs["ci, failOn [high] (no --security): stdout"]
    fail_on = [line for line in ci_out.splitlines() if "failOn" in line]
    check(
        bool(fail_on) and "FAIL" in fail_on[0],
        "the CI gate's failOn [high] fails: " + (fail_on[0].strip() if fail_on else "no failOn"),
    )
    check(
        "content scan:" in outputs["ci, failOn [high] (no --security): stderr"],
        "failOn [high] turned the content scan on",
    )
    planted_rules = {"LS-S001", "LS-S002", "LS-S004", "LS-S006", "LS-S020", "LS-S030"}
    doc = json.loads(outputs["out.json"])
    found = findings_of(doc)
    check(planted_rules <= {f["ruleId"] for f in found}, "the JSON lists every planted problem")
    env = [f for f in found if f["paths"] and f["paths"][0]["path"] == "/srv/app/.env"]
    check(
        bool(env) and all(p["state"] == "hidden" for f in env for p in f["paths"]),
        "the JSON says the .env versions are hidden (deleted but shipped)",
    )
    sarif = json.loads(outputs["out.sarif"])
    in_sarif = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    check(planted_rules <= in_sarif, "SARIF lists every planted problem")
    summary = outputs["summary --security: stdout"]
    check(all(r in summary for r in planted_rules), "the summary lists every planted problem")
    leaks: dict[str, list[str]] = {}
    for name, value in needles(secret).items():
        where = [k for k, text in outputs.items() if value in text]
        leaks.setdefault(name.partition(" line ")[0], []).extend(where)
    for name, where in leaks.items():
        check(not where, f"{name} appears in no output" + (f" (found in {where})" if where else ""))


def control(image: Path, work: Path, secret: dict[str, str]) -> None:
    """The search can fail: dive's own JSON of the same image holds the build argument."""
    dive = Path(sys.executable).parent / "dive"
    if not dive.exists():
        return
    out = work / "dive.json"
    subprocess.run(
        [str(dive), f"docker-archive://{image}", "--json", str(out)],
        capture_output=True,
        check=False,
        cwd=work,
    )
    text = out.read_text() if out.exists() else ""
    check(
        secret.get("API_TOKEN", "?") in text,
        "control: dive's JSON of the same image shows API_TOKEN",
    )


def main() -> int:
    pyapp = Path(os.environ.get("LAYERSCOPE_PYAPP") or ROOT.parent / "pyapp-out")
    bloated = pyapp / "pyapp-bloated.docker-archive.tar"
    if not (pyapp / "secrets.env").is_file() or not bloated.is_file():
        sys.stderr.write(f"verify-security: no pyapp build in {pyapp} (set LAYERSCOPE_PYAPP)\n")
        return 2
    secret = planted(pyapp / "secrets.env")
    with tempfile.TemporaryDirectory(prefix="verify-security-") as tmp:
        work = Path(tmp)
        for variant in ("docker-archive", "oci-archive"):
            verify_bloated(pyapp / f"pyapp-bloated.{variant}.tar")
            verify_quiet(pyapp / f"pyapp-fixed.{variant}.tar", f"pyapp-fixed.{variant}")
        verify_quiet(base_layer_image(bloated, work / "base.tar"), "the Debian base layer alone")
        (work / "control").mkdir()
        control(bloated, work / "control", secret)
        for variant in ("docker-archive", "oci-archive"):
            verify_outputs(pyapp / f"pyapp-bloated.{variant}.tar", work, secret)
    print(f"\n{len(FAILURES)} failure(s)" if FAILURES else "\nall checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
