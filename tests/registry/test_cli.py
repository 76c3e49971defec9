"""`spotcheck import` from the command line: same import, errors listed per row, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.registry.conftest import csv_bytes, object_row
from tests.support.stack import ROOT


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("SPOTCHECK_")}, **env}
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", "import", *args],
        env=full,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_import(app_env: dict[str, str], tmp_path: Path) -> None:
    rows = [object_row(550000 + i, industry="工贸", tags="一般单位") for i in range(3)]
    rows[2]["industry"] = "餐饮"
    path = tmp_path / "objects.csv"
    path.write_bytes(csv_bytes("objects", rows))
    failed = _run(app_env, "objects", str(path), "--department", "130528-scjg")
    assert failed.returncode == 1, failed.stderr
    assert "第4行\t行业\t行业“餐饮”不在本部门标签字库中" in failed.stderr

    rows[2]["industry"] = "工贸"
    path.write_bytes(csv_bytes("objects", rows))
    done = _run(app_env, "objects", str(path), "--department", "130528-scjg")
    assert done.returncode == 0, done.stderr
    assert "新增3" in done.stdout
    assert _run(app_env, "objects", str(path), "--department", "130528-nope").returncode == 2
