"""Write the bundled sample image: a real docker-archive telling a bloated Python app's story.

python scripts/make_sample.py build/sample.tar
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imagebuilder import D, F, ImageDef, Layer, Step, W, random_bytes, write_docker_archive

PASSWD = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = b"root:x:0:\nnogroup:x:65534:\n"
SHADOW = b"root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n"
GSHADOW = b"root:*::\nnogroup:*::\n"


def base_layer() -> Layer:
    files = [
        D("bin"),
        D("etc"),
        D("usr"),
        D("usr/lib"),
        D("usr/lib/python3.11"),
        D("var"),
        D("var/log"),
        D("tmp", 0o1777),
        D("root", 0o700),
        D("app"),
        F("bin/busybox", random_bytes(1, 900_000), 0o755),
        F("bin/sh", kind="symlink", link="busybox", mode=0o777),
        F("bin/ls", kind="hardlink", link="bin/busybox", mode=0o755),
        F("etc/passwd", PASSWD),
        F("etc/passwd-", PASSWD),
        F("etc/group", GROUP),
        F("etc/group-", GROUP),
        F("etc/shadow", SHADOW, 0o640),
        F("etc/gshadow", GSHADOW, 0o640),
        F("etc/gshadow-", GSHADOW, 0o640),
        F("var/log/faillog", bytes(64)),
        F("var/log/lastlog", bytes(292)),
        F("usr/bin/passwd", random_bytes(2, 60_000), 0o4755),
    ]
    files.insert(3, D("usr/bin"))
    for i in range(40):
        files.append(F(f"usr/lib/python3.11/mod{i:02d}.py", random_bytes(100 + i, 6_000 + 97 * i)))
    return Layer(files, "/bin/sh -c #(nop) ADD file:5a1d0c rootfs.tar in / ")


def useradd_layer() -> Layer:
    app_pw = PASSWD + b"app:x:1000:1000::/home/app:/bin/sh\n"
    app_gr = GROUP + b"app:x:1000:\n"
    return Layer(
        [
            D("etc"),
            F("etc/group", app_gr),
            F("etc/group-", GROUP),
            F("etc/gshadow", GSHADOW + b"app:!::\n", 0o640),
            F("etc/gshadow-", GSHADOW, 0o640),
            F("etc/passwd", app_pw),
            F("etc/shadow", SHADOW + b"app:!:19000:0:99999:7:::\n", 0o640),
            D("var"),
            D("var/log"),
            F("var/log/faillog", bytes(32_064)),
            F("var/log/lastlog", bytes(292_292)),
            D("home"),
            D("home/app", uid=1000, gid=1000),
        ],
        "/bin/sh -c groupadd -g 1000 app && useradd -u 1000 -g app -m app",
    )


def pip_layer() -> Layer:
    files = [
        D("usr"),
        D("usr/lib"),
        D("usr/lib/python3.11"),
        D("usr/lib/python3.11/site-packages"),
        D("root", 0o700),
        D("root/.cache"),
        D("root/.cache/pip"),
        D("root/.cache/pip/http"),
        D("tmp", 0o1777),
        F("tmp/build.log", b"x" * 40_000),
    ]
    site = "usr/lib/python3.11/site-packages"
    for pkg, count in (("django", 60), ("sqlparse", 12), ("asgiref", 8)):
        files.append(D(f"{site}/{pkg}"))
        for i in range(count):
            seed = zlib.crc32(pkg.encode()) % 997 + i  # not hash(): that changes per process
            files.append(F(f"{site}/{pkg}/m{i:03d}.py", random_bytes(seed, 3_000 + 211 * i)))
    for i in range(6):
        files.append(F(f"root/.cache/pip/http/wheel{i}.bin", random_bytes(500 + i, 400_000)))
    return Layer(files, '/bin/sh -c pip install "django>=4.2,<4.3"')


APP_SETTINGS = b"DEBUG = True\nALLOWED_HOSTS = []\nSECRET_KEY = 'change-me'\n"


def app_layer() -> Layer:
    files = [
        D("app"),
        D("app/mysite"),
        F("app/manage.py", b"#!/usr/bin/env python\n" * 40, 0o755),
        F("app/mysite/settings.py", APP_SETTINGS * 30),
    ]
    for name in ("urls", "wsgi", "asgi", "views", "models"):
        files.append(F(f"app/mysite/{name}.py", random_bytes(len(name), 4_000)))
    return Layer(files, "/bin/sh -c #(nop) COPY dir:3f2a1b in /app ")


def cleanup_layer() -> Layer:
    return Layer(
        [
            D("root", 0o700),
            D("root/.cache"),
            W("root/.cache/pip"),
            D("tmp", 0o1777),
            W("tmp/build.log"),
        ],
        "/bin/sh -c rm -rf /root/.cache/pip /tmp/build.log",
    )


def modify_layer() -> Layer:
    settings = APP_SETTINGS.replace(b"DEBUG = True", b"DEBUG = False") * 30
    return Layer(
        [D("app"), D("app/mysite"), F("app/mysite/settings.py", settings)],
        "/bin/sh -c sed -i 's/^DEBUG = True/DEBUG = False/' /app/mysite/settings.py",
    )


def chown_layer() -> Layer:
    base = app_layer().entries
    settings = modify_layer().entries[-1]
    out = []
    for e in base:
        src = settings if e.path == settings.path else e
        out.append(F(src.path, src.data, src.mode, 1000, 1000, src.kind, src.link))
    return Layer(out, "/bin/sh -c chown -R app:app /app")


def sample_image() -> ImageDef:
    return ImageDef(
        [
            base_layer(),
            Step('/bin/sh -c #(nop)  CMD ["sh"]'),
            useradd_layer(),
            pip_layer(),
            app_layer(),
            cleanup_layer(),
            modify_layer(),
            chown_layer(),
            Step("/bin/sh -c #(nop) USER app"),
            Step('/bin/sh -c #(nop)  CMD ["python3", "app/manage.py"]'),
        ],
        tag="layerscope/sample:latest",
    )


def main() -> None:
    dest = Path(sys.argv[1] if len(sys.argv) > 1 else "build/sample.tar")
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_docker_archive(sample_image(), dest)
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
