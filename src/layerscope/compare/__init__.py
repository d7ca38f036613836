"""Compare two images: layers shared, files, packages and findings that changed."""
