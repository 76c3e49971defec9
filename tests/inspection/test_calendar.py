"""The official holiday calendar: one for the whole platform, loaded by operators (``spotcheck calendar``).

Every department's disclosure deadlines are counted on it, so no department may change it: not through the API, and
not with raw SQL as the app role (migration 0056). Departments read it (API and page)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.federation.test_joint_results import fetch
from tests.inspection.conftest import admin_fetch
from tests.planning.conftest import as_user, http  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
YEAR = 2097


def _cli(base_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SPOTCHECK_")}, **base_env}
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", "calendar", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _write(path: Path, body: Any) -> str:
    path.write_text(body if isinstance(body, str) else json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _stored(db_urls: dict[str, str]) -> list[tuple[str, bool]]:
    rows = admin_fetch(
        db_urls,
        "SELECT day::text, is_workday FROM calendar_days WHERE extract(year FROM day) = $1 ORDER BY day",
        YEAR,
    )
    return [(r["day"], r["is_workday"]) for r in rows]


def test_departments_cannot_change_the_calendar(as_user: Any, db_urls: dict[str, str]) -> None:  # noqa: F811
    admin = as_user("yjj-admin")
    refused = admin.post(f"/api/calendar/{YEAR}", {"holidays": [f"{YEAR}-01-01"], "workdays": []})
    assert refused.status_code == 405
    assert admin.get(f"/api/calendar/{YEAR}").json()["loaded"] is False
    # Raw SQL as the app role, in a department's scope: refused by privileges, whatever the scope.
    tenant = admin_fetch(db_urls, "SELECT id FROM departments WHERE code = '130528-yjj'")[0]["id"]
    for sql in (
        f"INSERT INTO calendar_days (day, is_workday, loaded_by) VALUES ('{YEAR}-01-02', false, 'x')",
        f"INSERT INTO calendar_years (year, loaded_by) VALUES ({YEAR}, 'x')",
        "UPDATE calendar_days SET is_workday = NOT is_workday",
        "DELETE FROM calendar_days",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            fetch(db_urls["runtime"], sql, tenant=tenant)
    assert (
        fetch(db_urls["runtime"], "SELECT count(*) FROM calendar_days", tenant=tenant)[0][0] >= 0
    )  # still readable
    assert _stored(db_urls) == []


def test_operators_load_a_year_from_a_file(
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
    base_env: dict[str, str],
    tmp_path: Path,
) -> None:
    # Bad files are refused with the field and the reason, and change nothing.
    bad = {
        "other year": ({"holidays": [f"{YEAR - 1}-12-31"]}, "holidays[0]"),
        "both": ({"holidays": [f"{YEAR}-10-01"], "workdays": [f"{YEAR}-10-01"]}, "workdays"),
        "not a date": ({"holidays": ["十月一日"]}, "$.holidays[0]"),
        "unknown field": ({"holidays": [], "weekends": []}, "weekends"),
        "not JSON": ("holidays: 10-01", "not JSON"),
    }
    for name, (body, said) in bad.items():
        done = _cli(base_env, str(YEAR), "--file", _write(tmp_path / f"{name}.json", body))
        assert done.returncode == 2 and said in done.stderr, (name, done.stderr)
    out_of_range = _cli(base_env, "1999", "--file", _write(tmp_path / "1999.json", {"holidays": []}))
    assert out_of_range.returncode == 2 and "year: 年份应在 2000–2100 之间" in out_of_range.stderr
    assert _cli(base_env, "2101").returncode == 2
    missing = _cli(base_env, str(YEAR), "--file", str(tmp_path / "missing.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert _stored(db_urls) == []

    schedule = {
        "holidays": [f"{YEAR}-10-01", f"{YEAR}-10-02", f"{YEAR}-10-03"],
        "workdays": [f"{YEAR}-09-29"],
        "note": "国办发明电〔2096〕7号",
    }
    loaded = _cli(base_env, str(YEAR), "--file", _write(tmp_path / "ok.json", schedule), "--by", "运维 李明")
    assert loaded.returncode == 0, loaded.stderr
    assert "3 holidays, 1 make-up working days" in loaded.stdout
    assert _stored(db_urls) == [
        (f"{YEAR}-09-29", True),
        (f"{YEAR}-10-01", False),
        (f"{YEAR}-10-02", False),
        (f"{YEAR}-10-03", False),
    ]
    view = as_user("xf-admin").get(f"/api/calendar/{YEAR}").json()  # every department reads the same calendar
    assert view["loaded"] and view["loaded_by"] == "运维 李明" and view["workdays"] == [f"{YEAR}-09-29"]

    # Loading the year again replaces it (a corrected notice), it does not add to it.
    fixed = {"holidays": [f"{YEAR}-10-01"], "workdays": []}
    assert _cli(base_env, str(YEAR), "--file", _write(tmp_path / "fixed.json", fixed)).returncode == 0
    assert _stored(db_urls) == [(f"{YEAR}-10-01", False)]
    shown = _cli(base_env, str(YEAR))
    assert shown.returncode == 0 and json.loads(shown.stdout)["holidays"] == [f"{YEAR}-10-01"]
    assert json.loads(shown.stdout)["loaded_by"] == "平台运维"
