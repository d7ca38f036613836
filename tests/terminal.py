"""A program in a real terminal: a tmux session on a private socket, driven by keys and read back.

Used by the explorer's end-to-end tests and by bench/tui.py.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class Terminal:
    def __init__(self, socket: Path, name: str) -> None:
        self.socket = socket
        self.name = name

    @classmethod
    def start(cls, socket: Path, name: str, shell: str, size: tuple[int, int]) -> Terminal:
        """Run `shell` in a new session of `size` columns x rows, without CI or TMUX set."""
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR", "TMUX")}
        env["TERM"] = "xterm-256color"
        subprocess.run(
            ["tmux", "-S", str(socket), "-f", "/dev/null", "new-session", "-d", "-s", name,
             "-x", str(size[0]), "-y", str(size[1]), shell],
            check=True, env=env, timeout=30,
        )  # fmt: skip
        return cls(socket, name)

    def tmux(self, *args: str) -> str:
        proc = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return proc.stdout

    def screen(self, join: bool = False) -> str:
        """What the terminal shows; `join` undoes the wrapping of long lines."""
        return self.tmux("capture-pane", "-p", *(["-J"] if join else []), "-t", self.name)

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", self.name, key)
            # A key right after Escape would arrive as alt+key, as it does for a fast typist.
            time.sleep(0.3 if key == "Escape" else 0.05)

    def burst(self, *keys: str) -> None:
        """Keys in one write, as a fast typist or a paste sends them."""
        self.tmux("send-keys", "-t", self.name, *keys)

    def text(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.name, "-l", text)

    def poll(
        self, check: Callable[[str], bool], timeout: float, every: float = 0.1
    ) -> float | None:
        """Seconds until the screen satisfies `check`, or None after `timeout`."""
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if check(self.screen()):
                return time.perf_counter() - start
            time.sleep(every)
        return None

    def wait(self, check: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        if self.poll(check, timeout) is None:
            raise AssertionError(f"timed out waiting for {what}; the screen was:\n{self.screen()}")
        return self.screen()

    def stop(self) -> None:
        subprocess.run(
            ["tmux", "-S", str(self.socket), "kill-server"], check=False, capture_output=True
        )
