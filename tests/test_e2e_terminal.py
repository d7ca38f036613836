"""End to end in a real terminal: layerscope runs in tmux on a real image and is driven by keys.

tmux gives the program a real pseudo-terminal, so this is what a user sees: the loading screen,
the explorer, the keys as the terminal sends them (ctrl+u, tab, enter), and the exit code.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import layerscope
from layerscope.errors import ExitCode
from terminal import Terminal

from conftest import REAL, require
from imagebuilder import F, ImageDef, Layer, write_docker_archive

IMAGE = REAL / "busybox-buildah.docker-archive.tar"
LAYERSCOPE = Path(sys.executable).with_name("layerscope")


Start = Callable[..., tuple[Terminal, Path]]


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Start]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (make test installs it through .ci/run)")
    socket = tmp_path / "tmux.sock"
    started: list[Terminal] = []

    def start(
        args: list[str], size: tuple[int, int] = (150, 45), program: str = str(LAYERSCOPE)
    ) -> tuple[Terminal, Path]:
        exit_file = tmp_path / f"exit-{len(started)}"
        command = " ".join([program, *args])
        # Textual draws on stderr, so stderr stays on the terminal; errors are read off it.
        shell = f"clear; {command}; echo $? > {exit_file}; sleep 60"
        term = Terminal.start(socket, f"e2e{len(started)}", shell, size)
        started.append(term)
        return term, exit_file

    yield start
    Terminal(socket, "").stop()


def exit_code(path: Path, timeout: float = 20) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.1)
    raise AssertionError("layerscope did not exit")


def test_explore_a_real_image_with_keys(
    terminal: Start,
) -> None:
    term, exit_file = terminal([str(require(IMAGE))])
    term.wait(lambda s: "Current layer contents" in s and "busybox" in s, "the explorer")
    term.keys("Down", "Down", "Down", "Down")  # layer 4: echo v2 >> config.txt; sed hello
    # The details and the tree header are two renders: wait for both (a loaded machine shows
    # the frame between them).
    term.wait(lambda s: "Layer 4" in s and "modified 2" in s, "layer 4's details and changes")
    term.burst("Tab", "C-u")  # to the file tree and hide unmodified files, typed fast
    screen = term.wait(lambda s: "hello.txt" in s and "── bin/" not in s, "layer 4's changes only")
    assert "config.txt" in screen and "app:x:1000" in screen  # a command is not markup
    term.burst("/", "h", "e", "l", "l", "o")  # no key may reach the tree (h would collapse)
    screen = term.wait(lambda s: "1 match" in s, "the filter count")
    assert "── hello.txt" in screen and "── config.txt" not in screen
    term.keys("Enter", "C-g")
    term.wait(lambda s: "Go to path" in s, "the jump prompt")
    term.keys("C-u")  # clear the prompt's "/"
    term.text("/data/keep/hello.txt")
    # As a person does: enter once the path is seen in the prompt.
    term.wait(lambda s: "/data/keep/hello.txt" in s and "Go to path" in s, "the typed path")
    term.keys("Enter")
    term.wait(lambda s: "modified  /data/keep/hello.txt" in s, "the cursor on hello.txt")
    term.keys("v")
    screen = term.wait(lambda s: "at layer 4" in s and "HELLO" in s, "the file's content")
    term.keys("Escape", "i")
    screen = term.wait(lambda s: "History of" in s, "the file's history")
    assert "sed -i" in screen
    term.keys("Escape", "q")
    assert exit_code(exit_file) == 0


def test_missing_image_is_one_line_and_exit_2(terminal: Start, tmp_path: Path) -> None:
    term, exit_file = terminal([str(tmp_path / "nope.tar")])
    assert exit_code(exit_file) == 2
    lines = [line for line in term.screen(join=True).splitlines() if line.strip()]
    assert lines == [f"layerscope: error: {tmp_path / 'nope.tar'}: no such file or directory"]


def test_corrupt_layer_found_while_loading_ends_with_exit_2(
    terminal: Start, tmp_path: Path
) -> None:
    img = write_docker_archive(ImageDef([Layer([F("a", b"abcdef" * 100)])]), tmp_path / "i.tar")
    data = bytearray(img.read_bytes())
    data[data.index(b"abcdef")] = ord("X")
    img.write_bytes(bytes(data))
    term, exit_file = terminal([str(img)])
    assert exit_code(exit_file) == 2
    lines = [line for line in term.screen(join=True).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("layerscope: error: ") and "diff_id" in lines[0]


def test_bad_config_is_one_line_and_exit_2(terminal: Start, tmp_path: Path) -> None:
    cfg = tmp_path / "dive.yaml"
    cfg.write_text("diff: {hide: [sideways]}\n")
    term, exit_file = terminal(["--config", str(cfg), str(require(IMAGE))])
    assert exit_code(exit_file) == 2
    lines = [line for line in term.screen(join=True).splitlines() if line.strip()]
    assert lines == [
        f"layerscope: error: {cfg}: diff.hide must be a list of added, removed, modified, "
        "unmodified"
    ]


def test_a_crash_restores_the_terminal_and_exits_3_with_a_crash_log(
    terminal: Start, tmp_path: Path
) -> None:
    """A real failure: an install that lost the explorer's stylesheet (package data)."""
    broken = tmp_path / "site"
    shutil.copytree(Path(layerscope.__file__).parent, broken / "layerscope")
    (broken / "layerscope" / "ui" / "explorer.tcss").unlink()
    cache = tmp_path / "cache"
    program = f"env PYTHONPATH={broken} XDG_CACHE_HOME={cache} {sys.executable} -m layerscope"
    term, exit_file = terminal([str(require(IMAGE))], program=program)
    assert exit_code(exit_file) == ExitCode.INTERNAL
    lines = [line for line in term.screen(join=True).splitlines() if line.strip()]
    assert len(lines) == 1, lines  # no full-screen traceback, the screen is the shell's again
    assert lines[0].startswith("layerscope: internal error: StylesheetError: ")
    (log,) = (cache / "layerscope").glob("crash-*.log")
    assert f"traceback in {log})" in lines[0]
    assert "Traceback" in log.read_text() and "explorer.tcss" in log.read_text()


def test_80x24_names_first_and_every_pane_there(terminal: Start) -> None:
    """The default terminal size, looked at as a person would: names, not only attributes."""
    term, exit_file = terminal([str(require(IMAGE))], size=(80, 24))
    screen = term.wait(lambda s: "Current layer contents" in s and "A 272" in s, "the explorer")
    assert "Layers" in screen and "Layer details" in screen and "Image details" in screen
    assert "├── bin/" in screen and "busybox" in screen  # names, beside the sizes
    assert "A 272 R 0 M 0 U 0" in screen  # the change kinds, by the letters of their keys
    term.keys("Down", "Down", "Down", "Down")
    term.wait(lambda s: "Layer 4" in s, "layer 4")
    term.keys("Tab")
    term.keys("C-u")  # hide unmodified: the directories' sizes are of what is shown
    screen = term.wait(lambda s: "hello.txt" in s, "layer 4's changes")
    assert " of " in screen
    term.keys("End")
    # under the tree: the cursor's change kind first, then its whole path
    term.wait(lambda s: "│ modified  /data/keep/hello.txt" in s, "the status line")
    term.keys("q")
    assert exit_code(exit_file) == 0
