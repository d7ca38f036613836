"""Each waste rule on a small image built here: one that fires and one that must not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerscope.findings.model import PathState, Severity

from advisor_helpers import MB, advice_of, big, build, copy, of_rule, run
from imagebuilder import D, F, W

BASE = run("true", D("etc"), F("etc/os-release", b"ID=test\n"))


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ("LS-W001", "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_Packages"),
        ("LS-W002", "var/cache/apt/archives/python3_3.11_amd64.deb"),
        ("LS-W003", "root/.cache/pip/http-v2/a/b/c"),
        ("LS-W003", "home/app/.cache/pip/wheels/x.whl"),
        ("LS-W004", "root/.npm/_cacache/content-v2/sha512/ab/cd"),
        ("LS-W005", "usr/local/share/.cache/yarn/v6/npm-react.tgz"),
        ("LS-W006", "root/.local/share/pnpm/store/v3/files/00/abc"),
        ("LS-W007", "var/cache/apk/APKINDEX.tar.gz"),
        ("LS-W008", "var/cache/dnf/fedora-abc/repodata/primary.xml.zst"),
        ("LS-W009", "root/.cache/go-build/ab/abcdef-d"),
        ("LS-W009", "go/pkg/mod/github.com/x/y@v1.0.0/z.go"),
        ("LS-W010", "root/.m2/repository/org/x/x-1.0.jar"),
        ("LS-W010", "home/gradle/.gradle/caches/modules-2/files-2.1/x.jar"),
    ],
)
def test_caches_fire_for_any_user_and_count_shipped_bytes(
    tmp_path: Path, rule: str, path: str
) -> None:
    img = build(tmp_path, BASE, run("install things", big(path, 3 * MB)))
    found = of_rule(advice_of(img), rule)
    assert len(found) == 1
    f = found[0]
    assert f.layers == (1,) and f.level is Severity.MEDIUM
    assert f.recoverable_bytes == 3 * MB and f.shipped_bytes == 3 * MB and f.hidden_bytes == 0
    assert f.paths[0].path == "/" + path and f.paths[0].state is PathState.PRESENT


def test_caches_do_not_fire_on_look_alikes(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        BASE,
        run(
            "install",
            big("usr/lib/python3/dist-packages/pip/_internal/cache.py"),
            big("srv/app/.npmrc"),
            big("var/lib/apt/extended_states"),
            big("usr/share/yarn/lib/cli.js"),
            big("usr/local/go/bin/gofmt"),
        ),
    )
    cache_rules = {f"LS-W{n:03d}" for n in range(1, 11)}
    assert not [f for f in advice_of(img).findings if f.rule.id in cache_rules]


def test_apt_lists_deleted_later_count_as_much_and_once(tmp_path: Path) -> None:
    lists = "var/lib/apt/lists/x_Packages"
    img = build(
        tmp_path,
        BASE,
        run("apt-get update && apt-get install -y curl", big(lists, 5 * MB), big("usr/bin/curl")),
        run("rm -rf /var/lib/apt/lists/*", W(lists)),
    )
    advice = advice_of(img)
    (f,) = of_rule(advice, "LS-W001")
    assert f.recoverable_bytes == 5 * MB and f.hidden_bytes == 5 * MB and f.shipped_bytes == 0
    assert not of_rule(advice, "LS-W011")  # the same bytes are not counted again
    assert not advice.findings.check_disjoint()


def test_small_findings_are_informational(tmp_path: Path) -> None:
    img = build(tmp_path, BASE, run("apt-get update", big("var/lib/apt/lists/x", 1000)))
    (f,) = of_rule(advice_of(img), "LS-W001")
    assert f.level is Severity.INFO and f.rule.severity is Severity.MEDIUM


def test_created_then_deleted(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        BASE,
        run("make", big("tmp/build/out.o", 4 * MB), big("usr/bin/app")),
        run("rm -rf /tmp/build", W("tmp/build")),
    )
    (f,) = of_rule(advice_of(img), "LS-W011")
    assert f.layers == (1, 2) and f.cited == 1
    assert f.recoverable_bytes == 4 * MB and f.hidden_bytes == 4 * MB
    assert "created in layer 1 and deleted in layer 2" in f.title


def test_packages_purged_later_free_nothing(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        BASE,
        run("apt-get install -y gcc", big("usr/bin/gcc-12", 3 * MB)),
        run("apt-get purge -y --auto-remove gcc", W("usr/bin/gcc-12")),
    )
    (f,) = of_rule(advice_of(img), "LS-W011")
    assert "removed in layer 2 free nothing" in f.title and f.recoverable_bytes == 3 * MB


def test_nothing_deleted_nothing_found(tmp_path: Path) -> None:
    img = build(tmp_path, BASE, run("make", big("usr/bin/app", 4 * MB)))
    advice = advice_of(img)
    assert not of_rule(advice, "LS-W011") and not of_rule(advice, "LS-W012")


def test_overwritten_with_new_content(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        BASE,
        run("write", big("opt/data.bin", 2 * MB, seed="one")),
        run("write again", big("opt/data.bin", 2 * MB, seed="two")),
    )
    (f,) = of_rule(advice_of(img), "LS-W012")
    assert f.recoverable_bytes == 2 * MB and f.level is Severity.LOW and f.layers == (1, 2)


def test_rewritten_databases_are_informational(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        BASE,
        run("apt-get install a", big("var/lib/dpkg/status", 2 * MB, seed="a")),
        run("apt-get install b", big("var/lib/dpkg/status", 2 * MB, seed="b")),
    )
    (f,) = of_rule(advice_of(img), "LS-W012")
    assert f.level is Severity.INFO


def test_chown_rewrite_cites_the_chown_layer(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        BASE,
        copy("app/ /srv/app/", big("srv/app/model.bin", 2 * MB)),
        run("chown -R app:app /srv/app", big("srv/app/model.bin", 2 * MB, uid=1000, gid=1000)),
    )
    advice = advice_of(img)
    (f,) = of_rule(advice, "LS-W013")
    assert f.cited == 2 and f.layers == (1, 2) and f.recoverable_bytes == 2 * MB
    assert not of_rule(advice, "LS-W012")


def test_changed_content_is_not_a_metadata_rewrite(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        BASE,
        copy("app/ /srv/app/", big("srv/app/model.bin", 2 * MB, seed="a")),
        run("regen", big("srv/app/model.bin", 2 * MB, seed="b", uid=1000)),
    )
    assert not of_rule(advice_of(img), "LS-W013")


def _node_app(dev: dict[str, str]) -> list[F]:
    manifest = {"name": "app", "dependencies": {"express": "4"}, "devDependencies": dev}
    return [
        F("app/package.json", json.dumps(manifest).encode()),
        big("app/node_modules/express/index.js"),
        big("app/node_modules/jest/build/index.js", 3 * MB),
        F("app/node_modules/jest/package.json", b'{"name":"jest"}'),
    ]


def test_dev_dependencies_in_the_final_image(tmp_path: Path) -> None:
    img = build(tmp_path, BASE, run("npm ci", *_node_app({"jest": "29"})))
    (f,) = of_rule(advice_of(img), "LS-W014")
    assert f.recoverable_bytes == 3 * MB + len(b'{"name":"jest"}')
    assert all("/jest/" in p.path for p in f.paths)
    assert dict(f.evidence)["devDependencies"] == "jest"


def test_no_dev_dependencies_declared(tmp_path: Path) -> None:
    img = build(tmp_path, BASE, run("npm ci", *_node_app({})))
    assert not of_rule(advice_of(img), "LS-W014")


def test_toolchain_in_the_final_image(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        BASE,
        run("apt-get install gcc libssl-dev", big("usr/bin/gcc-12"), big("usr/include/ssl.h")),
    )
    (f,) = of_rule(advice_of(img), "LS-W015")
    assert {p.path for p in f.paths} == {"/usr/bin/gcc-12", "/usr/include/ssl.h"}


def test_no_toolchain(tmp_path: Path) -> None:
    img = build(tmp_path, BASE, run("install", big("usr/bin/python3.11"), big("usr/lib/x.so")))
    assert not of_rule(advice_of(img), "LS-W015")


def test_what_copy_dot_drags_in(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        BASE,
        copy(
            ". .",
            big("app/.git/objects/pack/pack-1.pack", 2 * MB),
            big("app/src/__pycache__/m.cpython-311.pyc"),
            F("app/.DS_Store", b"x" * 100),
            big("app/src/m.py"),
        ),
    )
    (f,) = of_rule(advice_of(img), "LS-W016")
    ignore = dict(f.evidence)["dockerignore"].splitlines()
    assert ignore == [".git", "**/__pycache__", "**/.DS_Store"]
    assert f.recoverable_bytes == 4 * MB + 100 and ".dockerignore" in f.fix


def test_the_same_paths_written_by_a_run_are_not_context(tmp_path: Path) -> None:
    img = build(tmp_path, BASE, run("pip install x", big("usr/lib/py/__pycache__/a.pyc")))
    assert not of_rule(advice_of(img), "LS-W016")


def test_duplicate_content(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        BASE,
        run("install", big("opt/venv/lib/numpy.so", 4 * MB, seed="same")),
        copy("venv /app/venv", big("app/venv/lib/numpy.so", 4 * MB, seed="same")),
    )
    (f,) = of_rule(advice_of(img), "LS-W017")
    assert f.layers == (2,) and f.recoverable_bytes == 4 * MB
    assert f.paths[0].content_hash != 0 and "/opt/venv/lib/numpy.so" in f.detail


def test_distinct_content_is_not_duplicate(tmp_path: Path) -> None:
    img = build(tmp_path, BASE, run("install", big("opt/a.so"), big("opt/b.so")))
    assert not of_rule(advice_of(img), "LS-W017")


def test_docs_and_tool_logs(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        BASE,
        run(
            "apt-get install x",
            big("usr/share/doc/x/changelog.gz", 3 * MB),
            big("usr/share/man/man1/x.1.gz"),
            big("var/log/apt/term.log", 2 * MB),
            big("usr/bin/x"),
        ),
    )
    advice = advice_of(img)
    (docs,) = of_rule(advice, "LS-W018")
    (logs,) = of_rule(advice, "LS-W019")
    assert docs.level is Severity.INFO and docs.recoverable_bytes == 5 * MB
    assert logs.level is Severity.LOW and logs.recoverable_bytes == 2 * MB


def test_a_clean_image_has_no_finding_above_info(tmp_path: Path) -> None:
    img = build(tmp_path, BASE, run("install", big("usr/bin/app")), copy("a /srv/a", big("srv/a")))
    assert not advice_of(img).findings.at_least(Severity.LOW)


def test_pip_install_without_no_cache_dir_is_read_from_the_history(tmp_path: Path) -> None:
    """pip stored no cache (it skips one it cannot write): the history still shows the habit."""
    img = build(tmp_path, BASE, run('pip install "flask==3.0.3"', big("usr/lib/flask.py")))
    (f,) = of_rule(advice_of(img), "LS-W003")
    assert f.level is Severity.INFO and f.recoverable_bytes == 0 and f.layers == (1,)
    assert "--no-cache-dir" in f.fix and "pip install" in f.instruction


@pytest.mark.parametrize(
    "command",
    ['pip install --no-cache-dir "flask"', "python3 -m venv /v", "apt-get install -y python3-pip"],
)
def test_pip_history_stays_quiet(tmp_path: Path, command: str) -> None:
    img = build(tmp_path, BASE, run(command, big("usr/lib/flask.py")))
    assert not of_rule(advice_of(img), "LS-W003")


def test_pip_history_stays_quiet_with_the_environment_switch(tmp_path: Path) -> None:
    from imagebuilder import ImageDef, write_docker_archive

    steps = [BASE, run("pip install flask", big("usr/lib/flask.py"))]
    env = {"config": {"Env": ["PATH=/usr/bin", "PIP_NO_CACHE_DIR=1"]}}
    img = write_docker_archive(ImageDef(list(steps), extra_config=env), tmp_path / "e.tar")
    assert not of_rule(advice_of(img), "LS-W003")


def test_a_cache_that_was_stored_is_not_also_reported_from_the_history(tmp_path: Path) -> None:
    img = build(tmp_path, BASE, run("pip install flask", big("root/.cache/pip/http/a", 3 * MB)))
    (f,) = of_rule(advice_of(img), "LS-W003")
    assert f.recoverable_bytes == 3 * MB


def test_what_is_left_after_an_earlier_rule_claimed_the_bulk_is_judged_by_its_own_size(
    tmp_path: Path,
) -> None:
    """The overwrite of layer 1 by layer 2 is mostly an apt cache (the cache rule owns those
    bytes); the 200 kB left to the overwrite rule make an informational finding."""
    img = build(
        tmp_path,
        BASE,
        run(
            "apt-get install a",
            big("var/cache/apt/pkgcache.bin", 3 * MB, seed="1"),
            big("usr/lib/x.so", 200_000, seed="1"),
        ),
        run(
            "apt-get install b",
            big("var/cache/apt/pkgcache.bin", 3 * MB, seed="2"),
            big("usr/lib/x.so", 200_000, seed="2"),
        ),
    )
    advice = advice_of(img)
    (over,) = [f for f in of_rule(advice, "LS-W012") if f.layers[0] == 1]
    assert over.recoverable_bytes == 200_000 and over.level is Severity.INFO
    assert sum(f.recoverable_bytes for f in of_rule(advice, "LS-W002")) == 6 * MB
