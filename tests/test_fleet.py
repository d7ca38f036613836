"""`layerscope scan` for real: a docker-registry filled with skopeo, a Dask scheduler and workers
started as their own processes, the DuckDB file read back.

The registry is reached through the recording proxy (tests/servers.py), so every blob read is
counted by digest: each distinct layer must be read exactly once for the whole fleet.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from layerscope.cli import main
from layerscope.errors import AuthError, CorruptLayer, RegistryError
from layerscope.findings.model import (
    Category,
    Finding,
    FindingSet,
    PathRef,
    PathState,
    Rule,
    Severity,
)
from layerscope.fleet import rows, targets, tasks
from layerscope.fleet.store import ScanStore
from servers import (
    Faults,
    Proxy,
    Registry,
    free_port,
    podman_env,
    skopeo_copy,
    start_proxy,
    start_registry,
)

from conftest import ROOT
from imagebuilder import (
    D,
    F,
    ImageDef,
    Layer,
    W,
    random_bytes,
    write_docker_archive,
    write_oci_layout,
)

pytestmark = pytest.mark.skipif(
    not all(Path(f"/usr/bin/{t}").exists() for t in ("skopeo", "docker-registry")),
    reason="needs skopeo and docker-registry (apt-get install skopeo docker-registry)",
)

BIN = Path(sys.executable).parent
APPS = 30


def _base(k: int) -> list[Layer]:
    return [
        Layer([D("etc"), F("etc/os-release", f"base {k}\n".encode()),
               F(f"usr/lib/libbase{k}.so", random_bytes(k, 20_000))],
              f"/bin/sh -c #(nop) ADD base{k}.tar /"),
        Layer([D("var"), D("var/lib"), D("var/lib/apt"), D("var/lib/apt/lists"),
               F("var/lib/apt/lists/pkgs", random_bytes(100 + k, 8_000)),
               D("usr"), D("usr/bin"), F("usr/bin/tool", random_bytes(200 + k, 6_000))],
              "/bin/sh -c apt-get update && apt-get install -y tool"),
    ]  # fmt: skip


def _app(i: int) -> ImageDef:
    steps = [
        *_base(i % 3),
        Layer([D("app"), F("app/main", random_bytes(1000 + i, 3_000 + i)),
               F("usr/bin/tool", random_bytes(300 + i, 5_000))], f"/bin/sh -c build {i}"),
    ]  # fmt: skip
    if i % 2 == 0:
        # The same whiteout layer in half the fleet: one diff_id shared above the bases.
        steps.append(Layer([W("var/lib/apt/lists/pkgs")], "/bin/sh -c rm -rf /var/lib/apt"))
    return ImageDef(steps, tag=f"app{i}:latest")


def _multi(tag: int) -> ImageDef:
    created = f"2024-0{tag}-01T00:00:00Z"
    layer = Layer([D("srv"), F("srv/v", random_bytes(5000 + tag, 2_000))], f"/bin/sh -c v{tag}")
    return ImageDef([*_base(0), layer], tag=f"multi:{tag}", extra_config={"created": created})


@dataclass
class Fleet:
    registry: Registry
    proxy: Proxy
    images: list[str]
    """`repo:tag` of every image the catalog scan with --tags latest finds."""
    broken: str
    broken_digest: str

    @property
    def faults(self) -> Faults:
        return self.proxy.faults

    def ref(self, image: str) -> str:
        return f"registry://{self.proxy.host}/{image}"


def _push(layout: Path, registry: Registry, dest: str) -> None:
    skopeo_copy(f"oci:{layout}", registry, dest)


def _corrupt(registry: Registry, digest: str) -> None:
    hexpart = digest.removeprefix("sha256:")
    blob = registry.root / "data/docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    work = tmp_path_factory.mktemp("fleet")
    registry = start_registry(work / "registry")
    proxy = start_proxy(registry.host, Faults())
    try:
        jobs: list[tuple[ImageDef, str]] = [
            (_app(i), f"team{'ab'[i % 2]}/app{i:02d}:latest") for i in range(APPS)
        ]
        jobs += [(_multi(t), f"multi/app:{'latest' if t == 3 else t}") for t in (1, 2, 3)]
        jobs.append((_app(0), "teama/app00:v1"))  # the same image under a second tag
        broken_layer = Layer([D("junk"), F("junk/blob", random_bytes(77, 30_000))], "/bin/sh -c x")
        jobs.append((ImageDef([*_base(0), broken_layer], tag="broken:latest"), "broken/app:latest"))

        def build_and_push(job: tuple[ImageDef, str]) -> Path:
            img, dest = job
            layout = write_oci_layout([img], work / "layouts" / re.sub(r"[/:]", "_", dest))
            _push(layout, registry, dest)
            return layout

        (work / "layouts").mkdir()
        with ThreadPoolExecutor(4) as pool:
            layouts = list(pool.map(build_and_push, jobs))
        manifest = json.loads((layouts[-1] / "index.json").read_text())["manifests"][0]
        blobs = layouts[-1] / "blobs" / "sha256"
        doc = json.loads((blobs / manifest["digest"].removeprefix("sha256:")).read_text())
        broken_digest = doc["layers"][-1]["digest"]
        _corrupt(registry, broken_digest)
        images = [dest for _, dest in jobs if dest.endswith(":latest")]
        yield Fleet(registry, proxy, images, "broken/app:latest", broken_digest)
    finally:
        proxy.stop()
        registry.stop()


@dataclass
class DaskCluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def start_dask(work: Path, workers: int = 2) -> DaskCluster:
    """`dask scheduler` and `dask worker` processes, each worker with its own layer cache (as on
    separate machines: parsed layers reach other workers through Dask only)."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    with (work / "scheduler.log").open("wb") as log:
        scheduler = subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--no-dashboard"], stdout=log, stderr=log,
        )  # fmt: skip
    procs = []
    for n in range(workers):
        env = {**os.environ, "XDG_CACHE_HOME": str(work / f"cache-w{n}")}
        with (work / f"worker{n}.log").open("wb") as wlog:
            procs.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--name", f"w{n}", "--death-timeout", "60"],
                stdout=wlog, stderr=wlog, env=env,
            ))  # fmt: skip
    cluster = DaskCluster(address, scheduler, procs)
    from distributed import Client

    try:
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(workers, timeout=60)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    cluster = start_dask(tmp_path_factory.mktemp("dask"))
    yield cluster
    cluster.stop()


def _paths_by_digest(paths: list[str]) -> Counter[str]:
    return Counter(p.rsplit("/", 1)[-1] for p in paths)


@dataclass
class ScanRun:
    db: Path
    code: int
    blobs: Counter[str]
    stderr: str


@pytest.fixture(scope="module")
def scanned(
    fleet: Fleet, dask_cluster: DaskCluster, tmp_path_factory: pytest.TempPathFactory
) -> ScanRun:
    """One catalog scan of the whole registry on the two-worker cluster."""
    out = tmp_path_factory.mktemp("scan")
    fleet.faults.blob_paths.clear()
    proc = subprocess.run(
        [str(BIN / "layerscope"), "scan", f"registry://{fleet.proxy.host}",
         "--scheduler", dask_cluster.address, "--out", str(out / "fleet.duckdb"),
         "--parquet", str(out / "parquet"), "--json-digest"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "XDG_CACHE_HOME": str(out / "driver-cache")},
    )  # fmt: skip
    blobs = _paths_by_digest(fleet.faults.blob_paths)
    return ScanRun(out / "fleet.duckdb", proc.returncode, blobs, proc.stderr)


def _query(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_catalog_pages_tags_and_filter(fleet: Fleet) -> None:
    host = fleet.registry.host
    repos = sorted({image.split(":")[0] for image in fleet.images})
    assert targets.repositories(host, page=4) == repos  # 9 pages of 4
    assert sorted(targets.tags(host, "multi/app", page=2)) == ["1", "2", "latest"]
    latest = targets.registry_targets(host, "teama/*", targets.TagChoice.parse("latest"), page=5)
    assert latest == [f"registry://{host}/teama/app{i:02d}:latest" for i in range(0, APPS, 2)]
    every = targets.registry_targets(host, "multi/*", targets.TagChoice.parse("all"))
    assert [r.rsplit(":", 1)[1] for r in every] == ["1", "2", "latest"]


def test_every_image_once_every_layer_parsed_once(fleet: Fleet, scanned: ScanRun) -> None:
    assert scanned.code == 1, scanned.stderr  # one image failed, and was recorded
    images = _query(scanned.db, "SELECT image, status FROM images ORDER BY image")
    assert [i for i, _ in images] == sorted(fleet.ref(i) for i in fleet.images)
    assert len(images) == len(fleet.images) >= APPS
    # Every distinct layer blob was read exactly once for the whole fleet.
    layer_rows = _query(scanned.db, "SELECT blob_digest, parsed FROM layers")
    distinct = {d for d, _ in layer_rows} | {fleet.broken_digest}
    assert all(parsed for _, parsed in layer_rows)
    layer_reads = {d: n for d, n in scanned.blobs.items() if d in distinct}
    assert layer_reads == dict.fromkeys(distinct, 1)
    # Shared layers: 6 base layers, one whiteout layer in half the fleet, one per image above.
    assert len(distinct) == 6 + 1 + APPS + 1 + 1
    shared = _query(scanned.db, """SELECT count(DISTINCT image) FROM image_layers
        GROUP BY diff_id ORDER BY 1 DESC LIMIT 1""")  # fmt: skip
    assert shared[0][0] >= APPS // 3
    # Each image opened once to plan and once to analyse, plus once per layer parsed through
    # it: the config reads add up only if no image was analysed twice.
    configs = _query(scanned.db, "SELECT config_digest FROM images WHERE status = 'ok'")
    config_reads = sum(n for d, n in scanned.blobs.items() if d not in distinct)
    ok = len(configs)
    assert config_reads == len(fleet.images) + ok + len(distinct)
    counts = dict(_query(scanned.db, "SELECT key, value FROM scan"))
    assert counts["analysed"] == str(ok) and counts["layers_parsed"] == str(len(distinct) - 1)
    workers = _query(scanned.db, "SELECT count(DISTINCT worker) FROM images")
    assert workers[0][0] == 2


def test_results_equal_layerscope_json_alone(
    fleet: Fleet, scanned: ScanRun, tmp_path: Path
) -> None:
    got = _query(scanned.db, """SELECT image, document_sha256, reclaimable_bytes, size_bytes,
        layer_count FROM images WHERE status = 'ok' ORDER BY image""")  # fmt: skip
    assert len(got) == len(fleet.images) - 1
    for image, sha, reclaimable, size, layers in got:
        out = tmp_path / "one.json"
        assert main(["--json", str(out), "--no-cache", str(image)]) == 0
        doc = json.loads(out.read_text())
        assert rows.canonical_sha256(rows.core(doc)) == sha, image
        assert doc["layerscope"]["waste"]["reclaimableBytes"] == reclaimable
        assert doc["image"]["sizeBytes"] == size and len(doc["layer"]) == layers
        files = _query(scanned.db, """SELECT count(DISTINCT path), coalesce(sum(bytes), 0)
            FROM files WHERE image = ? AND reason = 'wasted'""", image)  # fmt: skip
        assert files == [(len(doc["layerscope"]["waste"]["files"]), reclaimable)]


def test_corrupt_blob_fails_its_image_only(fleet: Fleet, scanned: ScanRun) -> None:
    failed = _query(scanned.db, "SELECT image, stage, error FROM images WHERE status <> 'ok'")
    assert len(failed) == 1
    image, stage, error = failed[0]
    assert image == fleet.ref(fleet.broken) and stage == "layer"
    assert fleet.broken_digest in str(error) and "corrupt gzip data" in str(error)
    assert "1 failed" in scanned.stderr


def test_parquet_report_and_readme_queries(fleet: Fleet, scanned: ScanRun, capsys) -> None:  # type: ignore[no-untyped-def]
    parquet = scanned.db.parent / "parquet"
    with duckdb.connect() as con:
        path = str(parquet / "images.parquet")
        assert con.execute(f"SELECT count(*) FROM '{path}'").fetchone() == (len(fleet.images),)
    assert main(["scan", "--report", "--out", str(scanned.db)]) == 0
    report = capsys.readouterr().out
    assert f"Fleet: {len(fleet.images)} image(s), {len(fleet.images) - 1} analysed, 1 failed" in (
        report
    )
    assert "/usr/bin/tool" in report and "Failed images:" in report
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Fleet scan") :]
    queries = re.findall(r"```sql\n(.*?)```", section, re.S)
    assert len(queries) == 5
    with duckdb.connect(str(scanned.db), read_only=True) as con:
        results = [con.execute(q).fetchall() for q in queries]
    assert len(results[0]) == 10  # top 10 images by recoverable bytes
    assert len(results[1]) >= APPS // 3  # images sharing a base layer


def test_resume_skips_finished_images(
    fleet: Fleet, scanned: ScanRun, dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    db = tmp_path / "resumed.duckdb"
    db.write_bytes(scanned.db.read_bytes())
    fleet.faults.blob_paths.clear()
    code = main(["scan", f"registry://{fleet.proxy.host}", "--scheduler", dask_cluster.address,
                 "--out", str(db), "--resume", "--no-cache"])  # fmt: skip
    assert code == 1  # the broken image is tried again, and fails again
    reads = _paths_by_digest(fleet.faults.blob_paths)
    assert reads[fleet.broken_digest] == 1
    # Only the broken image was opened: its config to plan it, then once for each of its three
    # layers (parsed again: no cache), and those layers' blobs. No other image was read.
    assert sorted(reads.values()) == [1, 1, 1, 4]
    assert _query(db, "SELECT count(*) FROM images") == [(len(fleet.images),)]


def test_reference_file_with_a_missing_image(
    fleet: Fleet, dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    listing = tmp_path / "images.txt"
    listing.write_text(
        f"# two images and one that is not there\n{fleet.ref(fleet.images[0])}\n\n"
        f"{fleet.ref('nosuch/repo:1')}\n{fleet.ref(fleet.images[1])}\n"
    )
    db = tmp_path / "list.duckdb"
    code = main(["scan", "--from", str(listing), "--scheduler", dask_cluster.address,
                 "--out", str(db)])  # fmt: skip
    assert code == 1
    got = _query(db, "SELECT image, status, stage, error FROM images ORDER BY image")
    assert [(i, s) for i, s, _, _ in got] == sorted(
        [(fleet.ref(fleet.images[0]), "ok"), (fleet.ref(fleet.images[1]), "ok"),
         (fleet.ref("nosuch/repo:1"), "failed")]
    )  # fmt: skip
    failed = next(row for row in got if row[1] == "failed")
    assert failed[2] == "plan" and "not found (404)" in str(failed[3])


def test_newest_tags_by_creation_date(
    fleet: Fleet, dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    db = tmp_path / "newest.duckdb"
    code = main(["scan", f"registry://{fleet.proxy.host}", "--repo-filter", "multi/*",
                 "--tags", "2", "--scheduler", dask_cluster.address, "--out", str(db)])  # fmt: skip
    assert code == 0
    got = _query(db, "SELECT image, created FROM images ORDER BY created DESC")
    assert got == [(fleet.ref("multi/app:latest"), "2024-03-01T00:00:00Z"),
                   (fleet.ref("multi/app:2"), "2024-02-01T00:00:00Z")]  # fmt: skip


def test_same_image_under_two_tags_is_analysed_once(
    fleet: Fleet, dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    db = tmp_path / "tags.duckdb"
    code = main(["scan", f"registry://{fleet.proxy.host}", "--repo-filter", "teama/app00",
                 "--tags", "all", "--scheduler", dask_cluster.address,
                 "--out", str(db)])  # fmt: skip
    assert code == 0
    got = _query(db, "SELECT image, analysed_as, worker, seconds FROM images ORDER BY image")
    assert [row[0] for row in got] == [fleet.ref("teama/app00:latest"), fleet.ref("teama/app00:v1")]
    assert got[0][1:] == got[1][1:]  # one analysis, recorded under both names
    assert _query(db, "SELECT value FROM scan WHERE key = 'analysed'") == [("2",)]


def test_killed_worker_mid_scan(fleet: Fleet, tmp_path: Path) -> None:
    cluster = start_dask(tmp_path / "dask")
    fleet.faults.delay = 0.05  # every blob read takes a while: the kill lands mid-scan
    try:
        fleet.faults.blob_paths.clear()
        scan = subprocess.Popen(
            [str(BIN / "layerscope"), "scan", f"registry://{fleet.proxy.host}",
             "--repo-filter", "teama/*", "--scheduler", cluster.address, "--out",
             str(tmp_path / "k.duckdb"), "--no-cache"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        end = time.monotonic() + 60
        while len(fleet.faults.blob_paths) < 15 and time.monotonic() < end:
            time.sleep(0.05)
        victim = cluster.workers[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        _, err = scan.communicate(timeout=240)

    finally:
        fleet.faults.delay = 0.0
        cluster.stop()
    assert scan.returncode == 0, err
    rows_ = _query(tmp_path / "k.duckdb", "SELECT image, status FROM images ORDER BY image")
    expected = sorted(fleet.ref(i) for i in fleet.images if i.startswith("teama/"))
    assert rows_ == [(image, "ok") for image in expected]
    assert _query(tmp_path / "k.duckdb", "SELECT value FROM scan WHERE key = 'analysed'") == [
        (str(len(expected)),)
    ]


# -- the embedded cluster, directories, bad input ------------------------------------------------
def test_directory_of_archives_on_the_local_cluster(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    write_docker_archive(_app(0), folder / "a.tar")
    write_docker_archive(_app(3), folder / "b.tar")
    write_oci_layout([_app(6)], folder / "c.oci.tar", as_tar=True)
    write_oci_layout([_app(1)], folder / "d-layout")
    (folder / "notes.txt").write_text("not an image")
    db = tmp_path / "local.duckdb"
    code = main(["scan", str(folder), "--workers", "2", "--out", str(db), "--findings",
                 "--cache-dir", str(tmp_path / "cache")])  # fmt: skip
    assert code == 0
    got = _query(db, "SELECT image, status, layer_count FROM images ORDER BY image")
    assert [(Path(str(i)).name, s, n) for i, s, n in got] == [
        ("a.tar", "ok", 4), ("b.tar", "ok", 3), ("c.oci.tar", "ok", 4), ("d-layout", "ok", 3),
    ]  # fmt: skip
    # base 0 (2 layers) under a, b, c; base 1 under d; one whiteout layer shared by a and c
    assert _query(db, "SELECT count(*), count(*) FILTER (parsed) FROM layers") == [(9, 9)]
    # --findings: the waste advisor's apt-lists rule fires on each image (8 kB of lists)
    apt = "SELECT count(DISTINCT image) FROM findings WHERE rule_id = 'LS-W001'"
    assert _query(db, apt + " AND recoverable_bytes = 8000") == [(4,)]
    per_image = """SELECT count(*) FROM images i WHERE findings <>
        (SELECT count(*) FROM findings f WHERE f.image = i.image)"""  # fmt: skip
    assert _query(db, per_image) == [(0,)]
    again = tmp_path / "again.duckdb"
    assert main(["scan", str(folder), "--workers", "1", "--out", str(again),
                 "--cache-dir", str(tmp_path / "cache")]) == 0  # fmt: skip
    assert _query(again, "SELECT count(*) FILTER (parsed) FROM layers") == [(0,)]  # from cache


def test_packages_table(tmp_path: Path) -> None:
    status = (b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
              b"Version: 2.36-9\n\nPackage: gcc-12\nStatus: install ok installed\n"
              b"Architecture: amd64\nVersion: 12.2.0-14\n")  # fmt: skip
    without_gcc = status.split(b"\n\n")[0] + b"\n"
    dpkg = [D("var"), D("var/lib"), D("var/lib/dpkg"), D("var/lib/dpkg/info")]
    img = ImageDef([
        Layer([*dpkg, F("var/lib/dpkg/status", status), D("usr"), D("usr/bin"),
               F("usr/bin/gcc-12", b"g" * 5000), F("var/lib/dpkg/info/gcc-12.list",
               b"/.\n/usr/bin/gcc-12\n")], "ADD rootfs.tar /"),
        Layer([*dpkg, F("var/lib/dpkg/status", without_gcc), W("usr/bin/gcc-12"),
               W("var/lib/dpkg/info/gcc-12.list")], "RUN apt-get purge gcc-12"),
    ])  # fmt: skip
    (tmp_path / "imgs").mkdir()
    write_docker_archive(img, tmp_path / "imgs" / "pkg.tar")
    db = tmp_path / "pkg.duckdb"
    assert main(["scan", str(tmp_path / "imgs"), "--workers", "1", "--packages",
                 "--out", str(db)]) == 0  # fmt: skip
    got = _query(db, """SELECT name, version, layer, removed_in, present, stored_bytes
        FROM packages ORDER BY name""")  # fmt: skip
    assert got == [
        ("gcc-12", "12.2.0-14", 0, 1, False, 5000),
        ("libc6", "2.36-9", 0, None, True, 0),
    ]


def test_progress_line_on_a_terminal(tmp_path: Path) -> None:
    if not Path("/usr/bin/tmux").exists():
        pytest.skip("needs tmux")
    from terminal import Terminal

    folder = tmp_path / "images"
    folder.mkdir()
    for i in (0, 1, 2):
        write_docker_archive(_app(i), folder / f"app{i}.tar")
    command = (f"XDG_CACHE_HOME={tmp_path / 'cache'} {BIN / 'layerscope'} scan {folder} "
               f"--workers 1 --out {tmp_path / 'p.duckdb'}; echo EXIT=$?; sleep 60")  # fmt: skip
    term = Terminal.start(tmp_path / "tmux.sock", "scan", command, (140, 20))
    try:
        term.wait(lambda s: "EXIT=" in s, "the scan to end", timeout=120)
        screen = term.screen(join=True)
    finally:
        term.stop()
    assert "EXIT=0" in screen
    # The last state of the live line: everything done, nothing failed.
    assert re.search(r"\[#{24}\] images 3/3  layers 10/10  [0-9.]+ kB read  errors 0", screen), (
        screen
    )


def test_every_image_of_podman(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not Path("/usr/bin/podman").exists():
        pytest.skip("needs podman (apt-get install podman)")
    env = podman_env(tmp_path / "podman")
    for i in (0, 4):
        archive = write_docker_archive(_app(i), tmp_path / f"app{i}.tar")
        subprocess.run(["podman", "load", "-q", "-i", str(archive)], env=env, check=True,
                       capture_output=True)  # fmt: skip
    monkeypatch.setenv("CONTAINERS_STORAGE_CONF", env["CONTAINERS_STORAGE_CONF"])
    db = tmp_path / "podman.duckdb"
    assert main(["scan", "podman://", "--workers", "1", "--out", str(db), "--json-digest"]) == 0
    got = _query(db, "SELECT image, status, document_sha256 FROM images ORDER BY image")
    assert [(str(i).rsplit("/", 1)[-1], s) for i, s, _ in got] == [
        ("app0:latest", "ok"), ("app4:latest", "ok"),
    ]  # fmt: skip
    for image, _, sha in got:
        assert str(image).startswith("podman://")
        out = tmp_path / "one.json"
        assert main(["--json", str(out), str(image)]) == 0
        assert rows.canonical_sha256(rows.core(json.loads(out.read_text()))) == sha


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "x.duckdb"
    (tmp_path / "empty").mkdir()
    (tmp_path / "imgs").mkdir()
    write_docker_archive(_app(1), tmp_path / "imgs" / "one.tar")
    cases = [
        ["scan", "--out", str(out)],
        ["scan", str(tmp_path / "missing-dir/"), "--out", str(out)],
        ["scan", str(tmp_path / "empty"), "--out", str(out)],
        ["scan", "registry://127.0.0.1:1", "--out", str(out)],
        ["scan", str(tmp_path / "imgs"), "--tags", "newest", "--out", str(out)],
        ["scan", str(tmp_path / "imgs"), "--workers", "0", "--out", str(out)],
        ["scan", "--report", "--out", str(out)],
        ["scan", str(tmp_path / "imgs"), "--out", str(tmp_path / "no" / "such.duckdb")],
        ["scan", str(tmp_path / "imgs"), "--scheduler", f"tcp://127.0.0.1:{free_port()}",
         "--out", str(out)],
    ]  # fmt: skip
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, (argv, err)
    assert not out.exists()


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "duckdb", None)
    assert main(["scan", "registry://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "duckdb" in err and "pip install 'layerscope[fleet]'" in err


# -- pieces -------------------------------------------------------------------------------------
def test_transient_errors_are_retried_with_backoff() -> None:
    calls: list[float] = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise RegistryError("registry://h/r: cannot reach http://h (ConnectError)")
        return "ok"

    assert tasks.with_retries(flaky, backoff=(0.05, 0.1, 0.2)) == ("ok", 3)
    assert calls[2] - calls[1] >= 0.1 > calls[1] - calls[0] >= 0.05
    for permanent in (AuthError("401"), CorruptLayer("bad gzip"),
                      RegistryError("registry://h/r: manifest x not found (404)")):  # fmt: skip
        assert not tasks.transient(permanent)
    with pytest.raises(AuthError) as caught:
        tasks.with_retries(lambda: (_ for _ in ()).throw(AuthError("denied")), backoff=(0.01,))
    assert caught.value.__notes__ == ["attempts=1"]


def test_findings_reach_their_tables(tmp_path: Path) -> None:
    rule = Rule("LS-S001", Category.SECURITY, Severity.HIGH, "secret in a layer", "remove it")
    finding = Finding(
        rule, "AWS key in /app/.env", (2,), "COPY . /app", "drop .env from the context",
        paths=(PathRef("/app/.env", 2, 120, PathState.HIDDEN),), recoverable_bytes=120,
    )  # fmt: skip
    found = FindingSet.of([finding])
    store = ScanStore(tmp_path / "f.duckdb")
    image = rows.failed_image_row("img", "img", "", "", 1) | {"status": "ok", "error": None}
    store.add(image, {"findings": rows.finding_rows("img", found)})
    got = store.con.execute("""SELECT rule_id, severity, layers, recoverable_bytes FROM findings
        WHERE severity_rank >= 3""").fetchall()  # fmt: skip
    store.close()
    assert got == [("LS-S001", "high", [2], 120)]
