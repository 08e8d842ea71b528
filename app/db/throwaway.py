"""A throwaway PostgreSQL cluster in a temporary folder, run as a user without privileges: for
the test session, the benchmarks, and trying replicas out on one machine.

    cluster = Cluster(find_binaries()).start()
    url = cluster.new_database()      # postgresql://digits@/test_1?host=/tmp/digits-pg-…
    ...
    cluster.stop()                    # and the folder is gone

The binaries are Debian's (``python3 dev.py test`` installs the ``postgresql`` package when they
are missing). PostgreSQL refuses to run as root, so when the tests run as root the cluster runs
as the ``postgres`` user the package creates (or ``nobody``). It listens on no TCP port at all,
only on a Unix socket inside its own folder, so sessions running side by side never meet, and
it runs without fsync (its data is thrown away at the end). Each test that asks gets a database
of its own (``new_database``, about 0.2 s).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

SUPERUSER = "digits"


def find_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian keeps them side by side)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _unprivileged_user() -> pwd.struct_passwd | None:
    """Who runs the server: this user, unless it is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root, and there is no postgres or nobody user to run as")


class Cluster:
    """initdb + pg_ctl in a temporary folder; ``url(name)`` for a database in it."""

    def __init__(self, binaries: Path):
        self.bin = binaries
        self.root = Path(tempfile.mkdtemp(prefix="digits-pg-"))
        self.data = self.root / "data"
        self.user = _unprivileged_user()
        self._names = itertools.count(1)
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.root.chmod(0o755)  # the tests (root, or this user) connect through the socket here

    def _run(self, *args: str) -> None:
        ids = {} if self.user is None else {"user": self.user.pw_uid, "group": self.user.pw_gid}
        subprocess.run(
            [str(a) for a in args],
            cwd=self.root,
            check=True,
            capture_output=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
            **ids,
        )

    def start(self) -> Cluster:
        initdb = ["-D", self.data, "-U", SUPERUSER, "-A", "trust", "--no-sync", "-E", "UTF8"]
        self._run(self.bin / "initdb", *initdb, "--locale=C")
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.root}' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        log = self.root / "server.log"
        self._run(
            self.bin / "pg_ctl",
            "-D",
            self.data,
            "-l",
            log,
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )
        with self.admin() as connection:
            connection.execute("CREATE DATABASE template_digits")
        return self

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.root}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def new_database(self) -> str:
        """A fresh, empty database's URL."""
        name = f"test_{next(self._names)}"
        with self.admin() as connection:
            connection.execute(f"CREATE DATABASE {name} TEMPLATE template_digits")
        return self.url(name)

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.root / "server.log").read_text(errors="replace")
        return ""

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
