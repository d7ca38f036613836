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
