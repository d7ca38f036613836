"""A Dockerfile read just enough to map image layers to the instructions that made them.

The final stage's instructions are aligned with the image history from the end (the base
image's history comes first), matching BuildKit's (`RUN /bin/sh -c X # buildkit`,
`COPY a b # buildkit`) and the classic builder's (`/bin/sh -c X`, `/bin/sh -c #(nop) COPY
file:... in /dst`) forms, with or without recorded build arguments (`|2 A=1 B=2 ...`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..model import Image, readable_command


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str
    """Upper case: RUN, COPY, ADD, ENV ..."""
    text: str
    """The instruction's arguments, continuation lines joined with single spaces."""
    line: int
    """1-based line of the keyword."""
    end_line: int


def parse(text: str) -> list[list[Instruction]]:
    """The stages of a Dockerfile, each a list of instructions (FROM first)."""
    stages: list[list[Instruction]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start = i
        raw = lines[i].strip()
        i += 1
        if not raw or raw.startswith("#"):
            continue
        parts = [raw]
        while parts[-1].endswith("\\") and i < len(lines):
            parts[-1] = parts[-1][:-1]
            nxt = lines[i].strip()
            i += 1
            if nxt.startswith("#"):
                continue
            parts.append(nxt)
        joined = " ".join(p.strip() for p in parts if p.strip())
        keyword, _, rest = joined.partition(" ")
        ins = Instruction(keyword.upper(), rest.strip(), start + 1, i)
        if ins.keyword == "FROM" or not stages:
            stages.append([])
        stages[-1].append(ins)
    return stages


def load(path: Path) -> list[list[Instruction]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the Dockerfile ({exc.strerror})") from None
    stages = parse(text)
    if not stages:
        raise ConfigError(f"{path}: no instructions in the Dockerfile")
    return stages


_WS = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _history_parts(created_by: str) -> tuple[str, str]:
    text = readable_command(created_by)
    keyword, _, rest = text.partition(" ")
    return keyword.upper(), _norm(rest)


def _matches(ins: Instruction, keyword: str, rest: str) -> bool:
    if ins.keyword != keyword:
        return False
    mine = _norm(ins.text)
    if keyword == "RUN":
        return mine == rest or mine.removeprefix("--mount") != mine or mine in rest or rest in mine
    if keyword in ("COPY", "ADD"):
        return (
            mine.split(" ")[-1] == rest.rsplit(" ", maxsplit=1)[-1]
        )  # the destination, in both forms
    return True


def map_layers(image: Image, stages: list[list[Instruction]]) -> list[Instruction | None]:
    """For each layer, the final stage's instruction that made it (None where none matches)."""
    final = [ins for ins in stages[-1] if ins.keyword not in ("FROM", "ARG")]
    layer_of_history: list[int] = []
    layer = 0
    for h in image.history:
        layer_of_history.append(layer if not h.empty_layer else -1)
        layer += 0 if h.empty_layer else 1
    out: list[Instruction | None] = [None] * len(image.layers)
    j = len(final) - 1
    for hi in range(len(image.history) - 1, -1, -1):
        keyword, rest = _history_parts(image.history[hi].created_by)
        for k in range(j, -1, -1):
            if _matches(final[k], keyword, rest):
                li = layer_of_history[hi]
                if 0 <= li < len(out):
                    out[li] = final[k]
                j = k - 1
                break
    return out


def locations(image: Image, path: Path | None) -> tuple[list[str], list[Instruction | None]]:
    """`Dockerfile:LINE` per layer (empty strings without a Dockerfile), and the instructions."""
    if path is None:
        return [""] * len(image.layers), [None] * len(image.layers)
    mapped = map_layers(image, load(path))
    return [f"{path.name}:{m.line}" if m else "" for m in mapped], mapped
