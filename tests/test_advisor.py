"""The waste advisor on small images built here: each rule fires where it should and stays quiet
where it should not; bytes are counted once and reconcile with the waste model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerscope.findings import devdeps, waste
from layerscope.findings.engine import Options, collect
from layerscope.findings.model import Finding, FindingSet, PathState, Severity
from layerscope.findings.story import stories

from helpers import opened
from imagebuilder import D, F, ImageDef, Layer, W, random_bytes, write_docker_archive

BK = "buildkit.dockerfile.v0"


def image(tmp_path: Path, *layers: tuple[str, list[F]]) -> Path:
    """Layer 0 is the base image (no BuildKit mark); the others are the build's own."""
    steps = [Layer(layers[0][1], layers[0][0])]
    steps += [
        Layer(
            entries,
            f"RUN /bin/sh -c {cmd} # buildkit"
            if not cmd.startswith(("COPY", "ADD"))
            else f"{cmd} # buildkit",
            BK,
        )
        for cmd, entries in layers[1:]
    ]
    return write_docker_archive(ImageDef(steps), tmp_path / "img.tar")


BASE = ("ADD rootfs.tar /", [D("etc"), F("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")])


def findings(path: Path) -> FindingSet:
    with opened(path) as o:
        return collect(o, [devdeps.produce, waste.produce])


def by_rule(found: FindingSet, rule_id: str) -> list[Finding]:
    return [f for f in found if f.rule.id == rule_id]


def blob(seed: int, size: int = 200_000) -> bytes:
    return random_bytes(seed, size)


CACHES = [
    ("LS-W001", "var/lib/apt/lists/deb.debian.org_dists_bookworm_main_Packages"),
    ("LS-W002", "var/cache/apt/archives/python3_3.11_amd64.deb"),
    ("LS-W003", "home/app/.cache/pip/http/a/b/c"),
    ("LS-W003", "root/.cache/pip/wheels/x.whl"),
    ("LS-W004", "root/.npm/_cacache/content-v2/sha512/ab"),
    ("LS-W005", "usr/local/share/.cache/yarn/v6/npm-left-pad/index.js"),
    ("LS-W006", "root/.local/share/pnpm/store/v3/files/00/abc"),
    ("LS-W007", "var/cache/apk/APKINDEX.abc.tar.gz"),
    ("LS-W008", "var/cache/dnf/fedora-abc/repodata/primary.xml.gz"),
    ("LS-W009", "root/.cache/go-build/ab/abcdef-d"),
    ("LS-W009", "go/pkg/mod/cache/download/golang.org/x/net/@v/v0.1.0.zip"),
    ("LS-W010", "root/.m2/repository/org/junit/junit-4.13.jar"),
    ("LS-W010", "home/gradle/.gradle/caches/modules-2/files-2.1/x.jar"),
]


@pytest.mark.parametrize(("rule_id", "path"), CACHES)
def test_cache_left_in_a_layer_fires_shipped(tmp_path: Path, rule_id: str, path: str) -> None:
    found = findings(image(tmp_path, BASE, ("install", [F(path, blob(1))])))
    (f,) = by_rule(found, rule_id)
    assert f.recoverable_bytes == f.shipped_bytes == 200_000  # ships: still waste
    assert f.layers == (1,) and f.paths[0].state is PathState.PRESENT
    assert f.level.at_least(Severity.LOW) and "install" in f.instruction
    assert 0 < f.pull_bytes <= 1.1 * f.recoverable_bytes


@pytest.mark.parametrize(
    "path",
    [
        "usr/lib/python3/dist-packages/pip/_internal/cache.py",  # pip's own code, not its cache
        "var/lib/apt/lists/lock",
        "usr/share/npm/lib/cache.js",
        "srv/app/go/main.go",
    ],
)
def test_lookalikes_are_not_caches(tmp_path: Path, path: str) -> None:
    found = findings(image(tmp_path, BASE, ("install", [F(path, blob(2))])))
    cache_rules = {rid for rid, _ in CACHES}
    assert not [f for f in found if f.rule.id in cache_rules]


def test_cache_deleted_later_is_hidden_and_reconciles(tmp_path: Path) -> None:
    lists = "var/lib/apt/lists/x_Packages"
    path = image(
        tmp_path,
        BASE,
        ("apt-get update", [F(lists, blob(3, 300_000))]),
        ("rm -rf /var/lib/apt/lists/*", [W(lists)]),
    )
    found = findings(path)
    (f,) = by_rule(found, "LS-W001")
    assert f.hidden_bytes == 300_000 and f.shipped_bytes == 0
    assert "removed in layer 2" in f.title and ("removed by layers", "2") in f.evidence
    with opened(path) as o:
        model = o.analysis.waste.reclaimable_bytes
    assert sum(x.hidden_bytes for x in found) == model == 300_000
    assert not found.check_disjoint()


def test_rewritten_unchanged_by_chown(tmp_path: Path) -> None:
    data = blob(4, 100_000)
    found = findings(
        image(
            tmp_path,
            BASE,
            ("COPY app/ /srv/app/", [F("srv/app/main.py", data)]),
            ("chown -R app:app /srv/app", [F("srv/app/main.py", data, uid=1000, gid=1000)]),
        )
    )
    (f,) = by_rule(found, "LS-W020")
    assert f.layers == (1, 2) and "chown" in f.instruction and f.recoverable_bytes == 100_000
    assert "--chown" in f.fix
    assert not by_rule(found, "LS-W022")


def test_changed_content_is_overwritten_not_rewritten(tmp_path: Path) -> None:
    found = findings(
        image(
            tmp_path,
            BASE,
            ("make", [F("srv/app/big.bin", blob(5))]),
            ("make again", [F("srv/app/big.bin", blob(6))]),
        )
    )
    assert by_rule(found, "LS-W022") and not by_rule(found, "LS-W020")
    assert by_rule(found, "LS-W022")[0].recoverable_bytes == 200_000


def test_created_then_deleted(tmp_path: Path) -> None:
    found = findings(
        image(
            tmp_path,
            BASE,
            ("curl -o /tmp/src.tgz", [D("tmp"), F("tmp/src.tgz", blob(7))]),
            ("rm /tmp/src.tgz", [W("tmp/src.tgz")]),
        )
    )
    (f,) = by_rule(found, "LS-W021")
    assert f.layers == (1, 2) and f.hidden_bytes == 200_000 and "curl" in f.instruction


def test_created_and_kept_is_not_deleted_waste(tmp_path: Path) -> None:
    found = findings(image(tmp_path, BASE, ("curl -o /opt/x", [F("opt/x.bin", blob(8))])))
    assert not by_rule(found, "LS-W021") and not by_rule(found, "LS-W022")


def test_package_purged_later_frees_nothing(tmp_path: Path) -> None:
    found = findings(
        image(
            tmp_path,
            BASE,
            ("apt-get install -y foo", [F("usr/lib/foo/libfoo.so", blob(9))]),
            ("apt-get purge -y --auto-remove foo", [W("usr/lib/foo")]),
        )
    )
    (f,) = by_rule(found, "LS-W023")
    assert f.layers == (1, 2) and "purge" in f.instruction and f.recoverable_bytes == 200_000
    assert not by_rule(found, "LS-W021")


def test_plain_rm_is_not_a_package_removal(tmp_path: Path) -> None:
    found = findings(
        image(
            tmp_path,
            BASE,
            ("make install", [F("usr/lib/foo/libfoo.so", blob(9))]),
            ("rm -rf /usr/lib/foo", [W("usr/lib/foo")]),
        )
    )
    assert by_rule(found, "LS-W021") and not by_rule(found, "LS-W023")


def test_system_databases_are_informational(tmp_path: Path) -> None:
    found = findings(
        image(
            tmp_path,
            ("ADD rootfs.tar /", [F("etc/passwd", b"root:x:0:0\n" * 100)]),
            ("useradd -m app", [F("etc/passwd", b"root:x:0:0\napp:x:1000\n" * 100)]),
        )
    )
    (f,) = by_rule(found, "LS-W012")
    assert f.level is Severity.INFO and not by_rule(found, "LS-W022")


def test_copy_drags_in_build_context_junk(tmp_path: Path) -> None:
    junk = [
        F("srv/app/.git/objects/pack/p.pack", blob(10)),
        F("srv/app/__pycache__/m.cpython-311.pyc", blob(11)),
        F("srv/app/.DS_Store", blob(12, 70_000)),
        F("srv/app/node_modules/left-pad/index.js", blob(13)),
        F("srv/app/main.py", blob(14)),
    ]
    found = findings(image(tmp_path, BASE, ("COPY . /srv/app/", junk)))
    (f,) = by_rule(found, "LS-W032")
    assert f.path_count == 4 and "/srv/app/main.py" not in {p.path for p in f.paths}
    for entry in (".git", "**/__pycache__", "**/.DS_Store", "node_modules"):
        assert entry in f.fix


def test_the_same_files_written_by_a_run_are_not_context_junk(tmp_path: Path) -> None:
    found = findings(
        image(tmp_path, BASE, ("git clone x /srv/app", [F("srv/app/.git/objects/p", blob(15))]))
    )
    assert not by_rule(found, "LS-W032")


def test_toolchain_in_final_image(tmp_path: Path) -> None:
    found = findings(
        image(
            tmp_path,
            BASE,
            (
                "apt-get install gcc",
                [F("usr/bin/gcc-12", blob(16)), F("usr/include/s.h", blob(17))],
            ),
        )
    )
    (f,) = by_rule(found, "LS-W030")
    assert f.path_count == 2 and f.shipped_bytes == 400_000


def test_toolchain_in_the_base_image_is_not_the_builds(tmp_path: Path) -> None:
    base = ("ADD rootfs.tar /", [F("usr/bin/gcc-12", blob(16)), F("usr/include/s.h", blob(17))])
    found = findings(image(tmp_path, base, ("true", [F("srv/a", b"x")])))
    assert not by_rule(found, "LS-W030")


def test_duplicate_content(tmp_path: Path) -> None:
    data = blob(18, 50_000)
    found = findings(
        image(
            tmp_path,
            BASE,
            ("pip install", [F("opt/venv/lib/x.so", data)]),
            ("cp -r /opt/venv /opt/venv2", [F("opt/venv2/lib/x.so", data)]),
        )
    )
    (f,) = by_rule(found, "LS-W040")
    assert f.paths[0].path == "/opt/venv2/lib/x.so" and f.recoverable_bytes == 50_000


def test_different_content_is_not_duplicate(tmp_path: Path) -> None:
    found = findings(
        image(
            tmp_path,
            BASE,
            ("build", [F("opt/a.so", blob(19, 50_000)), F("opt/b.so", blob(20, 50_000))]),
        )
    )
    assert not by_rule(found, "LS-W040")


def test_docs_are_informational_and_logs_too(tmp_path: Path) -> None:
    found = findings(
        image(
            tmp_path,
            BASE,
            (
                "apt-get install x",
                [F("usr/share/doc/x/changelog.gz", blob(21)), F("var/log/apt/term.log", blob(22))],
            ),
        )
    )
    (docs,) = by_rule(found, "LS-W050")
    (logs,) = by_rule(found, "LS-W011")
    assert docs.level is Severity.INFO and logs.level is Severity.INFO


def test_docs_of_the_base_image_are_not_the_builds(tmp_path: Path) -> None:
    base = ("ADD rootfs.tar /", [F("usr/share/doc/x/changelog.gz", blob(21))])
    assert not by_rule(findings(image(tmp_path, base, ("true", [F("a", b"x")]))), "LS-W050")


def test_npm_dev_dependencies(tmp_path: Path) -> None:
    pkg = {"dependencies": {"express": "4"}, "devDependencies": {"jest": "29"}}
    found = findings(
        image(
            tmp_path,
            BASE,
            (
                "npm ci",
                [
                    F("app/package.json", json.dumps(pkg).encode()),
                    F("app/node_modules/jest/index.js", blob(23)),
                    F("app/node_modules/express/index.js", blob(24)),
                ],
            ),
        )
    )
    (f,) = by_rule(found, "LS-W031")
    assert [p.path for p in f.paths] == ["/app/node_modules/jest/index.js"]
    assert "--omit=dev" in f.fix


def test_without_dev_dependencies_nothing_fires(tmp_path: Path) -> None:
    pkg = {"dependencies": {"express": "4"}}
    found = findings(
        image(
            tmp_path,
            BASE,
            (
                "npm ci",
                [
                    F("app/package.json", json.dumps(pkg).encode()),
                    F("app/node_modules/express/index.js", blob(24)),
                ],
            ),
        )
    )
    assert not by_rule(found, "LS-W031")


def test_pip_without_no_cache_dir_is_read_from_history(tmp_path: Path) -> None:
    found = findings(image(tmp_path, BASE, ("pip install flask", [F("usr/lib/f.py", b"x")])))
    (f,) = by_rule(found, "LS-W003")
    assert f.level is Severity.INFO and f.recoverable_bytes == 0
    quiet = findings(
        image(tmp_path, BASE, ("pip install --no-cache-dir flask", [F("usr/lib/f.py", b"x")]))
    )
    assert not by_rule(quiet, "LS-W003")


def test_every_byte_once_across_rules(tmp_path: Path) -> None:
    """A cache that is also duplicated, deleted and rewritten: one finding owns each copy."""
    data = blob(25)
    path = image(
        tmp_path,
        BASE,
        ("pip install", [F("root/.cache/pip/a", data), F("root/.cache/pip/b", data)]),
        ("chown -R 1:1 /root", [F("root/.cache/pip/a", data, uid=1)]),
        ("rm -rf /root/.cache/pip/b", [W("root/.cache/pip/b")]),
    )
    found = findings(path)
    assert not found.check_disjoint()
    pip = by_rule(found, "LS-W003")  # one per layer that stored a copy
    assert sorted(f.layers[0] for f in pip) == [1, 2]
    assert sum(f.recoverable_bytes for f in pip) == 3 * 200_000 and not by_rule(found, "LS-W040")
    with opened(path) as o:
        assert sum(x.hidden_bytes for x in found) == o.analysis.waste.reclaimable_bytes


def test_collect_drops_bytes_an_earlier_producer_claimed(tmp_path: Path) -> None:
    path = image(tmp_path, BASE, ("x", [F("var/cache/apt/a.bin", blob(26))]))

    def again(o, opts):  # type: ignore[no-untyped-def]
        return waste.waste_findings(o.analysis, opts)

    with opened(path) as o:
        twice = collect(o, [waste.produce, again], Options())
    assert len(by_rule(twice, "LS-W002")) == 1 and twice.recoverable_bytes == 200_000


def test_stories_group_well_known_paths(tmp_path: Path) -> None:
    path = image(
        tmp_path,
        ("ADD rootfs.tar /", [F(f"etc/{n}", b"x" * 10) for n in ("passwd", "shadow", "group")]),
        (
            "useradd -m app",
            [
                *(F(f"etc/{n}", b"y" * 12) for n in ("passwd", "shadow", "group", "gshadow")),
                *(F(f"etc/{n}-", b"x" * 10) for n in ("passwd", "shadow", "group")),
                F("var/log/lastlog", b"l"),
                F("var/log/faillog", b"f"),
                D("home/app"),
            ],
        ),
        ("apt-get update", [F("var/lib/apt/lists/a_Packages", blob(27))]),
        (
            "pip install",
            [
                F("usr/lib/python3/dist-packages/flask-3.0.dist-info/METADATA", b"m"),
                F("usr/lib/python3/dist-packages/click-8.dist-info/METADATA", b"m"),
                F("usr/lib/python3/dist-packages/flask/__pycache__/a.cpython-311.pyc", b"c"),
            ],
        ),
    )
    with opened(path) as o:
        told = stories(o.analysis)
    assert "account databases" in told[1].lower() and "backups" in told[1]
    assert "login logs" in told[1] and "home directory app created" in told[1]
    assert "Apt lists created" in told[2]
    assert "2 Python packages installed" in told[3] and "bytecode compiled" in told[3]
