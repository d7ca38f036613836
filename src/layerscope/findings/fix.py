"""`--fix`: a unified diff of the Dockerfile changes that recover the findings' bytes."""

from __future__ import annotations

import difflib

from ..analysis import Analysis
from .advice import Advice
from .dockerfile import Dockerfile, DockerfileMap


def fix_diff(
    dockerfile: Dockerfile, mapping: DockerfileMap, advice: Advice, analysis: Analysis
) -> str:
    new = list(dockerfile.lines)
    old = [line + "\n" for line in dockerfile.lines]
    return "".join(
        difflib.unified_diff(old, [line + "\n" for line in new], dockerfile.path, dockerfile.path)
    )
