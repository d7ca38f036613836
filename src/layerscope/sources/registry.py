"""Images straight from a registry (distribution API v2), no daemon: manifests, config, blobs.

Authentication follows the registry's `WWW-Authenticate` challenge: Basic with the credentials,
or Bearer, asking the token realm for `repository:REPO:pull` (with the credentials when there are
some, anonymously otherwise). Plain HTTP only for localhost or with `insecure`; TLS is verified
otherwise. Every manifest, config and blob is checked against its digest (blobs by the layer
reader, while they stream). A dropped blob download is resumed with a Range request.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx

from ..errors import AuthError, MalformedMetadata, RegistryError, SelectionError, SourceError
from ..model import BlobRef, Platform
from ..oci import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
    STARGZ_TOC,
    is_attestation,
    load_json,
    parse_config,
    parse_index,
    parse_manifest,
)
from .credentials import Credentials
from .reference import RegistryRef, is_local, this_platform
from .spec import ImageSpec, verify_bytes

ACCEPT = ", ".join([OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST])
RETRIES = 4


_PARAM = re.compile(r'(\w+)="([^"]*)"')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_PARAM.findall(rest))


class RegistryClient:
    def __init__(
        self,
        ref: RegistryRef,
        credentials: Credentials | None = None,
        insecure: bool = False,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        *,
        scope: str | None = None,
    ) -> None:
        self.ref = ref
        self.credentials = credentials
        self.scope = scope or f"repository:{ref.repository}:pull"
        """What a bearer token is asked for (`registry:catalog:*` to list repositories)."""
        scheme = "http" if insecure or is_local(ref.api_host) else "https"
        self.base = f"{scheme}://{ref.api_host}"
        self.http = httpx.Client(
            follow_redirects=True,
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
            headers={"User-Agent": "layerscope"},
        )
        self._authorization: str | None = None
        self.label = f"registry://{ref}"

    def close(self) -> None:
        self.http.close()

    # -- requests -----------------------------------------------------------------------------
    def _send(self, path: str, headers: dict[str, str], stream: bool = False) -> httpx.Response:
        for attempt in range(2):
            sent = dict(headers)
            if self._authorization:
                sent["Authorization"] = self._authorization
            try:
                request = self.http.build_request("GET", self.base + path, headers=sent)
                response = self.http.send(request, stream=stream)
            except httpx.HTTPError as exc:
                raise RegistryError(
                    f"{self.label}: cannot reach {self.base} ({_why(exc)})"
                ) from None
            if response.status_code != 401 or attempt == 1:
                return response
            challenge = response.headers.get("WWW-Authenticate", "")
            response.close()
            self._authorize(challenge)
        raise AssertionError("unreachable")

    def _authorize(self, challenge: str) -> None:
        scheme, params = parse_challenge(challenge)
        creds = self.credentials
        if scheme == "basic":
            if creds is None:
                raise AuthError(f"{self.label}: the registry requires credentials (basic auth)")
            token = base64.b64encode(f"{creds.username}:{creds.secret}".encode()).decode()
            self._authorization = f"Basic {token}"
        elif scheme == "bearer" and "realm" in params:
            self._authorization = f"Bearer {self._token(params)}"
        else:
            raise AuthError(f"{self.label}: unsupported authentication challenge {scheme!r}")

    def _token(self, params: dict[str, str]) -> str:
        query = {"scope": self.scope}
        if "service" in params:
            query["service"] = params["service"]
        auth = None
        if self.credentials is not None:
            query["account"] = self.credentials.username
            auth = (self.credentials.username, self.credentials.secret)
        try:
            response = self.http.get(params["realm"], params=query, auth=auth)
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"{self.label}: cannot reach the token service ({_why(exc)})"
            ) from None
        if response.status_code in (401, 403):
            raise AuthError(f"{self.label}: the token service refused the credentials")
        if response.status_code != 200:
            raise RegistryError(f"{self.label}: the token service answered {response.status_code}")
        try:
            doc = response.json()
            token = doc.get("token") or doc.get("access_token")
        except ValueError:
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{self.label}: the token service answered no token")
        return token

    def _get_bytes(self, path: str, accept: str | None, what: str) -> tuple[bytes, httpx.Response]:
        response = self._send(path, {"Accept": accept} if accept else {})
        _raise_for(response, self.label, what)
        return response.content, response

    def get_json(self, path: str, what: str) -> tuple[dict[str, Any], httpx.Response]:
        """A JSON object from an API path (`/v2/_catalog?n=100`) and its response (for `Link`)."""
        body, response = self._get_bytes(path, "application/json", what)
        doc = load_json(body, f"{self.label}: {what}")
        if not isinstance(doc, dict):
            raise MalformedMetadata(f"{self.label}: {what}: expected a JSON object")
        return doc, response

    # -- manifests and blobs ------------------------------------------------------------------
    def manifest(self, reference: str) -> tuple[bytes, str, str]:
        """(body, media type, digest) of a manifest or index, its digest checked."""
        what = f"manifest {reference}"
        body, response = self._get_bytes(
            f"/v2/{self.ref.repository}/manifests/{reference}", ACCEPT, what
        )
        expected = reference if reference.startswith("sha256:") else None
        header = response.headers.get("Docker-Content-Digest")
        digest = verify_bytes(body, expected or header, f"{self.label}: {what}")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if not media_type or media_type == "application/json":
            media_type = str(load_json(body, f"{self.label}: {what}").get("mediaType", ""))
        return body, media_type, digest

    def blob(self, digest: str, what: str) -> bytes:
        body, _ = self._get_bytes(f"/v2/{self.ref.repository}/blobs/{digest}", None, what)
        verify_bytes(body, digest, f"{self.label}: {what}")
        return body

    def blob_chunks(self, digest: str, size: int | None) -> Iterator[bytes]:
        """Stream a blob; a dropped connection is resumed from where it stopped (Range)."""
        got = 0
        failures = 0
        path = f"/v2/{self.ref.repository}/blobs/{digest}"
        while True:
            # Identity encoding and raw bytes: Range offsets count the blob's own bytes.
            headers = {"Accept-Encoding": "identity"}
            if got:
                headers["Range"] = f"bytes={got}-"
            try:
                response = self._send(path, headers, stream=True)
            except RegistryError as exc:
                failures += 1
                if failures > RETRIES:
                    raise RegistryError(f"{exc} (blob {digest}, after {got} bytes)") from None
                time.sleep(min(0.2 * 2**failures, 3.0))
                continue
            try:
                _raise_for(response, self.label, f"blob {digest}")
                skip = got if got and response.status_code != 206 else 0  # Range ignored
                for received in response.iter_raw():
                    data = received
                    if skip:
                        cut = min(skip, len(data))
                        data, skip = data[cut:], skip - cut
                    if data:
                        got += len(data)
                        failures = 0
                        yield data
                return
            except (httpx.TransportError, httpx.DecodingError) as exc:
                failures += 1
                if failures > RETRIES or (size is not None and got >= size):
                    raise RegistryError(
                        f"{self.label}: blob {digest} broke off after {got} bytes ({_why(exc)})"
                    ) from None
                time.sleep(min(0.2 * 2**failures, 3.0))
            finally:
                response.close()


def _why(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _raise_for(response: httpx.Response, label: str, what: str) -> None:
    code = response.status_code
    if code in (200, 206):
        return
    response.close()
    if code == 401:
        raise AuthError(f"{label}: {what}: unauthorized (wrong or missing credentials)")
    if code == 403:
        raise AuthError(f"{label}: {what}: access denied")
    if code == 404:
        raise RegistryError(f"{label}: {what} not found (404)")
    raise RegistryError(f"{label}: {what}: the registry answered {code}")


def _choose(client: RegistryClient, body: bytes, digest: str, platform: Platform | None) -> str:
    """The manifest digest for `platform` (default: this machine's) in an index."""
    wanted = platform or this_platform()
    what = f"{client.label}: index {digest}"
    found = [d for d in parse_index(load_json(body, what), what) if not is_attestation(d)]
    matching = [d for d in found if d.platform is None or wanted.matches(d.platform)]
    if not matching:
        known = ", ".join(sorted({str(d.platform) for d in found if d.platform}))
        raise SelectionError(f"{what}: no image for {wanted} (platforms: {known}); use --platform")
    return matching[0].digest


def registry_spec(
    client: RegistryClient, source: str, platform: Platform | None = None
) -> ImageSpec:
    """Manifest (through an index if there is one), config and layer blob references."""
    body, media_type, digest = client.manifest(client.ref.reference)
    if media_type in INDEX_TYPES:
        chosen = _choose(client, body, digest, platform)
        body, media_type, digest = client.manifest(chosen)
    mwhat = f"{client.label}: manifest {digest}"
    manifest = parse_manifest(load_json(body, mwhat), mwhat)
    cwhat = f"{client.label}: config {manifest.config.digest}"
    config = parse_config(load_json(client.blob(manifest.config.digest, "config"), cwhat), cwhat)
    if platform is not None and config.platform and not platform.matches(config.platform):
        raise SelectionError(f"{cwhat}: the image is {config.platform}, not {platform}")
    if len(manifest.layers) != len(config.diff_ids):
        raise SourceError(
            f"{cwhat}: {len(config.diff_ids)} diff_ids for {len(manifest.layers)} layers"
        )
    blobs = tuple(
        BlobRef(
            what=f"{client.label}: layer {i} ({desc.digest})",
            tar_name=desc.digest,
            media_type=desc.media_type or None,
            digest=desc.digest,
            size=desc.size if desc.size >= 0 else None,
            diff_id=config.diff_ids[i],
            open_chunks=partial(client.blob_chunks, desc.digest, desc.size),
            stargz=desc.annotation(STARGZ_TOC) is not None,
        )
        for i, desc in enumerate(manifest.layers)
    )
    return ImageSpec(
        source=source,
        format=f"registry ({media_type or 'manifest'})",
        name=str(client.ref),
        config_digest=manifest.config.digest,
        config=config,
        blobs=blobs,
        repo_tags=(str(client.ref),),
        annotations=manifest.annotations,
        release=client.close,
    )
