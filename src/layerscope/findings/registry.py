"""Every rule of every producer, in one table: looked up by id, listed in docs/rules.md.

`docs/rules.md` is generated from here (`python -m layerscope.findings.registry > docs/rules.md`)
and a test checks that it is current, so the documented table and the code cannot disagree.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from .model import Rule
from .producers import default_producers


def all_rules() -> tuple[Rule, ...]:
    """Every rule, by id; a duplicated id is a bug in a producer."""
    rules: dict[str, Rule] = {}
    for producer in default_producers():
        for rule in producer.rules:
            if rule.id in rules and rules[rule.id] != rule:
                raise ValueError(f"rule id {rule.id} is defined twice")
            rules[rule.id] = rule
    return tuple(sorted(rules.values(), key=lambda r: r.id))


def rule(rule_id: str) -> Rule | None:
    return next((r for r in all_rules() if r.id == rule_id), None)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_markdown(rules: Iterable[Rule] | None = None) -> str:
    lines = [
        "# Rules",
        "",
        "Every rule layerscope reports, with its stable id (generated from the code:",
        "`python -m layerscope.findings.registry > docs/rules.md`; a test keeps it current).",
        "A waste finding that recovers less than 1 MB is reported as `info` whatever its",
        "rule's default severity.",
        "",
        "| id | category | severity | title | fix |",
        "|---|---|---|---|---|",
    ]
    for r in rules if rules is not None else all_rules():
        lines.append(
            f"| `{r.id}` | {r.category.value} | {r.severity.value} | {_cell(r.title)} "
            f"| {_cell(r.fix)} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(rules_markdown())
