"""One HTML file, no network: the JSON document and the tree inlined, with the page's own script
and styles. The page draws everything from the document `--json` writes, so they cannot disagree.
"""

from __future__ import annotations

import json
import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..model import readable_command
from .tree import Node


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _slim(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without dive's per-layer file lists (the tree carries those paths once),
    and with commands as people read them: BuildKit's `RUN |N A=B ...` build-argument values,
    often tokens, are left out of a page meant to be shared."""
    if "layer" not in doc:
        return doc
    layers = [
        {
            k: readable_command(v) if k == "command" else v
            for k, v in layer.items()
            if k != "fileList"
        }
        for layer in doc["layer"]
    ]
    return {**doc, "layer": layers}


def _page(kind: str, doc: dict[str, Any], tree: Node, title: str) -> str:
    data = json.dumps(
        {"kind": kind, "doc": _slim(doc), "tree": tree},
        ensure_ascii=False,
        allow_nan=False,
        separators=(",", ":"),
    )
    # Inside <script>, "</" would end the element and "<!--" would start a comment.
    data = data.replace("<", "\\u003c")
    page = _asset("report.html")
    for key, value in (
        ("/*STYLE*/", _asset("report.css")),
        ("/*SCRIPT*/", _asset("report.js")),
        ("__TITLE__", _escape(title)),
    ):
        page = page.replace(key, value)
    return page.replace("__DATA__", data)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def image_report(doc: dict[str, Any], tree: Node) -> str:
    """The report of one image: `doc` is what `--json` writes, `tree` is `tree.image_tree`."""
    return _page("image", doc, tree, f"layerscope: {doc['image']['name']}")


def diff_report(doc: dict[str, Any], tree: Node) -> str:
    """The report of a comparison: `doc` is what `diff --json` writes, `tree` `tree.diff_tree`."""
    body = doc["layerscope"]["diff"]
    return _page("diff", doc, tree, f"layerscope diff: {body['a']['name']} → {body['b']['name']}")


def write_html(page: str, target: str) -> None:
    """Write to a temporary file beside `target` and rename: never a half-written report."""
    path = Path(os.path.realpath(target))
    if not path.parent.is_dir():
        raise OutputError(f"{target}: directory {path.parent} does not exist")
    if path.exists() and not path.is_file():
        raise OutputError(f"{target}: not a regular file")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(page)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{target}: cannot write ({exc.strerror})") from None
