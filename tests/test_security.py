"""Security findings on small images built here: one image per rule, and ones that must not fire.

Every secret is generated at test time (a fresh RSA key, random tokens), so the repository holds
none, and each test checks that no output carries the value in full.
"""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from layerscope.findings.model import Finding, PathState, Severity
from layerscope.findings.redact import Redactor, Secret, redact, redacted_analysis
from layerscope.findings.secrets import SecretScanner
from layerscope.findings.security import SecurityResult, scan_opened

from helpers import opened
from imagebuilder import D, F, ImageDef, Layer, Step, W, write_docker_archive

RNG = random.Random(1234)


def rnd(alphabet: str, n: int) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


UPPER32 = string.ascii_uppercase + "234567"
ALNUM = string.ascii_letters + string.digits


def rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def openssh_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()


def certificate_pem() -> str:
    """A self-signed public certificate: public data, never a finding."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test.example")])
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


OS_BASE = [
    D("etc"),
    F("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
    F("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
    D("usr"),
    D("usr/bin"),
    F("usr/bin/passwd", b"\x7fELF\0\0binary", mode=0o4755),
    D("tmp", mode=0o1777),
]


def scan(
    tmp_path: Path,
    steps: list[Layer | Step],
    config: dict[str, object] | None = None,
    contents: bool = True,
    limit: int | None = None,
) -> SecurityResult:
    cfg: dict[str, object] = {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], **(config or {})}
    path = write_docker_archive(ImageDef(steps, extra_config={"config": cfg}), tmp_path / "i.tar")
    with opened(path) as image:
        if limit is None:
            return scan_opened(image, contents=contents)
        return scan_opened(image, contents=contents, limit=limit)


def by_rule(result: SecurityResult, rule_id: str) -> list[Finding]:
    return [f for f in result.findings if f.rule.id == rule_id]


def text_of(result: SecurityResult) -> str:
    """Everything a finding could show: titles, details, evidence, instructions, fixes."""
    return "\n".join(
        f"{f.title} {f.detail} {f.instruction} {f.fix} {f.evidence} {f.paths}"
        for f in result.findings
    )


def assert_never_shown(result: SecurityResult, *values: str) -> None:
    shown = text_of(result)
    for value in values:
        assert value not in shown


# -- secrets in file contents ------------------------------------------------------------------


def test_private_key_deleted_later_still_ships(tmp_path: Path) -> None:
    key = rsa_pem()
    result = scan(
        tmp_path,
        [
            Layer(OS_BASE, "ADD rootfs.tar /"),
            Layer([D("srv"), F("srv/deploy.pem", key.encode())], "COPY deploy.pem /srv/"),
            Layer([D("srv"), W("srv/deploy.pem")], "RUN rm /srv/deploy.pem"),
        ],
    )
    [f] = by_rule(result, "LS-S001")
    assert f.level is Severity.CRITICAL
    assert f.layers == (1,)
    assert f.instruction == "COPY deploy.pem /srv/"
    assert [(p.path, p.layer, p.state) for p in f.paths] == [
        ("/srv/deploy.pem", 1, PathState.HIDDEN)
    ]
    assert "deleted in layer 2" in f.title
    body = key.splitlines()[1]
    assert_never_shown(result, key, body)


def test_openssh_key_present(tmp_path: Path) -> None:
    key = openssh_key()
    result = scan(tmp_path, [Layer([D("root"), F("root/deploy_key", key.encode())])])
    [f] = by_rule(result, "LS-S001")
    assert f.paths[0].state is PathState.PRESENT
    assert "openssh-private-key" in f.title
    assert_never_shown(result, key.splitlines()[1])


def test_aws_key_pair_in_env_file(tmp_path: Path) -> None:
    key_id, secret = "AKIA" + rnd(UPPER32, 16), rnd(ALNUM + "/+", 40)
    env = f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n".encode()
    result = scan(tmp_path, [Layer([D("app"), F("app/.env", env)], "COPY .env /app/")])
    [f] = by_rule(result, "LS-S002")
    assert f.level is Severity.CRITICAL
    assert "aws-access-key-id" in f.title and "aws-secret-access-key" in f.title
    [named] = by_rule(result, "LS-S010")
    assert named.paths[0].path == "/app/.env"
    assert_never_shown(result, key_id, secret)


@pytest.mark.parametrize(
    ("kind", "token"),
    [
        ("github-token", "ghp_" + rnd(ALNUM, 36)),
        ("github-token", "github_pat_" + rnd(ALNUM + "_", 82)),
        ("gitlab-token", "glpat-" + rnd(ALNUM, 20)),
        ("slack-token", "xoxb-" + rnd(string.digits, 11) + "-" + rnd("abcdef0123456789", 24)),
        ("npm-token", "npm_" + rnd(ALNUM, 36)),
        ("pypi-token", "pypi-AgEIcHlwaS5vcmc" + rnd(ALNUM, 80)),
    ],
)
def test_access_tokens(tmp_path: Path, kind: str, token: str) -> None:
    conf = f"# deploy settings\ntoken: {token}\n".encode()
    result = scan(tmp_path, [Layer([D("etc"), F("etc/deploy.yaml", conf)])])
    [f] = by_rule(result, "LS-S003")
    assert kind in f.title
    assert f.level is Severity.HIGH
    assert_never_shown(result, token)


def test_jwt_is_a_token_but_other_base64_json_is_not(tmp_path: Path) -> None:
    import jwt

    token = jwt.encode({"sub": rnd(ALNUM, 12)}, rnd(ALNUM, 32), algorithm="HS256")
    signed = "eyJpZCI6NX0.XIwXxjKYdcGCmDkZ3DyLXhvGHuw.fGPFfXJsPwFsd1gJrPKRbjmXkxM"  # no "alg"
    files = [D("app"), F("app/a.txt", f"auth={token}\n".encode()), F("app/b.txt", signed.encode())]
    result = scan(tmp_path, [Layer(files)])
    [f] = by_rule(result, "LS-S003")
    assert f.paths[0].path == "/app/a.txt"
    assert_never_shown(result, token)


def test_passwords_in_urls_and_connection_strings(tmp_path: Path) -> None:
    pw1, pw2 = rnd(ALNUM, 14), rnd(ALNUM, 16)
    files = [
        D("app"),
        F("app/settings.py", f"DB = 'postgres://app:{pw1}@db.internal:5432/app'\n".encode()),
        F("app/app.config", f"Server=db;Database=x;User Id=sa;Password={pw2};\n".encode()),
    ]
    result = scan(tmp_path, [Layer(files)])
    found = {f.paths[0].path for f in by_rule(result, "LS-S004")}
    assert found == {"/app/settings.py", "/app/app.config"}
    assert_never_shown(result, pw1, pw2)


def test_high_entropy_assignment_in_env_file(tmp_path: Path) -> None:
    value = rnd(ALNUM, 32)
    env = f"DEBUG=false\nSESSION_SIGNING={value}\nLANG=C.UTF-8\n".encode()
    result = scan(tmp_path, [Layer([D("app"), F("app/prod.env", env)])])
    [f] = by_rule(result, "LS-S005")
    assert "SESSION_SIGNING" in f.title
    assert_never_shown(result, value)


# -- metadata ---------------------------------------------------------------------------------


def test_build_argument_recorded_in_history_and_written_to_a_file(tmp_path: Path) -> None:
    token = "tok_" + rnd(ALNUM, 29)
    args = f"|2 MIRROR=pypi.org files.pythonhosted.org API_TOKEN={token} /bin/sh -c "
    result = scan(
        tmp_path,
        [
            Layer(OS_BASE, "ADD rootfs.tar /", comment="buildkit.dockerfile.v0"),
            Step("ARG API_TOKEN"),
            Layer([D("etc"), F("etc/x", b"x")], "RUN " + args + "true # buildkit"),
            Layer(
                [D("srv"), F("srv/build.log", f"fetched with {token}\n".encode())],
                "RUN " + args + 'echo "fetched with ${API_TOKEN}" > /srv/build.log # buildkit',
            ),
        ],
    )
    [f] = by_rule(result, "LS-S020")
    assert f.layers == (1, 2)
    assert ("used by layers", "2") in f.evidence
    assert "API_TOKEN" in f.title and "MIRROR" not in text_of(result)
    [written] = by_rule(result, "LS-S006")
    assert written.paths[0].path == "/srv/build.log"
    assert written.layers == (2,)
    assert_never_shown(result, token)


def test_secret_in_a_layer_command(tmp_path: Path) -> None:
    pw = rnd(ALNUM, 15)
    cmd = f"/bin/sh -c git clone https://deploy:{pw}@git.internal/app.git /src"
    result = scan(tmp_path, [Layer([D("src"), F("src/a", b"a")], cmd)])
    [f] = by_rule(result, "LS-S021")
    assert f.layers == (0,)
    assert pw not in f.instruction and "password-in-url" in f.instruction
    assert_never_shown(result, pw)


def test_env_value_and_label(tmp_path: Path) -> None:
    pw, gh = rnd(ALNUM, 18), "ghp_" + rnd(ALNUM, 36)
    config = {
        "Env": ["PATH=/usr/bin:/bin", f"DB_PASSWORD={pw}", "GPG_KEY=A035C8C19219BA821ECEA86B"],
        "Labels": {
            "ci.token": gh,
            "org.opencontainers.image.revision": rnd("0123456789abcdef", 40),
        },
        "User": "1000",
    }
    result = scan(tmp_path, [Layer([D("a")])], config)
    [env] = by_rule(result, "LS-S022")
    assert "DB_PASSWORD" in env.title
    [label] = by_rule(result, "LS-S023")
    assert "ci.token" in label.title
    assert_never_shown(result, pw, gh)


def test_metadata_rules_run_without_content_scanning(tmp_path: Path) -> None:
    pw = rnd(ALNUM, 18)
    result = scan(tmp_path, [Layer([D("a")])], {"Env": [f"API_TOKEN={pw}"]}, contents=False)
    assert [f.rule.id for f in result.findings] == ["LS-S022", "LS-S034"]
    assert result.scan is None


# -- sensitive files -----------------------------------------------------------------------------


def test_sensitive_names_git_directory_and_credential_shapes(tmp_path: Path) -> None:
    npm = "//registry.npmjs.org/:_authToken=" + rnd("0123456789abcdef", 32)
    files = [
        D("root"),
        D("root/.ssh"),
        F("root/.ssh/id_ed25519", b"(not read by the name rule)"),
        D("root/.aws"),
        F("root/.aws/credentials", b"[default]\n"),
        F("root/.npmrc", npm.encode()),
        D("src"),
        D("src/.git"),
        F("src/.git/HEAD", b"ref: refs/heads/main\n"),
        F("src/.git/config", b"[core]\n"),
    ]
    result = scan(tmp_path, [Layer(files)])
    names = {f.paths[0].path: f.level for f in by_rule(result, "LS-S010")}
    assert names == {
        "/root/.ssh/id_ed25519": Severity.HIGH,
        "/root/.aws/credentials": Severity.HIGH,
    }
    [git] = by_rule(result, "LS-S012")
    assert git.path_count == 3
    [shape] = by_rule(result, "LS-S011")
    assert shape.paths[0].path == "/root/.npmrc"
    assert_never_shown(result, npm.rpartition("=")[2])


# -- must not trigger ---------------------------------------------------------------------------


def test_public_certificate_placeholders_and_examples_stay_quiet(tmp_path: Path) -> None:
    files = [
        D("etc"),
        D("etc/ssl"),
        F("etc/ssl/server.pem", certificate_pem().encode()),
        F("etc/app.conf", b"url = http://user:password@host/\nkey = AKIAIOSFODNN7EXAMPLE\n"),
        F("etc/tls.key.example", rsa_pem().encode()),
        F("etc/.env.example", b"API_TOKEN=changeme\nSECRET_KEY=\n"),
        F("etc/code.py", b'HEADER = b"-----BEGIN PRIVATE KEY-----"\n'),
    ]
    result = scan(tmp_path, [Layer(files)], {"User": "1000"})
    assert all(f.level is Severity.INFO for f in result.findings), text_of(result)
    assert {f.rule.id for f in result.findings} <= {"LS-S001", "LS-S010"}


def test_binaries_and_large_files_are_skipped_and_counted(tmp_path: Path) -> None:
    token = "ghp_" + rnd(ALNUM, 36)
    files = [
        D("bin"),
        F("bin/tool", b"\x7fELF\0\0\0" + token.encode()),
        F("big.txt", b"x" * 5000 + token.encode()),
    ]
    result = scan(tmp_path, [Layer(files)], {"User": "1"}, limit=4096)
    assert not by_rule(result, "LS-S003")
    assert result.scan is not None
    assert (result.scan.binaries_skipped, result.scan.too_large) == (1, 1)
    assert result.scan.largest_skipped == (("/big.txt", 5000 + len(token)),)


# -- permissions ----------------------------------------------------------------------------------


def test_setuid_added_by_own_layer_apart_from_the_base(tmp_path: Path) -> None:
    result = scan(
        tmp_path,
        [
            Layer(OS_BASE, "ADD rootfs.tar /"),
            Layer(
                [
                    D("usr"),
                    D("usr/local"),
                    D("usr/local/bin"),
                    F("usr/local/bin/helper", b"#!", 0o4755),
                ],
                "RUN install -m 4755 /bin/true /usr/local/bin/helper",
            ),
        ],
        {"User": "1000"},
    )
    [own] = by_rule(result, "LS-S030")
    assert own.paths[0].path == "/usr/local/bin/helper" and own.layers == (1,)
    assert own.level is Severity.HIGH
    [base] = by_rule(result, "LS-S031")
    assert base.level is Severity.INFO and base.paths[0].path == "/usr/bin/passwd"


def test_world_writable_without_sticky(tmp_path: Path) -> None:
    files = [
        D("data", mode=0o777),
        D("shared", mode=0o1777),
        F("data/state.json", b"{}", mode=0o666),
        F("link-target", b"x"),
        F("lnk", kind="symlink", link="link-target", mode=0o777),
    ]
    result = scan(tmp_path, [Layer(OS_BASE), Layer(files)], {"User": "1000"})
    assert {f.paths[0].path for f in by_rule(result, "LS-S032")} == {"/data", "/data/state.json"}
    assert all(f.level is Severity.MEDIUM for f in by_rule(result, "LS-S032"))


def test_path_executable_writable_by_runtime_user(tmp_path: Path) -> None:
    files = [
        D("usr"),
        D("usr/local"),
        D("usr/local/bin", uid=1000, gid=1000),
        F("usr/local/bin/app", b"#!/bin/sh\n", mode=0o755, uid=1000, gid=1000),
        F("usr/local/bin/tool", b"#!/bin/sh\n", mode=0o755),
    ]
    result = scan(
        tmp_path,
        [Layer(OS_BASE), Layer(files)],
        {"User": "app", "Env": ["PATH=/usr/local/bin:/usr/bin"]},
    )
    paths = {f.paths[0].path for f in by_rule(result, "LS-S033")}
    assert paths == {"/usr/local/bin", "/usr/local/bin/app"}
    assert not by_rule(result, "LS-S034")


def test_running_as_root_is_informational(tmp_path: Path) -> None:
    result = scan(tmp_path, [Layer([D("a")])], {}, contents=False)
    [f] = by_rule(result, "LS-S034")
    assert f.level is Severity.INFO


# -- redaction ----------------------------------------------------------------------------------


def test_redacted_form_shows_kind_prefix_length_and_hash_only() -> None:
    value = "tok_" + rnd(ALNUM, 29)
    text = redact(value, "build-arg API_TOKEN")
    assert text.startswith("build-arg API_TOKEN 'tok_…' (33 chars, #")
    assert value not in text
    assert redact("abc123", "pw").startswith("pw 'a…' (6 chars")


def test_redacted_analysis_scrubs_the_history(tmp_path: Path) -> None:
    token = "tok_" + rnd(ALNUM, 29)
    cmd = f"RUN |1 API_TOKEN={token} /bin/sh -c echo hi # buildkit"
    path = write_docker_archive(ImageDef([Layer([D("a")], cmd)]), tmp_path / "i.tar")
    with opened(path) as image:
        result = scan_opened(image)
        copy = redacted_analysis(image.analysis, result.redactor)
        assert token not in copy.image.layers[0].history.created_by
        assert token not in copy.image.history[0].created_by
        assert "API_TOKEN=<build-arg API_TOKEN 'tok_…'" in copy.image.layers[0].command
        assert token in image.analysis.image.layers[0].history.created_by  # the original is kept


def test_redactor_scrubs_longest_first_and_ignores_short_values() -> None:
    r = Redactor()
    r.add(Secret("a", "abcdefgh"))
    r.add(Secret("b", "abcdefghijkl"))
    r.add(Secret("c", "app"))
    out = r.scrub("x abcdefghijkl y abcdefgh z app")
    assert "abcdefgh" not in out and out.endswith(" z app")


def test_scanner_reports_line_numbers_and_each_value_once() -> None:
    gh = "ghp_" + rnd(ALNUM, 36)
    hits = SecretScanner().scan(f"a\nb {gh}\nc {gh}\n".encode(), "x.txt")
    assert [(h.secret.kind, h.line) for h in hits] == [("github-token", 2)]


def test_ordinary_metadata_and_env_values_stay_quiet(tmp_path: Path) -> None:
    config = {
        "Env": [
            "PATH=/usr/local/bin:/usr/bin",
            "PASS_MAX_DAYS=99999",
            "TOKENIZERS_PARALLELISM=false",
            "PYTHON_SHA256=" + rnd("0123456789abcdef", 64),
            "GPG_KEY=" + rnd("0123456789ABCDEF", 40),
            "SECRETS_DIR=/run/secrets",
        ],
        "Labels": {"org.opencontainers.image.authors": "Jane Doe <jane@example.org>"},
        "User": "1000",
    }
    env = b"API_URL=https://api.internal.example.org/v1/things\nDEBUG=true\nWORKERS=4\n"
    result = scan(tmp_path, [Layer([D("app"), F("app/settings.env", env)])], config)
    assert not list(result.findings), text_of(result)


def test_the_content_scan_reads_etc_passwd_itself(tmp_path: Path) -> None:
    """With contents scanned, /etc/passwd comes from the scan: no layer is read twice."""
    from layerscope.findings.security import security_findings

    files = [D("usr"), D("usr/bin", uid=1000), F("usr/bin/app", b"#!", 0o755, uid=1000)]
    cfg = {"User": "app", "Env": ["PATH=/usr/bin"]}
    path = write_docker_archive(
        ImageDef([Layer(OS_BASE), Layer(files)], extra_config={"config": cfg}), tmp_path / "i.tar"
    )

    def never(path: str) -> str:
        raise AssertionError(f"{path} read again")

    with opened(path) as image:
        result = security_findings(image.analysis, image.blobs, contents=True, read_file=never)
    assert {f.paths[0].path for f in by_rule(result, "LS-S033")} == {"/usr/bin", "/usr/bin/app"}


def test_overwritten_copied_and_directory_deleted_versions_each_count(tmp_path: Path) -> None:
    gh = "ghp_" + rnd(ALNUM, 36)
    conf = f"token: {gh}\n".encode()
    result = scan(
        tmp_path,
        [
            Layer([D("app"), F("app/conf.yaml", conf), F("app/copy.yaml", conf)], "COPY . /app"),
            Layer([D("app"), F("app/conf.yaml", b"token: (from the environment)\n")], "RUN fix"),
            Layer([W("app")], "RUN rm -rf /app"),
            Layer(
                [
                    D("opt"),
                    F("opt/conf.yaml", conf),
                    F("opt/link", kind="hardlink", link="opt/conf.yaml"),
                ],
                "COPY conf.yaml /opt/",
            ),
        ],
        {"User": "1000"},
    )
    found = {
        (f.paths[0].path, f.paths[0].layer, f.paths[0].state) for f in by_rule(result, "LS-S003")
    }
    assert found == {
        ("/app/conf.yaml", 0, PathState.HIDDEN),
        ("/app/copy.yaml", 0, PathState.HIDDEN),
        ("/opt/conf.yaml", 3, PathState.PRESENT),
    }
    titles = {f.paths[0].path: f.title for f in by_rule(result, "LS-S003")}
    assert "overwritten in layer 1" in titles["/app/conf.yaml"]
    assert "deleted in layer 2" in titles["/app/copy.yaml"]
    assert result.scan is not None and result.scan.files_read == 2  # the copies were not re-read
    assert_never_shown(result, gh)


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("root/.pypirc", b"[pypi]\nusername = __token__\npassword = " + rnd(ALNUM, 20).encode()),
        (
            "root/.docker/config.json",
            b'{"auths": {"ghcr.io": {"auth": "' + rnd(ALNUM, 24).encode() + b'"}}}',
        ),
        (
            "root/.kube/config",
            b"apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    token: "
            + rnd(ALNUM, 30).encode(),
        ),
        ("root/.netrc", b"machine example.org login bob password " + rnd(ALNUM, 12).encode()),
        (
            "root/.git-credentials",
            b"https://bob:" + rnd(ALNUM, 12).encode() + b"@git.example.org\n",
        ),
    ],
)
def test_credential_shapes(tmp_path: Path, path: str, content: bytes) -> None:
    parts = path.split("/")
    dirs = [D("/".join(parts[: i + 1])) for i in range(len(parts) - 1)]
    result = scan(tmp_path, [Layer([*dirs, F(path, content)])], {"User": "1"})
    [shape] = by_rule(result, "LS-S011")
    assert shape.paths[0].path == "/" + path


def test_credential_file_names_without_credentials_are_not_shapes(tmp_path: Path) -> None:
    files = [
        D("root"),
        F("root/.npmrc", b"registry=https://registry.npmjs.org/\n"),
        D("root/.docker"),
        F("root/.docker/config.json", b'{"credsStore": "desktop"}'),
    ]
    result = scan(tmp_path, [Layer(files)], {"User": "1"})
    assert not by_rule(result, "LS-S011")
