"""`make bench` part 2: the explorer on an image of 1,000,000 entries (a benchmark, not a test).

Generates (once, cached in bench/out) a docker-archive of five layers and about a million tar
entries (adds, rewrites, directory deletions). Then:

  1. in-process, headless: the time from a keypress to the updated screen (Textual's pilot
     presses the key, then the screen is composed), for layer changes, expand/collapse, filter
     keystrokes, sort and paging, with the peak memory after every layer was shown;
  2. in a real terminal (tmux), for layerscope and for dive on the same archive: the time to the
     first screen, and the time from a layer-change key to the changed screen (polled).

    python bench/tui.py [--skip-terminal] [--dive-timeout SECONDS]

dive is stopped when it passes 16 GB resident or the timeout without showing a screen.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from terminal import Terminal  # noqa: E402

from imagebuilder import D, F, ImageDef, Layer, W, write_docker_archive  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from run import merge_results  # noqa: E402

OUT = ROOT / "bench" / "out"
IMAGE = OUT / "million.docker-archive.tar"


def _files(root: str, dirs: int, per: int, salt: str) -> list[F]:
    out = [D(root)]
    for d in range(dirs):
        out.append(D(f"{root}/m{d:04d}"))
        for i in range(per):
            body = f"{salt}{d}.{i}".encode() if i % 2 else b""
            out.append(F(f"{root}/m{d:04d}/file_{i:04d}.py", body))
    return out


def million() -> ImageDef:
    base = [D("usr"), *_files("usr/lib", 1000, 400, "base")]  # 401,001
    app = [D("opt"), *_files("opt/app", 500, 400, "app")]  # 200,502
    rewrite = [D("usr"), D("usr/lib")] + [
        F(f"usr/lib/m{d:04d}/file_{i:04d}.py", f"v2 {d}.{i}".encode())
        for d in range(250)
        for i in range(400)
    ]  # 100,002
    cleanup = [D("usr"), D("usr/lib"), *(W(f"usr/lib/m{d:04d}") for d in range(800, 1000))]
    cleanup += [D("var"), *_files("var/cache", 500, 400, "cache")]  # 200,705
    home = [D("home"), *_files("home/user", 250, 400, "home")]  # 100,251
    return ImageDef(
        [
            Layer(base, "/bin/sh -c #(nop) ADD file:base in /"),
            Layer(app, "/bin/sh -c pip install app"),
            Layer(rewrite, "/bin/sh -c python -m compileall /usr/lib"),
            Layer(cleanup, "/bin/sh -c rm -rf /usr/lib/m08* /usr/lib/m09* && fill cache"),
            Layer(home, "/bin/sh -c cp -r /skel /home/user"),
        ],
        tag="bench/million:latest",
    )


def generate() -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    if not IMAGE.exists():
        print("generating the 1,000,000-entry image (once) ...", flush=True)
        tmp = IMAGE.with_suffix(".partial")
        write_docker_archive(million(), tmp)
        tmp.rename(IMAGE)
    return IMAGE


# -- 1. in-process, headless ---------------------------------------------------------------------
_CHARS = {"space": " ", "slash": "/"}


def pane_layer(app: object) -> int:
    from layerscope.ui.treepane import FileTreePane

    return int(app.screen.query_one(FileTreePane).tree_view.options.layer)  # type: ignore[attr-defined]


async def settle(app: object) -> None:
    """Wait for the filter threads; one replaced by a newer keystroke ends cancelled."""
    from textual.worker import WorkerCancelled

    for worker in list(app.workers):  # type: ignore[attr-defined]
        with contextlib.suppress(WorkerCancelled):
            await worker.wait()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def pilot_latencies() -> None:
    from textual import events

    from layerscope.analysis import analyse
    from layerscope.loader import load_image
    from layerscope.session import OpenedImage
    from layerscope.sources.archive import spec_from_path
    from layerscope.ui.app import LayerscopeApp
    from layerscope.ui.treepane import FileTreePane

    t0 = time.perf_counter()
    # As the explorer opens an image (cli.explore): dive's figures before the file tree, so
    # that their transient trees and the file tree never add up at the peak.
    spec = spec_from_path(IMAGE, str(IMAGE), None, None)
    opened = OpenedImage(spec, analyse(load_image(spec)))
    analysis = opened.analysis
    t1 = time.perf_counter()
    index = opened.index
    t2 = time.perf_counter()
    entries = sum(len(layer.entries) for layer in analysis.image.layers)
    print(f"entries {entries:,}, paths {index.count:,}")
    print(f"load + analyse {t1 - t0:.1f} s, tree index {t2 - t1:.1f} s, peak RSS {rss_mb():.0f} MB")
    app = LayerscopeApp(loaded=opened)
    times: dict[str, list[float]] = {}

    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()

        async def press(label: str, *keys: str, workers: bool = False) -> None:
            # The key is handled, every message it caused is processed (and, with `workers`,
            # the filter thread's result applied), then the screen is composed: what a
            # terminal would be sent. Pilot's own idle waits are left out.
            for key in keys:
                start = time.perf_counter()
                # As the driver does: a Key event to the app (pilot.press adds idle waits).
                app.post_message(events.Key(key, _CHARS.get(key, key if len(key) == 1 else None)))
                await pilot._wait_for_screen()
                if workers:
                    await settle(app)
                    await pilot._wait_for_screen()
                # Twice: widgets such as DataTable post their messages after a refresh.
                for _ in range(2):
                    app.screen._on_timer_update()
                    await pilot._wait_for_screen()
                app.screen._on_timer_update()
                times.setdefault(label, []).append(time.perf_counter() - start)

        await press("no-op key (floor)", *["z"] * 5)
        await press("layer change", *["down"] * 4, *["up"] * 4, *["down"] * 4)
        assert pane_layer(app) == 4, f"layer keys did not reach the layer list: {pane_layer(app)}"
        rss_after_layers = rss_mb()
        await press("layer change", *["up"] * 4)
        await press("switch pane", "tab")
        await press("cursor down", *["down"] * 10)
        await press("page down", *["pagedown"] * 5)
        pane = app.screen.query_one(FileTreePane)
        pane.select(index.find("usr/lib") or 0)
        await pilot.pause()
        rows = len(pane.tree_view)
        await press("collapse/expand dir", "space")
        assert len(pane.tree_view) < rows, "space did not collapse usr/lib"
        await press("collapse/expand dir", *["space"] * 5)
        await press("collapse/expand all", *["ctrl+@"] * 2)
        await press("sort by size/name", *["ctrl+o"] * 2)
        await press("hide/show unmodified", *["ctrl+u"] * 2)
        await press("filter: open", "slash")
        await press("filter keystroke: echo", *"fi")
        await press("filter keystroke: echo", *["backspace"] * 2)
        await settle(app)
        await press("filter keystroke: result", *"file_0042", workers=True)
        await press("filter keystroke: result", *["backspace"] * 9, workers=True)
        await press("filter keystroke: result", *"m0999/", workers=True)
        await press("filter: close", "escape")
    print(
        f"peak RSS after showing every layer {rss_after_layers:.0f} MB, "
        f"at the end {rss_mb():.0f} MB"
    )
    print(f"{'action (key to updated screen)':34} {'n':>3} {'median ms':>10} {'max ms':>8}")
    actions = {}
    for label, values in times.items():
        ms = [v * 1000 for v in values]
        print(f"{label:34} {len(ms):3} {statistics.median(ms):10.1f} {max(ms):8.1f}")
        actions[label] = {"n": len(ms), "median_ms": round(statistics.median(ms), 1),
                          "max_ms": round(max(ms), 1)}  # fmt: skip
    every = sorted(v * 1000 for values in times.values() for v in values)
    p99 = every[min(len(every) - 1, int(0.99 * len(every)))]  # nearest rank
    print(f"keypress -> frame p99 over {len(every)} keys: {p99:.1f} ms")
    merge_results(
        "million_pilot",
        {
            "entries": entries,
            "paths": index.count,
            "load_and_analyse_s": round(t1 - t0, 2),
            "tree_index_s": round(t2 - t1, 2),
            "peak_rss_mb": round(rss_mb(), 1),
            "keypress_p99_ms": round(p99, 1),
            "actions": actions,
        },
    )


# -- 2. in a real terminal -------------------------------------------------------------------------
def _rss_of(pattern: str) -> float:
    """Largest resident set (MB) of the processes whose command line contains `pattern`."""
    ps = ["ps", "-eo", "rss=,args="]
    out = subprocess.run(ps, capture_output=True, text=True, check=False).stdout
    sizes = [int(line.split()[0]) for line in out.splitlines() if pattern in line]
    return max(sizes, default=0) / 1024


def terminal_figures(
    tool: str, command: str, ready: str, timeout: float, max_mb: float = 16_000
) -> tuple[float, float, float] | None:
    """(seconds to the first screen, median and max ms of a layer change), or None."""
    term = Terminal.start(OUT / f"tmux-{tool}.sock", tool, f"{command}; sleep 600", (200, 60))
    try:
        start, peak = time.perf_counter(), 0.0
        first = None
        while time.perf_counter() - start < timeout:
            if ready in term.screen():
                first = time.perf_counter() - start
                break
            peak = max(peak, _rss_of(command.split(maxsplit=1)[0]))
            if peak > max_mb:
                break
            time.sleep(0.05)
        if first is None:
            spent = time.perf_counter() - start
            print(f"{tool:11} no screen after {spent:.0f} s (stopped at {peak:,.0f} MB resident)")
            return None
        time.sleep(1.0)
        changes = []
        for key in ["Down"] * 4 + ["Up"] * 4:
            before = term.screen()
            term.burst(key)
            took = term.poll(lambda s, b=before: s != b, 120, every=0.005)
            changes.append(took if took is not None else float("inf"))
            time.sleep(0.3)
        med, worst = statistics.median(changes) * 1000, max(changes) * 1000
        print(f"{tool:11} first screen {first:7.1f} s   layer change median {med:6.0f} ms, "
              f"max {worst:6.0f} ms")  # fmt: skip
        return first, med, worst
    finally:
        term.stop()


def compare(image: Path, dive: str | None, dive_timeout: float) -> None:
    bindir = Path(sys.executable).parent
    print(f"{image.name}: in a real terminal (tmux 200x60, the screen polled every 5 ms)")
    ours = terminal_figures("layerscope", f"{bindir / 'layerscope'} {image}", "contents", 600)
    theirs = None
    if dive:
        theirs = terminal_figures(
            "dive", f"{dive} --source docker-archive {image}", "Layer Contents", dive_timeout
        )
    merge_results(
        f"terminal_{image.stem}",
        {
            "layerscope_first_screen_s": ours and round(ours[0], 2),
            "layerscope_layer_change_median_ms": ours and round(ours[1], 1),
            "dive_first_screen_s": theirs and round(theirs[0], 2),
            "dive_layer_change_median_ms": theirs and round(theirs[1], 1),
        },
    )
    if ours and theirs:
        print(f"{'ratio':11} first screen {ours[0] / theirs[0]:7.2f}x  layer change median "
              f"{ours[1] / theirs[1]:6.2f}x  (layerscope / dive)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-terminal", action="store_true")
    parser.add_argument("--dive-timeout", type=float, default=300)
    parser.add_argument("--pilot-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pilot_only:
        asyncio.run(pilot_latencies())
        return
    subprocess.run([sys.executable, __file__, "--pilot-only"], check=True)
    if args.skip_terminal or not shutil.which("tmux"):
        return
    bindir = Path(sys.executable).parent
    dive = shutil.which("dive", path=str(bindir)) or shutil.which("dive")
    big = OUT / "big.docker-archive.tar"  # bench/run.py's 50,000-entry image
    if big.exists():
        compare(big, dive, args.dive_timeout)
    # dive builds a tree per layer pair: on a million entries it grows past 16 GB and is
    # stopped there (it reached 20 GB in 6 minutes without a screen when first tried).
    compare(IMAGE, dive, args.dive_timeout)


if __name__ == "__main__":
    generate()
    main()
