"""Several API processes and workers on one machine, started as the deployment starts them.

The commands and the environment come from ``deploy/compose.yaml`` (the ``api`` and ``worker`` services): the same
``spotcheck serve …`` / ``spotcheck worker`` command lines and the same ``SPOTCHECK_*`` variables, with the hosts
(``postgres``, ``redis``, ``keycloak``) pointed at the test's own servers. One difference, said here: each API
process runs one uvicorn worker (``--workers 1``) so that a test knows which process answered and can stop it; the
compose file runs 2 API replicas of 2 uvicorn workers each.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from devtools.embedded import free_port
from tests.support.stack import ROOT, AppServer, spawn, stop, wait_http

COMPOSE = ROOT / "deploy" / "compose.yaml"


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def compose_command(service: str) -> list[str]:
    """The service's ``spotcheck …`` arguments, without the console-script name."""
    command = [str(part) for part in _compose()["services"][service]["command"]]
    assert command[0] == "spotcheck", command
    return command[1:]


def compose_environment(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in _compose()["services"][service]["environment"].items()}


def with_option(args: list[str], option: str, value: str) -> list[str]:
    """``args`` with ``option``'s value replaced (or the option appended)."""
    out = list(args)
    if option in out:
        out[out.index(option) + 1] = value
    else:
        out += [option, value]
    return out


def deployment_env(local: dict[str, str], service: str = "api") -> dict[str, str]:
    """The compose service's environment with every value that names a compose host or a ``${…}`` secret replaced
    from ``local``. A variable compose sets that ``local`` cannot fill is an error: the test would not run the
    deployment's configuration."""
    env: dict[str, str] = {}
    for key, value in compose_environment(service).items():
        if key in local:
            env[key] = local[key]
        elif "${" in value or any(host in value for host in ("//postgres", "//redis", "//keycloak")):
            if key == "SPOTCHECK_OIDC_INTERNAL_URL":
                continue  # the test's SSO is reached at its public issuer
            raise KeyError(
                f"{key} is set by deploy/compose.yaml ({value!r}) but the test has no value for it"
            )
        else:
            env[key] = value
    extra = set(local) - set(env)
    unknown = {k for k in extra if k.startswith("SPOTCHECK_")} - TEST_ONLY
    if unknown:
        raise KeyError(f"the test sets variables deploy/compose.yaml does not: {sorted(unknown)}")
    env.update({k: local[k] for k in extra})
    return env


# Variables a test may set that the deployment leaves at their defaults.
TEST_ONLY = {
    "SPOTCHECK_OIDC_DEV_PROVIDER",
    "SPOTCHECK_PUBLIC_SEARCH_PER_MINUTE",
    "SPOTCHECK_LARGE_DRAW_THRESHOLD",
    "SPOTCHECK_READ_DATABASE_URL",
    "SPOTCHECK_LOGIN_PER_MINUTE",
}


def _full_env(env: dict[str, str]) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("SPOTCHECK_")}, **env}


def spawn_api(workdir: Path, env: dict[str, str], name: str) -> AppServer:
    """Start one API process with the compose ``api`` command (on a free loopback port, one uvicorn worker)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = with_option(
        with_option(with_option(compose_command("api"), "--host", "127.0.0.1"), "--port", str(port)),
        "--workers",
        "1",
    )
    full_env = {**_full_env(env), "SPOTCHECK_PUBLIC_URL": url}
    log = workdir / f"{name}.log"
    return AppServer(url, full_env, spawn(args, full_env, log), log)


def wait_api(api: AppServer, timeout: float = 90) -> AppServer:
    wait_http(f"{api.url}/health", api.proc, api.log, timeout)
    return api


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def spawn_worker(workdir: Path, env: dict[str, str], name: str) -> Worker:
    log = workdir / f"{name}.log"
    return Worker(name, spawn(compose_command("worker"), _full_env(env), log), log)


def wait_worker(worker: Worker, timeout: float = 90) -> Worker:
    """Until arq has started (its start-up hook ran and it polls the queue)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.proc.poll() is not None:
            raise RuntimeError(
                f"worker {worker.name} exited ({worker.proc.returncode}):\n{worker.log_text()[-4000:]}"
            )
        if "Starting worker for" in worker.log_text():
            return worker
        time.sleep(0.2)
    raise RuntimeError(f"worker {worker.name} did not start in {timeout}s:\n{worker.log_text()[-4000:]}")


def kill(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Send ``sig`` to the process only (not to a process group): what a container runtime does to PID 1."""
    if proc.poll() is None:
        os.kill(proc.pid, sig)


@dataclass
class Cluster:
    workdir: Path
    env: dict[str, str]
    apis: list[AppServer] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # what a test fixture wants to remember about the run
    _spawned: int = 0

    def worker_by_pid(self, pid: int) -> Worker:
        return next(w for w in self.workers if w.pid == pid)

    def live_workers(self) -> list[Worker]:
        return [w for w in self.workers if w.proc.poll() is None]

    def ensure_workers(self, wanted: int = 2) -> list[Worker]:
        """Start as many workers as are missing (all at once) and wait until they run; returns the live ones."""
        started = []
        while len(self.live_workers()) + len(started) < wanted:
            self._spawned += 1
            started.append(spawn_worker(self.workdir, self.env, f"worker-{self._spawned}"))
        self.workers += started
        for worker in started:
            wait_worker(worker)
        return self.live_workers()

    def stop(self) -> None:
        for worker in self.workers:
            stop(worker.proc)
        for api in self.apis:
            stop(api.proc)


def start_cluster(workdir: Path, env: dict[str, str], *, apis: int = 2, workers: int = 2) -> Cluster:
    """Start every process at once, then wait for all (start-up is mostly imports: parallel is quicker)."""
    workdir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(workdir, env)
    try:
        pending_apis = [spawn_api(workdir, env, f"api-{i + 1}") for i in range(apis)]
        cluster.apis = pending_apis
        pending_workers = [spawn_worker(workdir, env, f"worker-{i + 1}") for i in range(workers)]
        cluster.workers = pending_workers
        cluster._spawned = workers
        for api in pending_apis:
            wait_api(api)
        for worker in pending_workers:
            wait_worker(worker)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def get_json(url: str, **kw: Any) -> tuple[int, Any]:
    response = httpx.get(url, timeout=10, **kw)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text
