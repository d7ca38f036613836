"""Every error layerscope raises, under one base.

    LayerscopeError                 anything the user can act on: one line on stderr, exit 2
    ├── SourceError                 the image could not be found or opened where it was said
    │   ├── ImageNotFound           no such file, directory or image name
    │   └── RegistryError           a registry or engine unreachable, refusing, or answering 404
    │       └── AuthError           credentials missing or wrong (401, 403, token refused)
    ├── FormatError                 the bytes are not an image layerscope can read
    │   ├── NotAnImage              an archive or directory with no manifest.json / index.json
    │   ├── MalformedMetadata       manifest, index or config JSON that is invalid or incomplete
    │   ├── MissingBlob             a layer or config the manifest names is absent
    │   ├── UnsupportedMediaType    a layer media type layerscope cannot decompress
    │   └── CorruptLayer            a truncated or corrupt tar, gzip or zstd stream
    │       └── NotATar                 bytes that do not start like a tar at all
    ├── DigestMismatch              bytes whose sha256 differs from the digest recorded for them
    ├── SelectionError              several images or platforms and no way to choose one
    ├── ConfigError                 a bad CI rule value or a bad config file
    ├── OutputError                 an output file or extraction that cannot be written
    └── ContentError                a file whose content cannot be read or extracted at a layer

Each message names the file, blob or digest and what is wrong with it. The library never prints
and never exits; `layerscope.cli` maps these to stderr and exit codes (`ExitCode`).
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What the process exit status means, as every command of layerscope uses it."""

    OK = 0
    """Success; every CI rule passed."""
    FAILED = 1
    """A CI rule failed (the image was read and judged)."""
    ERROR = 2
    """The input or a setting is wrong (a LayerscopeError): one line on stderr."""
    INTERNAL = 3
    """A bug in layerscope: one line on stderr, the traceback in a crash log."""
    INTERRUPTED = 130
    """Stopped by ctrl+c (SIGINT), as shells report it."""
    TERMINATED = 143
    """Stopped by SIGTERM, as shells report it (temporary files removed first)."""


class LayerscopeError(Exception):
    """Base of every error layerscope raises on purpose."""


class SourceError(LayerscopeError):
    """The image could not be opened where it was said to be."""


class ImageNotFound(SourceError):
    """No such file, directory or image."""


class RegistryError(SourceError):
    """A registry or engine could not be reached, refused, or answered something unusable."""


class AuthError(RegistryError):
    """The registry wants credentials that were missing or wrong."""


class FormatError(LayerscopeError):
    """The input is not an image layerscope can read."""


class NotAnImage(FormatError):
    """An archive or directory that holds no image manifest."""


class MalformedMetadata(FormatError):
    """Manifest, index or config JSON that is invalid or incomplete."""


class MissingBlob(FormatError):
    """A blob named by a manifest is not in the archive or layout."""


class UnsupportedMediaType(FormatError):
    """A layer media type that cannot be decompressed."""


class CorruptLayer(FormatError):
    """A layer whose tar, gzip or zstd stream is truncated or corrupt."""


class NotATar(CorruptLayer):
    """A stream whose first header is not a tar header (empty, short, or a bad checksum)."""


class DigestMismatch(LayerscopeError):
    """Bytes whose digest differs from the one the image records."""


class SelectionError(LayerscopeError):
    """Several images or platforms match and none was chosen."""


class ConfigError(LayerscopeError):
    """A bad CI rule value or configuration file."""


class OutputError(LayerscopeError):
    """An output file that cannot be written."""


class ContentError(LayerscopeError):
    """A file's content cannot be read at a layer (absent, not a regular file, a link loop)."""
