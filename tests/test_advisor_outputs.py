"""The advisor's plumbing: the engine's no-double-counting, the rules table, JSON, SARIF, the
CI gate, the Dockerfile mapping, --fix and the summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from layerscope.findings import dockerfile as df
from layerscope.findings.engine import FindingOptions, collect, path_ref
from layerscope.findings.model import Category, Finding, Rule, Severity
from layerscope.findings.producers import default_producers
from layerscope.findings.registry import all_rules, rules_markdown
from layerscope.findings.story import layer_story
from layerscope.model import HistoryEntry, Image, Layer
from layerscope.session import OpenedImage

from advisor_helpers import MB, advice_of, big, build, copy, of_rule, run
from helpers import opened
from imagebuilder import D, F, ImageDef, Step, W, random_bytes, write_oci_layout

ROOT = Path(__file__).resolve().parents[1]
BASE = run("true", D("etc"), F("etc/os-release", b"ID=test\n"))


def cli(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "layerscope", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_rules_table_is_generated_from_the_registry() -> None:
    assert (ROOT / "docs" / "rules.md").read_text() == rules_markdown()
    ids = [r.id for r in all_rules()]
    assert len(ids) == len(set(ids)) and all(r.fix and r.title for r in all_rules())


SECRET = Rule("LS-T001", Category.SECURITY, Severity.HIGH, "a test rule", "remove it")


class Greedy:
    """A producer (as another rule family would be) that claims bytes the waste rules own."""

    rules = (SECRET,)

    def __call__(self, opened: OpenedImage, options: FindingOptions) -> Iterable[Finding]:
        lists = path_ref("/var/lib/apt/lists/x", 1, 2 * MB, shipped=True)
        own = path_ref("/srv/key.pem", 1, 100, shipped=True)
        yield Finding(SECRET, "overlaps fully", (1,), "", "", (lists,), 1, 2 * MB, 2 * MB)
        yield Finding(SECRET, "overlaps in part", (1,), "", "", (lists, own), 2, 2 * MB + 100)
        yield Finding(SECRET, "no bytes", (1,), "", "")


def test_collect_never_counts_a_byte_twice(tmp_path: Path) -> None:
    img = build(tmp_path, BASE, run("apt-get update", big("var/lib/apt/lists/x", 2 * MB)))
    with opened(img) as o:
        found = collect(o, FindingOptions(), (*default_producers(), Greedy()))
    titles = [f.title for f in found if f.rule is SECRET]
    assert titles == ["overlaps in part", "no bytes"]  # the full overlap is gone
    part = next(f for f in found if f.title == "overlaps in part")
    assert part.recoverable_bytes == 100 and [p.path for p in part.paths] == ["/srv/key.pem"]
    assert not found.check_disjoint()
    assert found.recoverable_bytes == 2 * MB + 100


def test_totals_reconcile_with_the_waste_model(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        BASE,
        run("apt-get update && make", big("var/lib/apt/lists/x", 3 * MB), big("tmp/o", 2 * MB)),
        run("rm -rf /tmp/o /var/lib/apt/lists/x", W("tmp/o"), W("var/lib/apt/lists/x")),
    )
    advice = advice_of(img)
    with opened(img) as o:
        hidden = o.analysis.waste.reclaimable_bytes
    assert advice.findings.recoverable_bytes - advice.findings.shipped_bytes == hidden
    assert advice.layer_recoverable == (0, 5 * MB, 0)


def test_pull_bytes_follow_each_layers_compression(tmp_path: Path) -> None:
    # docker save stores layers uncompressed: a sample is gzip-compressed to estimate the ratio
    lists = "var/lib/apt/lists/x"
    img = build(tmp_path, BASE, run("apt-get update", big(lists, 3 * MB)))
    (f,) = of_rule(advice_of(img), "LS-W001")
    assert 0 < f.pull_bytes < f.recoverable_bytes // 50  # one line repeated: very compressible
    noise = build(
        tmp_path, BASE, run("apt-get update", F(lists, random_bytes(1, 2 * MB))), name="n.tar"
    )
    (g,) = of_rule(advice_of(noise), "LS-W001")
    assert 0.99 * g.recoverable_bytes < g.pull_bytes <= g.recoverable_bytes  # random: ~1:1
    oci = tmp_path / "oci.tar"
    write_oci_layout([ImageDef([BASE, run("apt-get update", big(lists, 3 * MB))])], oci, "gzip",
                     as_tar=True)  # fmt: skip
    with opened(oci) as o:
        stored = o.image.layers[1].compressed_size / o.image.layers[1].size
    (h,) = of_rule(advice_of(oci), "LS-W001")
    assert h.pull_bytes == round(3 * MB * stored)  # the layer's own ratio


def test_story_of_a_useradd_layer(tmp_path: Path) -> None:
    files = ["etc/passwd", "etc/passwd-", "etc/shadow", "etc/group", "etc/gshadow"]
    img = build(
        tmp_path,
        BASE,
        run(
            "useradd -m app",
            *[F(p, b"x") for p in files],
            F("var/log/lastlog", b"\0" * 10),
            D("home/app"),
            F("home/app/.bashrc", b"#"),
        ),
        run("apt-get update", big("var/lib/apt/lists/a"), big("var/lib/apt/lists/b")),
    )
    with opened(img) as o:
        story = layer_story(o.analysis.tree, 1)
        lists = layer_story(o.analysis.tree, 2)
    assert "account databases rewritten" in story.lower() and "login logs written" in story.lower()
    assert "a home directory created (/home/app)" in story
    assert lists.startswith("Apt lists downloaded (2 files, 4.2 MB)")


BLOATED = """\
FROM debian:bookworm AS base
# comment
RUN apt-get update \\
    && apt-get install -y python3-pip
RUN pip install flask
COPY app/ /srv/app/
RUN chown -R app:app /srv/app
RUN rm -rf /tmp/build /root/.cache/pip
"""


def _bloated(tmp_path: Path) -> Path:
    return build(
        tmp_path,
        run("debian base", D("etc"), F("etc/os-release", b"x")),
        Step("ENV LANG=C.UTF-8"),
        run(
            "apt-get update     && apt-get install -y python3-pip",
            big("var/lib/apt/lists/x", 3 * MB),
            big("var/cache/apt/archives/p.deb", 3 * MB),
            big("usr/bin/pip"),
        ),
        run(
            "pip install flask",
            big("root/.cache/pip/http/a", 2 * MB),
            big("tmp/build/o", 2 * MB),
            big("usr/lib/flask.py"),
        ),
        copy("app/ /srv/app/", big("srv/app/m.bin", 2 * MB)),
        run("chown -R app:app /srv/app", big("srv/app/m.bin", 2 * MB, uid=1000, gid=1000)),
        run("rm -rf /tmp/build /root/.cache/pip", W("tmp/build"), W("root/.cache/pip")),
    )


def test_dockerfile_lines_in_findings(tmp_path: Path) -> None:
    advice = advice_of(_bloated(tmp_path), BLOATED)
    where = {f.rule.id: f.location for f in advice.findings}
    assert where["LS-W001"] == "Dockerfile:3" and where["LS-W002"] == "Dockerfile:3"
    assert where["LS-W003"] == "Dockerfile:5" and where["LS-W013"] == "Dockerfile:7"
    assert where["LS-W011"] == "Dockerfile:5"  # /tmp/build, created by the pip RUN
    (lists,) = of_rule(advice, "LS-W001")
    assert lists.instruction.startswith("RUN apt-get update")


def test_mapping_reads_classic_builder_and_multi_stage_forms() -> None:
    text = """\
FROM golang:1.22 AS build
RUN go build -o /out/app .
FROM debian AS runtime
RUN apt-get install -y ca-certificates
FROM runtime
COPY --from=build /out/app /usr/local/bin/app
RUN <<EOF
echo hi
EOF
ENV A=1
"""
    parsed = df.parse(text)
    history = [
        "/bin/sh -c #(nop) ADD file:abc in / ",
        "|1 X=y /bin/sh -c apt-get install -y ca-certificates",
        "/bin/sh -c #(nop) COPY file:def in /usr/local/bin/app ",
        "RUN /bin/sh -c echo hi # buildkit",
        "/bin/sh -c #(nop)  ENV A=1",
    ]
    hist = tuple(HistoryEntry(created_by=h, empty_layer=h.endswith("A=1")) for h in history)
    layers = tuple(Layer(i, f"sha256:{i}", "", "", 0, 0, "", hist[i], ()) for i in range(4))
    image = Image("x", "test", "x", "", None, layers, hist)
    mapping = df.map_layers(parsed, image)
    lines = [s.instruction.line if (s := mapping.step(i)) else None for i in range(4)]
    assert lines == [None, 4, 6, 7]  # the base's ADD is not in this Dockerfile


def test_fix_diff_applies_and_changes_only_the_mechanical_parts(tmp_path: Path) -> None:
    img = _bloated(tmp_path)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(BLOATED)
    proc = cli([str(img), "--dockerfile", str(dockerfile), "--fix"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    subprocess.run(["patch", "-s", str(dockerfile)], input=proc.stdout, text=True, check=True)
    assert (
        dockerfile.read_text()
        == """\
FROM debian:bookworm AS base
# comment
RUN apt-get update \\
 && apt-get install -y python3-pip \\
 && apt-get clean \\
 && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir flask \\
 && rm -rf /tmp/build
COPY --chown=app:app app/ /srv/app/
"""
    )


def test_fix_needs_a_dockerfile(tmp_path: Path) -> None:
    proc = cli([str(_bloated(tmp_path)), "--fix"])
    assert proc.returncode == 2
    assert proc.stderr == "layerscope: error: --fix needs --dockerfile PATH\n"


def test_json_and_sarif(tmp_path: Path) -> None:
    img = _bloated(tmp_path)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(BLOATED)
    out, sarif = tmp_path / "out.json", tmp_path / "out.sarif"
    proc = cli([str(img), "--json", str(out), "--sarif", str(sarif), "--dockerfile", "Dockerfile"],
               cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert {"layer", "image"} <= set(doc)  # dive's keys untouched
    findings = doc["layerscope"]["findings"]
    lists = next(f for f in findings if f["ruleId"] == "LS-W001")
    assert lists["location"] == "Dockerfile:3" and lists["recoverableBytes"] == 3 * MB
    first = lists["paths"][0]
    assert (first["path"], first["layer"], first["sizeBytes"], first["state"]) == (
        "/var/lib/apt/lists/x", 1, 3 * MB, "present")  # fmt: skip
    assert len(first["contentHash"]) == 16
    assert [layer["index"] for layer in doc["layerscope"]["layers"]] == list(range(6))
    assert doc["layerscope"]["layers"][1]["story"].startswith("Apt ")
    assert doc["layerscope"]["findingsSummary"]["recoverableBytes"] == sum(
        f["recoverableBytes"] for f in findings
    )
    _check_sarif(json.loads(sarif.read_text()), len(findings))


def _check_sarif(log: dict[str, Any], count: int) -> None:
    """SARIF 2.1.0's required structure (sarif-schema-2.1.0.json: required properties)."""
    assert log["version"] == "2.1.0" and str(log["$schema"]).endswith("sarif-2.1.0.json")
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "layerscope"
    ids = [r["id"] for r in driver["rules"]]
    assert len(ids) == len(set(ids)) and "LS-W001" in ids
    levels = ("none", "note", "warning", "error")
    for r in driver["rules"]:
        assert r["shortDescription"]["text"] and r["defaultConfiguration"]["level"] in levels
    assert len(run_["results"]) == count
    for res in run_["results"]:
        assert res["message"]["text"] and res["level"] in levels
        assert ids[res["ruleIndex"]] == res["ruleId"]
        (loc,) = res["locations"]
        if res["ruleId"] == "LS-S034":  # the image runs as root: no layer, no Dockerfile line
            assert loc["logicalLocations"][0]["name"]
            continue
        region = loc["physicalLocation"]["region"]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == "Dockerfile"
        assert isinstance(region["startLine"], int) and region["startLine"] >= 1


def test_sarif_to_a_missing_directory_is_one_error_line(tmp_path: Path) -> None:
    img = _bloated(tmp_path)
    proc = cli([str(img), "--sarif", str(tmp_path / "no" / "x.sarif")])
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "does not exist" in proc.stderr


def test_summary_shows_findings_and_stories(tmp_path: Path) -> None:
    proc = cli([str(_bloated(tmp_path)), "--summary"])
    assert proc.returncode == 0, proc.stderr
    assert "Findings (" in proc.stdout and "Story of each layer:" in proc.stdout
    assert "LS-W001" in proc.stdout and "hidden" in proc.stdout and "shipped" in proc.stdout


def test_policy_rules_beside_dives(tmp_path: Path) -> None:
    img = str(_bloated(tmp_path))
    (tmp_path / ".layerscope.yaml").write_text(
        "rules:\n  maxReclaimableBytes: 100MB\n  failOn: [LS-W013]\n"
        "  denyPaths: ['**/.cache/**']\n  maxLayerSize: 1GB\n"
    )
    (tmp_path / ".dive-ci").write_text(
        "rules:\n  lowestEfficiency: 0.1\n  highestUserWastedPercent: disabled\n"
    )
    proc = cli([img, "--ci"], cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "PASS: lowestEfficiency" in out and "SKIP: highestUserWastedPercent" in out
    assert "PASS: maxReclaimableBytes" in out and "PASS: maxLayerSize" in out
    assert "FAIL: failOn: 1 finding(s) match, first: LS-W013" in out
    assert "FAIL: denyPaths: 1 denied path(s), first: /root/.cache/pip/http/a (layer 2)" in out
    assert "Result:FAIL [Total:7] [Passed:3] [Failed:2] [Warn:0] [Skipped:2]" in out
    (tmp_path / ".layerscope.yaml").write_text("failOn: [critical]\n")
    assert cli([img, "--ci"], cwd=tmp_path).returncode == 0


def test_a_bad_policy_is_one_error_line(tmp_path: Path) -> None:
    img = str(_bloated(tmp_path))
    (tmp_path / ".layerscope.yaml").write_text("maxReclaimable: 5MB\n")
    proc = cli([img, "--ci"], cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        "layerscope: error: .layerscope.yaml: unknown key 'maxReclaimable' (known: "
        "maxReclaimableBytes, failOn, denyPaths, maxLayerSize)\n"
    )
    (tmp_path / ".layerscope.yaml").write_text("failOn: [nonsense]\n")
    assert cli([img, "--ci"], cwd=tmp_path).returncode == 2


def test_small_findings_keep_their_rules_severity_apart(tmp_path: Path) -> None:
    img = build(tmp_path, BASE, run("apt-get update", big("var/lib/apt/lists/x", 10)))
    (f,) = of_rule(advice_of(img), "LS-W001")
    assert replace(f, severity=None).level is Severity.MEDIUM and f.level is Severity.INFO


def test_other_sections_of_the_policy_file_are_left_to_their_owners(tmp_path: Path) -> None:
    img = str(_bloated(tmp_path))
    (tmp_path / ".layerscope.yaml").write_text("maxLayerSize: 1MB\npackages:\n  deny: [gcc*]\n")
    proc = cli([img, "--ci"], cwd=tmp_path)
    assert proc.returncode == 1 and "FAIL: maxLayerSize: largest layer 1" in proc.stdout


PURGED = """\
FROM debian
RUN apt-get update && apt-get install -y python3-pip
RUN pip install flask
RUN useradd app
RUN apt-get purge -y python3-pip
"""


def test_fix_folds_a_later_purge_with_the_runs_that_need_the_package(tmp_path: Path) -> None:
    pip_files = [big("usr/bin/pip", 1 * MB), big("usr/lib/python3/dist-packages/pip/x.py", 3 * MB)]
    img = build(
        tmp_path,
        run("debian base", D("etc"), F("etc/os-release", b"x")),
        run("apt-get update && apt-get install -y python3-pip", *pip_files),
        run("pip install flask", big("usr/local/lib/flask.py")),
        run("useradd app", F("etc/passwd", b"app:x:1000")),
        run(
            "apt-get purge -y python3-pip",
            W("usr/bin/pip"),
            W("usr/lib/python3/dist-packages/pip"),
        ),
    )
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(PURGED)
    proc = cli([str(img), "--dockerfile", str(dockerfile), "--fix"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    subprocess.run(["patch", "-s", str(dockerfile)], input=proc.stdout, text=True, check=True)
    assert (
        dockerfile.read_text()
        == """\
FROM debian
RUN apt-get update \\
 && apt-get install -y python3-pip \\
 && pip install --no-cache-dir flask \\
 && apt-get purge -y python3-pip
RUN useradd app
"""
    )


PURGED_PIP = """\
FROM scratch
RUN apt-get update && apt-get install -y python3-pip
RUN pip install flask
RUN apt-get purge -y python3-pip
"""


def test_fix_adds_no_cache_dir_to_a_pip_run_folded_into_the_install(tmp_path: Path) -> None:
    """pip stored no cache (history only) and the purge folds the pip RUN into the install RUN:
    the folded command still gets `--no-cache-dir`."""
    img = build(
        tmp_path,
        run(
            "apt-get update && apt-get install -y python3-pip",
            big("usr/lib/python3/dist-packages/pip/core.py", 3 * MB),
            big("usr/bin/pip"),
        ),
        run("pip install flask", big("usr/local/lib/flask.py")),
        run(
            "apt-get purge -y python3-pip",
            W("usr/lib/python3/dist-packages/pip"),
            W("usr/bin/pip"),
        ),
    )
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(PURGED_PIP)
    proc = cli([str(img), "--dockerfile", str(dockerfile), "--fix"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    subprocess.run(["patch", "-s", str(dockerfile)], input=proc.stdout, text=True, check=True)
    text = dockerfile.read_text()
    assert "pip install --no-cache-dir flask" in text and text.count("RUN ") == 1, text


def test_story_tells_small_events_beside_bulk_installs(tmp_path: Path) -> None:
    """An apt install: the certificates, the ldconfig cache and the count of Debian packages
    are told though far smaller than the libraries and programs, which come second."""
    lists = [F(f"var/lib/dpkg/info/{n}.list", b"/usr\n") for n in ("libc6", "openssl", "curl")]
    img = build(
        tmp_path,
        BASE,
        run(
            "apt-get install -y curl",
            *lists,
            F("var/lib/dpkg/status", b"Package: curl\n"),
            F("etc/ssl/certs/ca-certificates.crt", b"-----BEGIN CERTIFICATE-----\n"),
            F("etc/ld.so.cache", b"ld"),
            F("var/lib/apt/lists/lock", b""),
            *[big(f"usr/lib/x86_64-linux-gnu/lib{i}.so.1") for i in range(5)],
            *[big(f"usr/bin/tool{i}") for i in range(5)],
            *[big(f"opt/data/{i}.bin") for i in range(5)],
        ),
    )
    with opened(img) as o:
        story = layer_story(o.analysis.tree, 1)
    first, _, second = story.partition(". ")
    assert first.startswith("Dpkg database updated (3 packages")
    assert "certificates regenerated" in first and "ldconfig cache rebuilt" in first
    assert "apt lists" not in story  # the empty lock file is not news
    assert "shared libraries installed" in second and "programs installed" in second
