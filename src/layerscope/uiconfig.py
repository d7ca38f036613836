"""The explorer's settings: dive's `.dive.yaml` keys, read from the XDG config directories.

Searched in order, the first file found wins: `$XDG_CONFIG_HOME/layerscope/*.yaml`, then dive's
own places (`$XDG_CONFIG_HOME/dive/*.yaml`, each `$XDG_CONFIG_DIRS/dive/*.yaml`,
`~/.config/dive/*.yaml`, `~/.dive.yaml`), `.yml` accepted too. Keys other than the ones below
(log, rules, container-engine ...) belong to dive's CLI and are ignored here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .filetree import Change

# dive's action names and default keys (dive.md §2.3; `q` for quit kept from v0.13.1), plus
# layerscope's own actions. Keys are written as dive writes them.
DEFAULT_KEYS: dict[str, str] = {
    "quit": "ctrl+c,q",
    "toggle-view": "tab",
    "filter-files": "ctrl+f,ctrl+slash,/",
    "close-filter-files": "esc",
    "up": "up,k",
    "down": "down,j",
    "left": "left,h",
    "right": "right,l",
    "page-up": "pgup,u",
    "page-down": "pgdn,d",
    "compare-layer": "ctrl+l",
    "compare-all": "ctrl+a",
    "toggle-collapse-dir": "space",
    "toggle-collapse-all-dir": "ctrl+space",
    "toggle-added-files": "ctrl+a,A",
    "toggle-removed-files": "ctrl+r,R",
    "toggle-modified-files": "ctrl+m,M",
    "toggle-unmodified-files": "ctrl+u,U",
    "toggle-filetree-attributes": "ctrl+b,B",
    "toggle-sort-order": "ctrl+o,s",
    "extract-file": "ctrl+e,x",
    "view-file": "v,enter",
    "file-history": "i",
    "jump-to-path": "ctrl+g,:",
    "help": "?,f1",
    "findings": "f",
}

_KEY_NAMES = {
    "pgup": "pageup",
    "pgdn": "pagedown",
    "esc": "escape",
    "ctrl+space": "ctrl+@",
    "ctrl+slash": "ctrl+underscore",
    "/": "slash",
    "?": "question_mark",
    ":": "colon",
    "enter": "enter",
}
_HIDE = {c.value: c for c in Change}


@dataclass(frozen=True, slots=True)
class UIConfig:
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Action -> Textual key names."""
    hidden: frozenset[Change] = frozenset()
    collapse_dirs: bool = False
    show_attributes: bool = True
    aggregated: bool = False
    path: Path | None = None
    """The file these settings came from, None for the defaults."""

    def key_help(self, action: str) -> str:
        """The first key of an action, as a person reads it (the footer's help)."""
        return self.keys[action][0] if self.keys.get(action) else "?"


def textual_keys(spec: str) -> tuple[str, ...]:
    """dive's `ctrl+f,ctrl+slash` -> Textual's key names."""
    out: list[str] = []
    for raw in spec.split(","):
        key = raw.strip().lower() if len(raw.strip()) > 1 else raw.strip()
        if not key:
            continue
        out.append(_KEY_NAMES.get(key, key))
        if key == "ctrl+space":
            out.append("ctrl+space")  # terminals send NUL (ctrl+@); the kitty protocol names it
    return tuple(out)


def candidate_files(env: Mapping[str, str] | None = None) -> list[Path]:
    env = os.environ if env is None else env
    home = Path(env.get("HOME", str(Path.home())))
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    dirs = [config_home / "layerscope", config_home / "dive"]
    dirs += [Path(d) / "dive" for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":") if d]
    dirs.append(home / ".config" / "dive")
    found: list[Path] = []
    for d in dirs:
        if d.is_dir():
            found += sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    found += [p for p in (home / ".dive.yaml", home / ".dive.yml") if p.is_file()]
    return found


def load_ui_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> UIConfig:
    """Settings from `path`, or from the first config file found, or the defaults."""
    if path is None:
        files = candidate_files(env)
        path = files[0] if files else None
    data: Mapping[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid YAML ({_first_line(exc)})") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the config must be a mapping of keys to values")
        data = loaded or {}
    return _parse(data, path)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _section(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key} must be a mapping")
    return value


def _flag(section: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false, not {value!r}")
    return value


def _parse(data: Mapping[str, Any], path: Path | None) -> UIConfig:
    where = str(path) if path else "config"
    keys = {action: textual_keys(spec) for action, spec in DEFAULT_KEYS.items()}
    for action, spec in _section(data, "keybinding", where).items():
        if action not in DEFAULT_KEYS:
            raise ConfigError(f"{where}: keybinding.{action} is not an action layerscope knows")
        if not isinstance(spec, str) or not textual_keys(spec):
            raise ConfigError(f"{where}: keybinding.{action} must be keys like 'ctrl+f,/'")
        keys[action] = textual_keys(spec)
    hide = _section(data, "diff", where).get("hide") or []
    if not isinstance(hide, list) or any(h not in _HIDE for h in hide):
        raise ConfigError(
            f"{where}: diff.hide must be a list of added, removed, modified, unmodified"
        )
    filetree = _section(data, "filetree", where)
    layer = _section(data, "layer", where)
    return UIConfig(
        keys=keys,
        hidden=frozenset(_HIDE[h] for h in hide),
        collapse_dirs=_flag(filetree, "collapse-dir", False, where + ": filetree"),
        show_attributes=_flag(filetree, "show-attributes", True, where + ": filetree"),
        aggregated=_flag(layer, "show-aggregated-changes", False, where + ": layer"),
        path=path,
    )
