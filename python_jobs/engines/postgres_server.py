"""A throwaway PostgreSQL server on 127.0.0.1 for `make test-engines` and the engine tests.

Uses the server binaries of the Debian `postgresql` package (found under /usr/lib/postgresql/*/bin); the data
directory lives in a temp folder and is deleted on stop. As root (CI here) the server runs as the `postgres`
system user, which the package creates, because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

USER = "churn"
PASSWORD = "churn"  # a throwaway server on loopback only
DATABASE = "churn"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed (or cannot run here)."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str = USER
    password: str = PASSWORD
    dbname: str = DATABASE
    pid: int = 0  # the postmaster's (pg_ctl detaches it from the process that started it)

    def env(self) -> dict[str, str]:
        """The variables profiles.yml's `postgres` target reads."""
        return {
            "CHURN_PG_HOST": self.host,
            "CHURN_PG_PORT": str(self.port),
            "CHURN_PG_USER": self.user,
            "CHURN_PG_PASSWORD": self.password,
            "CHURN_PG_DATABASE": self.dbname,
        }


def server_bin_dir() -> Path:
    """The newest installed PostgreSQL server's bin folder."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        found = shutil.which("pg_ctl")
        if found:
            return Path(found).parent
        raise PostgresUnavailable(
            "PostgreSQL server binaries not found (no pg_ctl). Install them: apt-get install -y postgresql"
        )
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    if shutil.which("runuser") is None:
        raise PostgresUnavailable("running as root without runuser: cannot start PostgreSQL as user postgres")
    return ["runuser", "-u", "postgres", "--", *args]


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise PostgresUnavailable(
            f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-800:]}"
        )


@contextlib.contextmanager
def throwaway_postgres(startup_timeout_s: float = 60.0) -> Iterator[PostgresServer]:
    """Start an empty server with database and user `churn`; stop it and delete its files on exit."""
    bindir = server_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="churn-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        shutil.chown(pwfile, "postgres")
    port = _free_port()
    try:
        _run(
            _as_server_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    USER,
                    "-A",
                    "scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            )
        )
        # fsync off and small buffers: a test server whose data is thrown away.
        options = (
            f"-h 127.0.0.1 -p {port} -k {sock} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run(
            _as_server_user(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(root / "log"),
                    "-w",
                    "-t",
                    str(int(startup_timeout_s)),
                    "start",
                ]
            )
        )
        pid = int((data / "postmaster.pid").read_text().split()[0])
        server = PostgresServer("127.0.0.1", port, pid=pid)
        _create_database(server)
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


def _create_database(server: PostgresServer) -> None:
    import psycopg2  # dbt-postgres's driver

    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg2.connect(
                host=server.host,
                port=server.port,
                user=server.user,
                password=server.password,
                dbname="postgres",
            )
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"create database {server.dbname}")
    conn.close()
