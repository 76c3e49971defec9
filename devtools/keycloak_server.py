"""A local Keycloak for development and contract tests (the distribution itself: ``devtools.keycloak_dist``).

* :class:`KeycloakServer` runs ``kc.sh start-dev --import-realm`` on a free loopback port with its own data
  directory and the county realm from ``deploy/keycloak/``, waits for the realm's discovery document and stops the
  whole process group again.

Each server gets a *run home*: a small directory with its own ``bin/kc.sh``, ``conf/``, ``lib/quarkus`` (the
Quarkus build output, which ``start-dev`` may rewrite) and ``data/`` (H2 database, ``data/import``), while the
168 MB of jars, themes and providers are symlinked to the cached distribution. ``kc.sh`` derives
``kc.home.dir`` from its own location, and ``--import-realm`` only reads ``<home>/data/import``, so this is what
makes parallel runs and per-run realm files possible. After the first successful start the Quarkus build output
is copied back into the cache, so later starts skip the ~15 s re-augmentation.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

from devtools.keycloak_dist import (
    DEFAULT_VERSION,
    KeycloakUnavailableError,
    cache_lock,
    cache_root,
    find_distribution,
    java_executable,
)

REALM = "county-130528"
REPO_ROOT = Path(__file__).resolve().parents[1]
REALM_FILE = REPO_ROOT / "deploy" / "keycloak" / f"realm-{REALM}.json"
_BUILD_MARKER = ".spotcheck-build-options"

#: Build-time options: identical on every start, so the augmentation saved in the cache stays valid.
BUILD_OPTIONS: tuple[str, ...] = ("--health-enabled=true", "--cache=local", "--db=dev-file")
#: JVM flags for fast start-up on a small machine (C1 only, small heap).
JAVA_OPTS_APPEND = "-XX:TieredStopAtLevel=1 -Xshare:auto"
JAVA_HEAP = "-Xms128m -Xmx640m"


class KeycloakStartupError(RuntimeError):
    """The server process was started but did not become ready."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _log_tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _build_fingerprint() -> str:
    return "\n".join(BUILD_OPTIONS) + "\n"


def _make_run_home(dist: Path, run_home: Path) -> None:
    """A per-run Keycloak home: own bin/kc.sh, conf, Quarkus build output and data; shared jars and themes.

    Everything but ``data/`` is rebuilt on each start; ``data/h2`` (the dev-file database) is kept, so a server
    with a caller-given ``data_dir`` keeps its users across restarts (the realm import then skips the existing
    realm). Temporary data directories are deleted on stop.
    """
    if run_home.exists():
        for child in run_home.iterdir():
            if child.name == "data":
                continue
            if child.is_symlink() or child.is_file():
                child.unlink()
            else:
                shutil.rmtree(child)
        shutil.rmtree(run_home / "data" / "import", ignore_errors=True)
    (run_home / "bin").mkdir(parents=True)
    shutil.copy2(dist / "bin" / "kc.sh", run_home / "bin" / "kc.sh")
    shutil.copytree(dist / "conf", run_home / "conf")
    (run_home / "lib").mkdir()
    shutil.copy2(dist / "lib" / "quarkus-run.jar", run_home / "lib" / "quarkus-run.jar")
    for sub in ("quarkus", "app"):
        if (dist / "lib" / sub).exists():
            shutil.copytree(dist / "lib" / sub, run_home / "lib" / sub)
    (run_home / "lib" / "lib").symlink_to(dist / "lib" / "lib")
    for name in ("themes", "providers"):
        (run_home / name).symlink_to(dist / name)
    if (dist / "version.txt").exists():
        shutil.copy2(dist / "version.txt", run_home / "version.txt")
    (run_home / "data" / "import").mkdir(parents=True)


def _save_build(dist: Path, run_home: Path) -> None:
    """Copy the run's Quarkus build output back into the cache so that later starts skip re-augmentation."""
    with cache_lock(dist.parent):
        if (dist / _BUILD_MARKER).is_file() and (dist / _BUILD_MARKER).read_text() == _build_fingerprint():
            return
        staging = dist / "lib" / ".quarkus-new"
        old = dist / "lib" / ".quarkus-old"
        for p in (staging, old):
            if p.exists():
                shutil.rmtree(p)
        shutil.copytree(run_home / "lib" / "quarkus", staging)
        (dist / "lib" / "quarkus").rename(old)
        staging.rename(dist / "lib" / "quarkus")
        shutil.rmtree(old)
        (dist / _BUILD_MARKER).write_text(_build_fingerprint())


class KeycloakServer:
    """``kc.sh start-dev --import-realm`` on loopback, as a context manager.

    ``base_url`` is the server root (``http://127.0.0.1:PORT``), ``issuer`` the county realm's issuer. The
    bootstrap admin of the ``master`` realm is ``admin_username``/``admin_password``.
    """

    def __init__(
        self,
        home: Path | None = None,
        *,
        realm: str = REALM,
        realm_files: Sequence[Path] = (REALM_FILE,),
        data_dir: Path | None = None,
        port: int | None = None,
        admin_username: str = "admin",
        admin_password: str = "admin",
        java_home: Path | None = None,
        startup_timeout: float = 180.0,
        extra_args: Sequence[str] = (),
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.home = home
        self.realm = realm
        self.realm_files = tuple(realm_files)
        self._own_data_dir = data_dir is None
        self.data_dir = data_dir
        self.port = port
        self.management_port: int | None = None
        self.admin_username = admin_username
        self.admin_password = admin_password
        self.java_home = java_home
        self.startup_timeout = startup_timeout
        self.extra_args = tuple(extra_args)
        self.extra_env = dict(extra_env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None

    # --- addresses -------------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("server not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{self.realm}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def management_url(self) -> str:
        return f"http://127.0.0.1:{self.management_port}"

    @property
    def log_path(self) -> Path:
        if self.data_dir is None:
            raise RuntimeError("server not started")
        return self.data_dir / "keycloak.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> KeycloakServer:
        if self.process is not None:
            raise RuntimeError("already started")
        java = java_executable(self.java_home)
        dist = self.home or find_distribution()
        if dist is None:
            raise KeycloakUnavailableError(
                f"Keycloak {DEFAULT_VERSION} is not in {cache_root()}; run fetch_distribution() first"
            )
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="spotcheck-keycloak-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        run_home = self.data_dir / "home"
        with cache_lock(dist.parent):  # do not copy lib/quarkus while another run saves its build
            _make_run_home(dist, run_home)
        for realm_file in self.realm_files:
            shutil.copy2(realm_file, run_home / "data" / "import" / Path(realm_file).name)
        if self.port is None:
            self.port = free_port()
        self.management_port = free_port()
        while self.management_port == self.port:
            self.management_port = free_port()

        env = {
            **os.environ,
            "JAVA": java,
            "KC_BOOTSTRAP_ADMIN_USERNAME": self.admin_username,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password,
            "JAVA_OPTS_KC_HEAP": JAVA_HEAP,
            "JAVA_OPTS_APPEND": JAVA_OPTS_APPEND,
            **self.extra_env,
        }
        args = [
            str(run_home / "bin" / "kc.sh"),
            "start-dev",
            "--import-realm",
            *BUILD_OPTIONS,
            "--http-host=127.0.0.1",
            f"--http-port={self.port}",
            "--http-management-port",
            str(self.management_port),
            "--hostname-strict=false",
            *self.extra_args,
        ]
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                args,
                cwd=run_home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop(remove_data=False)
            raise
        self.startup_seconds = time.monotonic() - started
        if self.home is None or self.home == find_distribution():
            with contextlib.suppress(OSError):
                _save_build(dist, run_home)
        return self

    def _wait_ready(self, started: float) -> None:
        assert self.process is not None
        deadline = started + self.startup_timeout
        with httpx.Client(timeout=5.0) as client:
            while True:
                if self.process.poll() is not None:
                    raise KeycloakStartupError(
                        f"Keycloak exited with {self.process.returncode} during start-up; "
                        f"log {self.log_path}:\n{_log_tail(self.log_path)}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(self.discovery_url).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise KeycloakStartupError(
                        f"Keycloak did not serve {self.discovery_url} within {self.startup_timeout:.0f} s; "
                        f"log {self.log_path}:\n{_log_tail(self.log_path)}"
                    )
                time.sleep(0.5)

    def stop(self, *, remove_data: bool = True, timeout: float = 30.0) -> None:
        """Terminate the whole process group (kc.sh and its JVM) and wait for it."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
        elif proc is not None:
            # kc.sh exited; make sure no JVM of its group is left behind.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        if (
            remove_data
            and self._own_data_dir
            and self.data_dir is not None
            and not os.environ.get("SPOTCHECK_KEYCLOAK_KEEP")
        ):
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> KeycloakServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
