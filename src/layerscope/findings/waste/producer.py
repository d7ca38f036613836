"""The waste producer: every waste rule, most specific first (the first to claim a byte keeps
it), small findings lowered to informational."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ...session import OpenedImage
from ..engine import FindingOptions, pull_ratios, settle
from ..model import Finding, Rule, Severity
from . import rules
from .caches import cache_findings, pip_history_findings
from .duplicates import duplicate_findings
from .final import (
    dev_dependency_findings,
    docs_findings,
    junk_findings,
    log_findings,
    toolchain_findings,
)
from .leftovers import deleted_findings, overwritten_findings, rewritten_findings
from .paths import stored_copies


class WasteProducer:
    """Explains every wasted byte of an image, with the change that recovers it."""

    @property
    def rules(self) -> tuple[Rule, ...]:
        return rules.ALL

    def __call__(self, opened: OpenedImage, options: FindingOptions) -> Iterator[Finding]:
        image, waste = opened.image, opened.analysis.waste
        copies = stored_copies(opened.analysis.tree)
        ratios = options.ratios or pull_ratios(image, opened.blobs)
        batches = (
            cache_findings(image, copies),
            log_findings(opened, copies),
            junk_findings(opened, copies),
            dev_dependency_findings(opened, copies),
            toolchain_findings(opened, copies),
            rewritten_findings(image, waste),
            deleted_findings(image, waste),
            overwritten_findings(image, waste),
            docs_findings(opened, copies),
            duplicate_findings(image, copies),
            pip_history_findings(image, copies),
        )
        for batch in batches:
            for finding in batch:
                settled = settle(finding, ratios)
                if settled.recoverable_bytes < options.info_below:
                    settled = replace(settled, severity=Severity.INFO)
                yield settled
