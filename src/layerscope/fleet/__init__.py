"""Fleet scan: every image of a registry, a list, a directory or an engine, analysed on Dask.

    targets.py   what to scan: registry catalogs, reference files, directories, engines
    model.py     the picklable requests and results that travel between driver and workers
    tasks.py     what a worker runs: plan an image, parse a layer once, assemble an image
    rows.py      an analysed image -> table rows (images, layers, files of interest, findings)
    store.py     the DuckDB file: schema, writes, resume, Parquet, the fleet report
    runner.py    the driver: the Dask client, layer deduplication, retries, progress
    command.py   `layerscope scan`: arguments, missing extras, exit codes

Installed with `pip install 'layerscope[fleet]'` (dask, distributed, duckdb); nothing in the
core imports this package.
"""
