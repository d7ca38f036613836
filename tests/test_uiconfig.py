"""The explorer's settings: dive's .dive.yaml keys from the XDG config directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerscope.errors import ConfigError
from layerscope.filetree import Change
from layerscope.uiconfig import DEFAULT_KEYS, candidate_files, load_ui_config, textual_keys


def test_defaults_are_dives_keys_in_textual_names() -> None:
    config = load_ui_config(env={"HOME": "/nonexistent", "XDG_CONFIG_DIRS": "/nonexistent"})
    assert config.path is None
    assert config.keys["quit"] == ("ctrl+c", "q")
    assert config.keys["filter-files"] == ("ctrl+f", "ctrl+underscore", "slash")
    assert config.keys["toggle-collapse-all-dir"] == ("ctrl+@", "ctrl+space")
    assert config.keys["page-up"] == ("pageup", "u")
    assert config.show_attributes and not config.collapse_dirs and not config.aggregated
    assert set(config.keys) == set(DEFAULT_KEYS)


def test_search_order_layerscope_then_dive_places(tmp_path: Path) -> None:
    home = tmp_path / "home"
    xdg = tmp_path / "xdg"
    (home).mkdir()
    (home / ".dive.yaml").write_text("filetree: {collapse-dir: true}\n")
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(xdg), "XDG_CONFIG_DIRS": str(tmp_path / "etc")}
    assert load_ui_config(env=env).collapse_dirs
    (tmp_path / "etc" / "dive").mkdir(parents=True)
    (tmp_path / "etc" / "dive" / "site.yml").write_text("layer: {show-aggregated-changes: true}\n")
    assert load_ui_config(env=env).aggregated
    (xdg / "dive").mkdir(parents=True)
    (xdg / "dive" / "config.yaml").write_text("diff: {hide: [added, removed]}\n")
    assert load_ui_config(env=env).hidden == {Change.ADDED, Change.REMOVED}
    (xdg / "layerscope").mkdir()
    (xdg / "layerscope" / "config.yaml").write_text("filetree: {show-attributes: false}\n")
    first = load_ui_config(env=env)
    assert not first.show_attributes and first.path == xdg / "layerscope" / "config.yaml"
    assert len(candidate_files(env)) == 4


def test_dive_config_with_other_keys_is_accepted(tmp_path: Path) -> None:
    cfg = tmp_path / "dive.yaml"
    cfg.write_text(
        "log: {level: warn}\ncontainer-engine: docker\nrules: {lowest-efficiency: '0.9'}\n"
        "keybinding:\n  quit: ctrl+x, Q\n  toggle-view: ctrl+w\n  page-down: pgdn\n"
    )
    config = load_ui_config(cfg)
    assert config.keys["quit"] == ("ctrl+x", "Q")
    assert config.keys["toggle-view"] == ("ctrl+w",)
    assert config.keys["page-down"] == ("pagedown",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("keybinding: [a, b]\n", "keybinding must be a mapping"),
        ("keybinding: {fly: ctrl+f}\n", "keybinding.fly is not an action"),
        ("keybinding: {quit: 3}\n", "keybinding.quit must be keys"),
        ("diff: {hide: [sideways]}\n", "diff.hide must be a list"),
        ("filetree: {collapse-dir: maybe}\n", "collapse-dir must be true or false"),
        ("layer: {show-aggregated-changes: 1}\n", "show-aggregated-changes must be true"),
        ("keybinding: {quit: [\n", "not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_ui_config(cfg)
    assert str(cfg) in str(info.value) and "\n" not in str(info.value)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_ui_config(tmp_path / "none.yaml")


def test_key_spelling() -> None:
    assert textual_keys("esc, pgup,?") == ("escape", "pageup", "question_mark")
    assert textual_keys("ctrl+slash") == ("ctrl+underscore",)
