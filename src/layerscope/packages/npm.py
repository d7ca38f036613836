"""npm: `node_modules/NAME/package.json` and `node_modules/@SCOPE/NAME/package.json`.

npm records no file list: a package owns its directory, except the `node_modules/` nested in it
(those are packages of their own). Global (`usr/lib/node_modules`, `usr/local/lib/node_modules`)
and local trees are read alike.
"""

from __future__ import annotations

import json

from .model import Ecosystem, Package

MANIFEST = "package.json"


def package_dir(path: str) -> str | None:
    """The package directory if `path` is the package.json directly inside a node_modules entry."""
    if not path.endswith("/" + MANIFEST):
        return None
    directory = path[: -len(MANIFEST) - 1]
    parts = directory.split("/")
    if len(parts) >= 2 and parts[-2] == "node_modules" and not parts[-1].startswith((".", "@")):
        return directory
    if len(parts) >= 3 and parts[-3] == "node_modules" and parts[-2].startswith("@"):
        return directory
    return None


def is_database(path: str) -> bool:
    return package_dir(path) is not None


def parse_manifest(data: bytes, path: str) -> Package | None:
    """The package a package.json describes; None if it names none (a nested helper file)."""
    try:
        doc = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        return None  # npm itself tolerates broken manifests of dependencies: so do we
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        return None
    deps = doc.get("dependencies")
    version = doc.get("version")
    return Package(
        Ecosystem.NPM,
        doc["name"],
        version if isinstance(version, str) else "",
        "",
        (),
        package_dir(path) or path,
        requires=tuple(str(k) for k in deps) if isinstance(deps, dict) else (),
        installer="npm",
    )
