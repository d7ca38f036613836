"""A Dockerfile read into instructions with their lines, and each layer mapped to the one that
made it (`--dockerfile`).

The history's `created_by` is matched against the final stage's instructions (and the stages it
is built `FROM`), from the last backwards: BuildKit's forms (`RUN |2 A=B /bin/sh -c cmd # buildkit`,
`COPY src dest # buildkit`, `ENV K=V`) and the classic builder's (`/bin/sh -c cmd`,
`/bin/sh -c #(nop) COPY dir:… in /dest`). History entries that match nothing belong to the base
image.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..model import Image, readable_command


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str
    """Upper case: RUN, COPY, FROM ..."""
    text: str
    """Everything after the keyword, continuation lines joined, flags included."""
    line: int
    """1-based line of the keyword."""
    end_line: int
    stage: int


@dataclass(frozen=True, slots=True)
class Step:
    """One layer's instruction, as a finding cites it."""

    instruction: Instruction
    location: str
    """`PATH:LINE`."""

    @property
    def text(self) -> str:
        return f"{self.instruction.keyword} {self.instruction.text}"


@dataclass(frozen=True, slots=True)
class Dockerfile:
    path: str
    lines: tuple[str, ...]
    instructions: tuple[Instruction, ...]
    stage_names: tuple[str, ...]
    """Per stage (FROM), its `AS` name or ''."""


_HEREDOC = re.compile(r"<<-?\s*[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    """The instructions of a Dockerfile, continuation lines and here-documents joined."""
    lines = text.splitlines()
    escape = "\\"
    out: list[Instruction] = []
    names: list[str] = []
    i = 0
    while i < len(lines):
        raw = lines[i].strip()
        m = re.match(r"#\s*escape\s*=\s*(\S)", raw)
        if m and not out:
            escape = m.group(1)
        if not raw or raw.startswith("#"):
            i += 1
            continue
        start, parts = i, []
        while True:
            piece = lines[i].rstrip()
            if piece.endswith(escape):
                parts.append(piece[:-1])
                i += 1
                while i < len(lines) and lines[i].strip().startswith("#"):
                    i += 1  # comment lines inside a continuation are dropped, as buildkit does
                if i < len(lines):
                    continue
            else:
                parts.append(piece)
            break
        joined = " ".join(p.strip() for p in parts if p.strip())
        heredoc = _HEREDOC.search(joined)
        if heredoc:
            end = heredoc.group(1)
            while i + 1 < len(lines) and lines[i + 1].strip() != end:
                i += 1
                joined += "\n" + lines[i]
            i += 1
        keyword, _, rest = joined.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            names.append(words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else "")
        out.append(Instruction(keyword, rest.strip(), start + 1, i + 1, max(len(names) - 1, 0)))
        i += 1
    return Dockerfile(path, tuple(lines), tuple(out), tuple(names))


def read(path: Path) -> Dockerfile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read Dockerfile ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: Dockerfile is not UTF-8 text") from None
    parsed = parse(text, str(path))
    if not any(i.keyword == "FROM" for i in parsed.instructions):
        raise ConfigError(f"{path}: not a Dockerfile (no FROM instruction)")
    return parsed


def flags(text: str) -> tuple[dict[str, str], str]:
    """Leading `--name=value` flags of an instruction's text, and the rest."""
    found: dict[str, str] = {}
    rest = text
    while rest.startswith("--"):
        word, _, rest = rest.partition(" ")
        name, _, value = word[2:].partition("=")
        found[name] = value
        rest = rest.lstrip()
    return found, rest


def _stage_chain(df: Dockerfile) -> list[Instruction]:
    """The final stage's instructions, after those of the stages it is built FROM."""
    by_stage: dict[int, list[Instruction]] = {}
    for ins in df.instructions:
        by_stage.setdefault(ins.stage, []).append(ins)
    stage = len(df.stage_names) - 1
    chain: list[Instruction] = []
    seen: set[int] = set()
    while stage >= 0 and stage not in seen:
        seen.add(stage)
        body = by_stage.get(stage, [])
        chain[:0] = [i for i in body if i.keyword != "FROM"]
        base = next((i.text.split()[0].lower() for i in body if i.keyword == "FROM"), "")
        base = flags(base)[1] if base.startswith("--") else base
        stage = df.stage_names.index(base) if base and base in df.stage_names else -1
    return chain


_CLASSIC = re.compile(r"^/bin/sh -c #\(nop\)\s+(\w+)\s*(.*)$", re.S)


def history_form(created_by: str) -> tuple[str, str]:
    """(keyword, text) of a history entry, whichever builder wrote it."""
    text = created_by.strip()
    m = _CLASSIC.match(text)
    if m:
        return m.group(1).upper(), m.group(2).strip()
    readable = readable_command(text)
    keyword, _, rest = readable.partition(" ")
    if keyword.isupper() and keyword.isalpha():
        return keyword, rest.strip()
    return "RUN", readable


def _norm(text: str) -> str:
    return " ".join(text.split())


def _matches(ins: Instruction, keyword: str, text: str) -> bool:
    if ins.keyword != keyword:
        return False
    if keyword == "RUN":
        mine = _norm(flags(ins.text)[1])
        theirs = _norm(text)
        return mine == theirs or mine in theirs or theirs in mine
    if keyword in ("COPY", "ADD"):
        try:
            dest = shlex.split(flags(ins.text)[1])[-1]
        except (ValueError, IndexError):
            return True
        return _norm(text).split(" ")[-1].rstrip("/") == dest.rstrip("/")
    return True


@dataclass(frozen=True, slots=True)
class DockerfileMap:
    dockerfile: Dockerfile
    by_layer: tuple[Instruction | None, ...]

    def step(self, layer: int) -> Step | None:
        ins = self.by_layer[layer] if 0 <= layer < len(self.by_layer) else None
        if ins is None:
            return None
        return Step(ins, f"{self.dockerfile.path}:{ins.line}")

    def layer_of(self, ins: Instruction) -> int | None:
        for i, mapped in enumerate(self.by_layer):
            if mapped is ins:
                return i
        return None


def map_layers(df: Dockerfile, image: Image) -> DockerfileMap:
    """Each layer's instruction (None for base-image layers and those nothing matches)."""
    chain = _stage_chain(df)
    layer_of_history: list[int | None] = []
    n = 0
    for h in image.history:
        layer_of_history.append(None if h.empty_layer else n)
        n += 0 if h.empty_layer else 1
    by_layer: list[Instruction | None] = [None] * len(image.layers)
    pointer = len(chain)
    for h, layer in zip(reversed(image.history), reversed(layer_of_history), strict=True):
        keyword, text = history_form(h.created_by)
        for j in range(pointer - 1, -1, -1):
            if _matches(chain[j], keyword, text):
                pointer = j
                if layer is not None and layer < len(by_layer):
                    by_layer[layer] = chain[j]
                break
    return DockerfileMap(df, tuple(by_layer))
