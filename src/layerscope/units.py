"""Byte sizes as dive prints and parses them (go-humanize, SI units)."""

from __future__ import annotations

import math
import re

_SI = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "ki": 2**10,
    "kib": 2**10,
    "m": 10**6,
    "mb": 10**6,
    "mi": 2**20,
    "mib": 2**20,
    "g": 10**9,
    "gb": 10**9,
    "gi": 2**30,
    "gib": 2**30,
    "t": 10**12,
    "tb": 10**12,
    "ti": 2**40,
    "tib": 2**40,
    "p": 10**15,
    "pb": 10**15,
    "pi": 2**50,
    "pib": 2**50,
    "e": 10**18,
    "eb": 10**18,
    "ei": 2**60,
    "eib": 2**60,
}
_PATTERN = re.compile(r"^\s*([0-9][0-9.,]*)\s*([a-zA-Z]*)\s*$")


def human_bytes(size: int) -> str:
    """humanize.Bytes: `32 kB`, `6.4 kB`, `207 B` (SI, one decimal below 10)."""
    if size < 10:
        return f"{size} B"
    exp = math.floor(math.log(size) / math.log(1000))
    exp = min(exp, len(_SI) - 1)
    val = math.floor(size / 1000**exp * 10 + 0.5) / 10
    return f"{val:.1f} {_SI[exp]}" if val < 10 else f"{val:.0f} {_SI[exp]}"


def parse_bytes(text: str) -> int:
    """humanize.ParseBytes: `20MB` = `20mb` = 20,000,000; `1MiB` = 1,048,576; `500` bytes."""
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size")
    number, unit = match.group(1).replace(",", ""), match.group(2).lower()
    if unit not in _UNITS:
        raise ValueError(f"{text!r} has an unknown unit {match.group(2)!r}")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"{text!r} is not a size") from None
    return int(value * _UNITS[unit])
