"""`spotcheck demo`: one command gives a running SpotCheck; SIGTERM stops everything; a second run reuses data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from devtools.embedded import free_port
from tests.support.stack import ROOT


def _start(port: int, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTCHECK_")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--sso",
            "dev",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    """Ready means: the launcher says so (it prints after its own checks) and the API answers /ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if (
                "SpotCheck 已启动" in log.read_text()
                and httpx.get(url + "/ready", timeout=2).status_code == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"demo not ready:\n{log.read_text()}")


def _descendants(proc: subprocess.Popen[bytes]) -> list[psutil.Process]:
    return psutil.Process(proc.pid).children(recursive=True)


def test_demo_runs_stops_and_restarts(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "data"

    log1 = tmp_path / "run1.log"
    proc = _start(port, data_dir, log1)
    try:
        _wait_ready(url, proc, log1)
        home = httpx.get(url + "/")
        assert home.status_code == 200 and "部门工作人员登录" in home.text
        login = httpx.get(url + "/login", follow_redirects=True)
        assert login.status_code == 200 and 'id="username"' in login.text
        children = _descendants(proc)
        assert len(children) >= 3  # API, worker, SSO (+ PostgreSQL, Redis)
        # The seed's plan 2023001 was drawn on the first start: its announcement is public and verifiable.
        draws = httpx.get(url + "/public/draws")
        assert (
            draws.status_code == 200 and "宁晋县应急管理局2023年度危化企业“双随机”内部联合抽查" in draws.text
        )
        # And the seed's joint check 联2023001, naming both departments.
        assert (
            "2023年宁晋县危化行业重大危险源企业部门联合随机抽查" in draws.text
            and "消防救援大队" in draws.text
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    output = log1.read_text()
    assert "已载入演示数据" in output and "已停止" in output
    assert "已按源文件建立应急管理局2023年度抽查计划" in output
    assert "已建立部门联合抽查联2023001" in output, output
    _, alive = psutil.wait_procs(children, timeout=20)
    assert alive == [], f"left running after SIGTERM: {alive}"

    log2 = tmp_path / "run2.log"
    proc = _start(port, data_dir, log2)
    try:
        _wait_ready(url, proc, log2)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    assert proc.returncode == 0
    second = log2.read_text()
    assert "已载入演示数据" not in second  # the data from the first run was reused
    assert "已按源文件建立" not in second  # and the plans are not made twice
    assert "SpotCheck 已启动" in second
