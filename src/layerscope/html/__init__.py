"""A self-contained HTML report (one file, no network) with a zoomable treemap."""
