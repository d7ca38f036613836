"""The explorer shows the redacted analysis: a build argument's value never reaches the screen."""

from __future__ import annotations

import asyncio
import random
import string
from pathlib import Path

from layerscope.findings.secure import secure
from layerscope.ui.app import LayerscopeApp
from layerscope.ui.panes import LayerDetails

from helpers import opened
from imagebuilder import D, F, ImageDef, Layer, write_docker_archive


def test_layer_details_and_list_show_the_redacted_command(tmp_path: Path) -> None:
    token = "tok_" + "".join(random.Random(5).choice(string.ascii_letters) for _ in range(29))
    cmd = f"RUN |1 API_TOKEN={token} /bin/sh -c echo $API_TOKEN > /x # buildkit"
    steps = [Layer([D("etc"), F("etc/a", b"a")]), Layer([F("x", token.encode())], cmd)]
    path = write_docker_archive(ImageDef(list(steps)), tmp_path / "i.tar")
    image = opened(path)
    image.analysis = secure(image, contents=False)[0]

    async def drive() -> list[str]:
        app = LayerscopeApp(loaded=image)
        seen = []
        async with app.run_test(size=(220, 50)) as pilot:
            await pilot.pause()
            await pilot.press("down")
            await pilot.pause()
            seen.append(str(app.screen.query_one(LayerDetails).content))
            seen.append(app.export_screenshot())
        return seen

    with image:
        details, screen = asyncio.run(drive())
    assert "API_TOKEN=<build-arg API_TOKEN 'tok_…' (33 chars, #" in details
    assert token not in details and token not in screen


def test_findings_view_scans_contents_on_demand(tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from layerscope.ui.findings_view import FindingsScreen

    gh = "ghp_" + "".join(random.Random(6).choice(string.ascii_letters) for _ in range(36))
    steps = [
        Layer([D("etc"), F("etc/a", b"a")]),
        Layer([D("app"), F("app/conf.yaml", f"token: {gh}\n".encode())], "COPY conf.yaml /app/"),
    ]
    path = write_docker_archive(ImageDef(list(steps)), tmp_path / "i.tar")
    image = opened(path)

    async def drive() -> tuple[list[str], list[str], str]:
        app = LayerscopeApp(loaded=image)
        async with app.run_test(size=(200, 50)) as pilot:
            await pilot.pause()
            await pilot.press("f")
            await pilot.pause()
            before = [str(r[2]) for r in _rows(app.screen.query_one("#findings-table", DataTable))]
            await pilot.press("s")
            for _ in range(100):  # the scan runs in a worker thread
                await pilot.pause(0.05)
                if isinstance(app.screen, FindingsScreen):
                    break
            table = app.screen.query_one("#findings-table", DataTable)
            after = [str(r[2]) for r in _rows(table)]
            return before, after, app.export_screenshot()

    with image:
        before, after, screen = asyncio.run(drive())
    assert "LS-S003" not in before
    assert "LS-S003" in after
    assert gh not in screen


def _rows(table: object) -> list[list[object]]:
    from textual.widgets import DataTable

    assert isinstance(table, DataTable)
    return [table.get_row_at(i) for i in range(table.row_count)]
