"""The findings view: every finding ranked by bytes; enter shows its largest path in the tree, at
the layer that stored it."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from ..findings.advice import Advice
from ..findings.model import Finding, Severity
from ..findings.render import ranked, totals_line
from ..units import human_bytes

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

Target = tuple[str, int]
"""A path (clean, no leading /) and the layer to show it at."""


def target(f: Finding) -> Target | None:
    if f.paths:
        return f.paths[0].path.lstrip("/"), f.paths[0].layer
    return None


def describe(f: Finding) -> Text:
    text = Text()
    rows = [
        ("Rule", f"{f.rule.id}  {f.rule.title}"),
        ("Where", f.location or ", ".join(f"layer {n}" for n in f.layers)),
        (
            "Bytes",
            f"{human_bytes(f.recoverable_bytes)}: {human_bytes(f.hidden_bytes)} hidden, "
            f"{human_bytes(f.shipped_bytes)} shipped, pull ≈ {human_bytes(f.pull_bytes)}",
        ),
        ("Fix", f.fix.replace("\n", "  ")),
    ]
    if f.detail:
        rows.append(("Detail", f.detail))
    for label, value in rows:
        text.append(f"{label:>6} ", style="bold")
        text.append(value + "\n")
    text.rstrip()
    return text


class FindingsScreen(ModalScreen[Target | None]):
    """Ranked findings; enter closes the view and shows the finding's largest path; `s` closes
    it and scans file contents for secrets (`scan`, when given), which reopens it."""

    BINDINGS = [
        Binding("escape,q,f", "dismiss", "Close"),
        Binding("s", "scan", "Scan contents for secrets", show=False),
    ]

    def __init__(self, advice: Advice, scan: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.scan = scan
        self.findings = ranked(advice)
        self.totals = totals_line(advice).strip()

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text.assemble(("Findings ", "bold"), self.totals), id="findings-title")
            yield DataTable(cursor_type="row", id="findings-table")
            yield Static(id="finding-detail")
            yield Label("enter shows the path in the tree, esc closes", classes="hint")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        table.add_columns("Severity", "Bytes", "Rule", "Layer", "Finding")
        for f in self.findings:
            table.add_row(
                Text(f.level.value, style=SEVERITY_STYLE[f.level]),
                Text(f"{human_bytes(f.recoverable_bytes):>8}" if f.recoverable_bytes else ""),
                Text(f.rule.id),
                Text(str(f.cited) if f.cited is not None else ""),
                Text(f.title),
            )
        if not self.findings:
            table.add_row(Text(""), Text(""), Text(""), Text(""), Text("no findings"))
        self.set_focus(table)

    def action_scan(self) -> None:
        if self.scan is not None:
            self.dismiss(None)
            self.scan()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row < len(self.findings):
            self.query_one("#finding-detail", Static).update(
                describe(self.findings[event.cursor_row])
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.cursor_row < len(self.findings):
            self.dismiss(target(self.findings[event.cursor_row]))
