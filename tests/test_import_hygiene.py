"""The core stays headless at run time too, and no module slips past the import contracts."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT

SRC = ROOT / "src" / "layerscope"


def _modules() -> list[str]:
    names = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


ENTRY = {"layerscope.cli", "layerscope.__main__"}
CORE = [m for m in _modules() if m not in ENTRY and not m.startswith("layerscope.ui")]


@pytest.mark.parametrize("module", CORE)
def test_core_module_never_loads_textual(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        # rich is allowed: httpx's package import pulls it in for the live sources.
        "bad = [m for m in ('textual',) if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"{module} loads {out}"


def test_ci_path_of_the_cli_never_loads_textual(tmp_path: Path) -> None:
    sample = ROOT / "tests" / "data"  # any path: the CI path fails before the UI is needed
    code = (
        "import sys\n"
        "from layerscope import cli\n"
        f"cli.main([{str(sample / 'missing.tar')!r}, '--ci'])\n"
        "print(','.join(m for m in ('textual',) if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def _contract_names() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    named: set[str] = set()
    for contract in config["contracts"]:
        for key in ("source_modules", "forbidden_modules", "layers", "modules", "containers"):
            for item in contract.get(key, []):
                named.update(part.strip() for part in item.split("|"))
    return named


def test_every_module_is_named_by_an_import_contract() -> None:
    named = _contract_names()
    missing = []
    for module in _modules():
        if module == "layerscope" or module in ENTRY:
            continue
        # A module is covered when it, or a package above it, is named by a contract.
        parts = module.split(".")
        if not any(".".join(parts[:n]) in named for n in range(2, len(parts) + 1)):
            missing.append(module)
    assert missing == [], f"add these to an import-linter contract in pyproject.toml: {missing}"
