"""Real servers for the source tests: Debian's docker-registry (open, htpasswd, token), a token
server, a fault-injecting proxy, dockerd and podman storage. Started and stopped by fixtures."""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

USER, PASSWORD = "testuser", "s3cret-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers (401 is an answer)
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Registry:
    host: str
    process: subprocess.Popen[bytes]
    root: Path
    creds: tuple[str, str] | None = None

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_registry(root: Path, auth: str = "open", token_port: int | None = None) -> Registry:
    if shutil.which("docker-registry") is None:
        raise RuntimeError("docker-registry is not installed (apt-get install docker-registry)")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = [
        "version: 0.1",
        "log: {level: error}",
        f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}, delete: {{enabled: true}}}}",
        f"http: {{addr: 127.0.0.1:{port}}}",
    ]
    if auth == "htpasswd":
        hashed = subprocess.run(
            ["htpasswd", "-Bbn", USER, PASSWORD], capture_output=True, text=True, check=True
        ).stdout
        (root / "htpasswd").write_text(hashed)
        config.append(f"auth: {{htpasswd: {{realm: test-realm, path: {root / 'htpasswd'}}}}}")
    elif auth == "token":
        config.append(
            f"auth: {{token: {{realm: 'http://127.0.0.1:{token_port}/token', "
            f"service: test-registry, issuer: test-issuer, "
            f"rootcertbundle: {root / 'token.crt'}}}}}"
        )
    (root / "config.yml").write_text("\n".join(config) + "\n")
    with open(root / "registry.log", "wb") as log:
        proc = subprocess.Popen(
            ["docker-registry", "serve", str(root / "config.yml")],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    wait_http(f"http://127.0.0.1:{port}/v2/")
    creds = (USER, PASSWORD) if auth != "open" else None
    return Registry(f"127.0.0.1:{port}", proc, root, creds)


def skopeo_copy(src: str, registry: Registry, dest: str, *extra: str) -> None:
    cmd = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", *extra]
    if registry.creds:
        cmd += ["--dest-creds", ":".join(registry.creds)]
    subprocess.run([*cmd, src, f"docker://{registry.host}/{dest}"], check=True, timeout=120)


# -- token server ------------------------------------------------------------------------------
@dataclass
class TokenServer:
    port: int
    server: http.server.ThreadingHTTPServer
    requests: list[dict[str, str]] = field(default_factory=list)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_token_server(root: Path) -> TokenServer:
    """Issues RS256 JWTs the registry verifies through x5c, for USER:PASSWORD or anonymous."""
    import jwt
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    root.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-issuer")])
    now = time.time()
    import datetime as dt

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime.fromtimestamp(now - 3600, dt.UTC))
        .not_valid_after(dt.datetime.fromtimestamp(now + 86400, dt.UTC))
        .sign(key, hashes.SHA256())
    )
    (root / "token.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    log: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            log.append(query)
            user = ""
            header = self.headers.get("Authorization", "")
            if header.startswith("Basic "):
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                if (user, password) != (USER, PASSWORD):
                    self.send_response(401)
                    self.end_headers()
                    return
            access = []
            if user and "scope" in query:
                kind, repo, actions = query["scope"].split(":")
                access = [{"type": kind, "name": repo, "actions": actions.split(",")}]
            claims = {
                "iss": "test-issuer", "aud": query.get("service", ""), "sub": user,
                "iat": int(time.time()), "nbf": int(time.time()) - 10,
                "exp": int(time.time()) + 300, "jti": os.urandom(8).hex(), "access": access,
            }  # fmt: skip
            token = jwt.encode(claims, key, algorithm="RS256", headers={"x5c": [x5c]})
            body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return TokenServer(server.server_address[1], server, log)


# -- a proxy that breaks things ----------------------------------------------------------------
@dataclass
class Faults:
    cut_blobs_after: int | None = None
    """Drop the connection after this many bytes of a blob body..."""
    cuts_left: int = 0
    """...this many times (then pass blobs through)."""
    flip_blob_byte: bool = False
    flip_min_size: int = 100_000
    """Only blobs at least this big are flipped (layers, not the config)."""
    delay: float = 0.0
    """Seconds to sleep before each chunk of a blob."""
    redirect_blobs: bool = False
    """Answer blob requests with a 307 to the registry itself (as registries on S3 do)."""
    dead_after_cut: bool = False
    """After the first cut, drop every connection at once (the registry has gone)."""
    dead: bool = False
    blob_requests: list[str] = field(default_factory=list)
    blob_paths: list[str] = field(default_factory=list)
    """The path of every blob request answered 200 or 206 (to count reads per digest)."""


@dataclass
class Proxy:
    host: str
    faults: Faults
    server: http.server.ThreadingHTTPServer

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_proxy(upstream: str, faults: Faults) -> Proxy:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if faults.dead:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if faults.redirect_blobs and "/blobs/" in self.path:
                faults.blob_requests.append("redirected")
                self.send_response(307)
                self.send_header("Location", f"http://{upstream}{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            conn = http.client.HTTPConnection(upstream, timeout=30)
            try:
                self._forward(conn)
            except OSError:
                pass  # the client went away (layerscope stopped reading after an error)
            finally:
                conn.close()

        def _forward(self, conn: http.client.HTTPConnection) -> None:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            conn.request("GET", self.path, headers=headers)
            resp = conn.getresponse()
            blob = "/blobs/" in self.path and resp.status in (200, 206)
            if blob:
                faults.blob_requests.append(self.headers.get("Range", ""))
                faults.blob_paths.append(self.path)
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "transfer-encoding"):
                    self.send_header(k, v)
            self.send_header("Connection", "close")
            self.end_headers()
            sent = 0
            cut = faults.cut_blobs_after if blob and faults.cuts_left > 0 else None
            flipped = int(resp.getheader("Content-Length") or 0) < faults.flip_min_size
            while chunk := resp.read(16384):
                if blob and faults.delay:
                    time.sleep(faults.delay)
                if blob and faults.flip_blob_byte and not flipped and len(chunk) > 100:
                    chunk = chunk[:100] + bytes([chunk[100] ^ 0xFF]) + chunk[101:]
                    flipped = True
                if cut is not None and sent + len(chunk) > cut:
                    self.wfile.write(chunk[: cut - sent])
                    faults.cuts_left -= 1
                    faults.dead = faults.dead_after_cut
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    conn.close()
                    return
                self.wfile.write(chunk)
                sent += len(chunk)
            conn.close()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Proxy(f"127.0.0.1:{server.server_address[1]}", faults, server)


# -- engines -------------------------------------------------------------------------------------
@dataclass
class Dockerd:
    host: str
    process: subprocess.Popen[bytes]

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/usr/bin/docker", *args],
            env={**os.environ, "DOCKER_HOST": self.host},
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def start_dockerd(root: Path) -> Dockerd:
    if shutil.which("dockerd") is None:
        raise RuntimeError("dockerd is not installed (apt-get install docker.io)")
    root.mkdir(parents=True, exist_ok=True)
    sock = root / "docker.sock"
    with open(root / "dockerd.log", "wb") as log:
        proc = subprocess.Popen(
            ["dockerd", "--storage-driver=vfs", "--iptables=false", "--ip6tables=false",
             "--bridge=none", "--host", f"unix://{sock}", "--data-root", str(root / "data"),
             "--exec-root", str(root / "exec"), "--pidfile", str(root / "docker.pid")],
            stdout=log, stderr=log,
        )  # fmt: skip
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if sock.exists():
            d = Dockerd(f"unix://{sock}", proc)
            try:
                d.docker("version")
                return d
            except subprocess.CalledProcessError:
                pass
        if proc.poll() is not None:
            raise RuntimeError(f"dockerd exited: {(root / 'dockerd.log').read_text()[-500:]}")
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("dockerd did not start")


def podman_env(root: Path) -> dict[str, str]:
    root.mkdir(parents=True, exist_ok=True)
    conf = root / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "vfs"\nrunroot = "{root}/run"\ngraphroot = "{root}/storage"\n'
    )
    return {**os.environ, "CONTAINERS_STORAGE_CONF": str(conf)}
