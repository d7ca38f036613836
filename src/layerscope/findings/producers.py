"""The producers a run uses, in order: the first to claim a byte keeps it (see `engine`).

A new family of rules (security, package policies) adds its producer here, in one line.
"""

from __future__ import annotations

from .engine import Producer


def default_producers() -> tuple[Producer, ...]:
    from .security import SecurityProducer  # noqa: PLC0415
    from .waste.producer import WasteProducer  # noqa: PLC0415  (imported only when used)

    return (WasteProducer(), SecurityProducer())
