"""`layerscope scan --report`: the fleet summary, read back from the DuckDB file."""

from __future__ import annotations

from typing import Any

import duckdb

from ..units import human_bytes


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def _b(value: object) -> str:
    return human_bytes(int(value or 0))  # type: ignore[call-overload]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def fleet_report(con: duckdb.DuckDBPyConnection, limit: int = 10) -> str:
    total, ok, failed = _rows(con, """SELECT count(*), count(*) FILTER (status = 'ok'),
        count(*) FILTER (status <> 'ok') FROM images""")[0]  # fmt: skip
    size, pulled, reclaim = _rows(con, """SELECT sum(size_bytes), sum(compressed_bytes),
        sum(reclaimable_bytes) FROM images WHERE status = 'ok'""")[0]  # fmt: skip
    layers, stored = _rows(con, "SELECT count(*), sum(compressed_bytes) FROM layers")[0]
    out = [
        f"Fleet: {total} image(s), {ok} analysed, {failed} failed",
        f"  {_b(size)} uncompressed, {_b(pulled)} to pull image by image, "
        f"{_b(stored)} stored once in {layers} distinct layer(s)",
        f"  reclaimable (stored copies that never ship): {_b(reclaim)}",
        "",
        f"Top {limit} images by reclaimable bytes:",
    ]
    top = f"""SELECT image, reclaimable_bytes, efficiency FROM images WHERE status = 'ok'
        ORDER BY reclaimable_bytes DESC, image LIMIT {limit}"""
    for image, r, eff in _rows(con, top):
        out.append(f"  {_b(r):>10}  {eff:7.2%}  {_cut(image, 70)}")
    out += ["", "Waste by cause, fleet-wide:"]
    for cause, n, b in _rows(con, """SELECT cause, count(*), sum(bytes) FROM files
            WHERE reason = 'wasted' GROUP BY cause ORDER BY 3 DESC"""):  # fmt: skip
        out.append(f"  {_b(b):>10}  {n:6} copies  {cause}")
    out += ["", f"Top {limit} wasted paths, fleet-wide:"]
    paths = f"""SELECT path, count(DISTINCT image), sum(bytes) FROM files
        WHERE reason = 'wasted' GROUP BY path ORDER BY 3 DESC, 1 LIMIT {limit}"""
    for path, images, b in _rows(con, paths):
        out.append(f"  {_b(b):>10}  in {images:4} image(s)  {_cut(path, 60)}")
    findings = _rows(con, """SELECT rule_id, max(severity_rank), any_value(severity), count(*),
        count(DISTINCT image), sum(recoverable_bytes) FROM findings GROUP BY rule_id
        ORDER BY 6 DESC, 2 DESC, 1""")  # fmt: skip
    out += ["", "Findings by rule:" if findings else "Findings: none recorded"]
    for rule, _, severity, n, images, b in findings:
        out.append(f"  {rule:10} {severity:8} {n:5} in {images:4} image(s), {_b(b)} recoverable")
    out += ["", "Most shared layers:"]
    for diff_id, images, b in _rows(con, """SELECT il.diff_id, count(DISTINCT il.image),
            any_value(l.compressed_bytes) FROM image_layers il JOIN layers l USING (diff_id)
            GROUP BY il.diff_id ORDER BY 2 DESC, 1 LIMIT 5"""):  # fmt: skip
        out.append(f"  {images:4} image(s)  {_b(b):>10}  {diff_id[:19]}")
    errors = _rows(con, f"""SELECT image, stage, error FROM images WHERE status <> 'ok'
        ORDER BY image LIMIT {limit}""")  # fmt: skip
    if errors:
        out += ["", "Failed images:"]
        out += [f"  {_cut(image, 50)} ({stage}): {error}" for image, stage, error in errors]
    return "\n".join(out) + "\n"
