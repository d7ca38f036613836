"""The HTML report as a file: what it embeds, what it leaves out, how the tree is folded."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from layerscope.export import to_document
from layerscope.html.report import image_report, write_html
from layerscope.html.tree import FANOUT, image_tree

from helpers import analysed
from imagebuilder import D, F, ImageDef, Layer, write_docker_archive


def _data(page: str) -> dict[str, object]:
    raw = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', page, re.S)
    assert raw is not None
    return dict(json.loads(raw.group(1)))


def test_page_embeds_the_json_document_without_build_argument_values(tmp_path: Path) -> None:
    layers = [
        Layer(
            [D("srv"), F("srv/x<!--<script>y.txt", b"x" * 10)],
            "RUN |1 TOKEN=s3cr3t-value /bin/sh -c make",
        ),
    ]
    analysis = analysed(write_docker_archive(ImageDef(layers), tmp_path / "i.tar"))
    doc = to_document(analysis)
    page = image_report(doc, image_tree(analysis))
    assert "s3cr3t-value" not in page
    data = _data(page)
    embedded = data["doc"]
    assert isinstance(embedded, dict)
    assert embedded["image"] == doc["image"] and embedded["layerscope"] == doc["layerscope"]
    assert embedded["layer"][0]["command"] == "RUN make"
    assert "fileList" not in embedded["layer"][0]
    # A path that looks like markup cannot end the data element early.
    assert "x<!--<script>y" not in page and data["tree"][5][0][5][0][0] == "x<!--<script>y.txt"
    write_html(page, str(tmp_path / "r.html"))
    assert (tmp_path / "r.html").read_text() == page


def test_tree_folds_wide_directories_and_sums_every_byte(tmp_path: Path) -> None:
    files = [F(f"data/f{i:04d}", b"z" * (i + 1)) for i in range(FANOUT * 3)]
    analysis = analysed(write_docker_archive(ImageDef([Layer(files)]), tmp_path / "w.tar"))
    root = image_tree(analysis)
    data = root[5][0]
    assert data[0] == "data" and len(data[5]) == FANOUT
    more = data[5][-1]
    assert more[0] == f"… {FANOUT * 2 + 1:,} more" and more[5] is None
    assert root[1] == data[1] == sum(i + 1 for i in range(FANOUT * 3))
    assert data[5][0][0] == f"f{FANOUT * 3 - 1:04d}"  # largest first


def test_diff_page_embeds_exactly_the_diff_json(tmp_path: Path) -> None:
    base = Layer([D("etc"), F("etc/a", b"a" * 100)])
    a = write_docker_archive(ImageDef([base]), tmp_path / "a.tar")
    b = write_docker_archive(ImageDef([base, Layer([F("etc/b", b"b" * 50)])]), tmp_path / "b.tar")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    cmd = [sys.executable, "-m", "layerscope", "diff", str(a), str(b)]
    cmd += ["--json", str(tmp_path / "d.json"), "--html", str(tmp_path / "d.html")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    data = _data((tmp_path / "d.html").read_text())
    assert data["kind"] == "diff"
    assert data["doc"] == json.loads((tmp_path / "d.json").read_text())
    etc = next(k for k in data["tree"][5] if k[0] == "etc")  # type: ignore[index]
    assert {k[0]: k[2] for k in etc[5]} == {"a": 0, "b": 2}  # unchanged, added
