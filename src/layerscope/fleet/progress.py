"""The live progress line on stderr (only on a terminal): images, layers, bytes, errors."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TextIO

from ..units import human_bytes


@dataclass
class Counts:
    images_total: int = 0
    images_done: int = 0
    layers_total: int = 0
    layers_done: int = 0
    bytes_read: int = 0
    errors: int = 0


class Bar:
    def __init__(self, stream: TextIO, enabled: bool, every: float = 0.2) -> None:
        self.stream, self.enabled, self.every = stream, enabled, every
        self.counts = Counts()
        self._last = 0.0

    def line(self) -> str:
        c = self.counts
        width = 24
        filled = width * c.images_done // c.images_total if c.images_total else 0
        return (
            f"[{'#' * filled}{'.' * (width - filled)}] images {c.images_done}/{c.images_total}"
            f"  layers {c.layers_done}/{c.layers_total}  {human_bytes(c.bytes_read)} read"
            f"  errors {c.errors}"
        )

    def show(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < self.every):
            return
        self._last = now
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.show(force=True)
            self.stream.write("\n")
            self.stream.flush()
