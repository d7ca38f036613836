"""Image sources: where an image lives (archive, layout, engine, registry) -> an ImageSpec."""

# The `--source` choices; here so that the command line names them without importing a source.
ARCHIVE_SCHEMES = ("docker-archive", "docker-tar", "oci-archive", "oci", "oci-dir")
LIVE_SCHEMES = ("docker", "podman", "registry")
