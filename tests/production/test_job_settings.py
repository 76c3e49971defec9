"""Job timing settings: parsed and checked at start-up, applied to the arq worker, and the deployment files state the
same production defaults as the code."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from shared.settings import JobSettings, SettingsError, load_settings
from shared.worker import daily_at, every, worker_settings

BASE = {
    "SPOTCHECK_MODE": "dev",
    "SPOTCHECK_DATABASE_URL": "postgresql://app:pw@db/spotcheck",
    "SPOTCHECK_REDIS_URL": "redis://redis:6379/0",
    "SPOTCHECK_OIDC_ISSUER": "https://sso.example.gov.cn/realms/county-130528",
}
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
JOB_VARIABLES = {
    "SPOTCHECK_JOB_TIMEOUT_SECONDS",
    "SPOTCHECK_JOB_SWEEP_SECONDS",
    "SPOTCHECK_WORKER_SHUTDOWN_GRACE_SECONDS",
    "SPOTCHECK_REMINDER_TIME",
    "SPOTCHECK_JOB_MAX_ATTEMPTS",
}


def test_defaults_and_overrides() -> None:
    assert load_settings(BASE).jobs == JobSettings(600, 30, 90, dt.time(8, 5), 5)
    jobs = load_settings(
        {
            **BASE,
            "SPOTCHECK_JOB_TIMEOUT_SECONDS": "12",
            "SPOTCHECK_JOB_SWEEP_SECONDS": "5",
            "SPOTCHECK_WORKER_SHUTDOWN_GRACE_SECONDS": "0",
            "SPOTCHECK_REMINDER_TIME": "07:30:15",
            "SPOTCHECK_JOB_MAX_ATTEMPTS": "2",
        }
    ).jobs
    assert jobs == JobSettings(12, 5, 0, dt.time(7, 30, 15), 2)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("JOB_TIMEOUT_SECONDS", "ten", "whole number"),
        ("JOB_TIMEOUT_SECONDS", "0", "between 1 and"),
        ("JOB_SWEEP_SECONDS", "7200", "between 1 and 3600"),
        ("WORKER_SHUTDOWN_GRACE_SECONDS", "-1", "between 0 and"),
        ("REMINDER_TIME", "8点", "time of day"),
        ("JOB_MAX_ATTEMPTS", "0", "between 1 and 100"),
    ],
)
def test_bad_values_are_refused_by_name(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=f"SPOTCHECK_{name}.*{message}"):
        load_settings({**BASE, f"SPOTCHECK_{name}": value})


def test_the_worker_uses_them() -> None:
    settings = load_settings(
        {
            **BASE,
            "SPOTCHECK_JOB_TIMEOUT_SECONDS": "42",
            "SPOTCHECK_JOB_SWEEP_SECONDS": "5",
            "SPOTCHECK_WORKER_SHUTDOWN_GRACE_SECONDS": "17",
            "SPOTCHECK_REMINDER_TIME": "23:55",
        }
    )
    config = worker_settings(settings)
    assert (config["job_timeout"], config["job_completion_wait"]) == (42, 17)
    (run_job,) = config["functions"]
    assert run_job.name == "spotcheck_run_job" and run_job.keep_result_s == 0
    crons = {c.name: c for c in config["cron_jobs"]}
    assert crons["cron:sweep_outbox"].second == set(range(0, 60, 5))
    assert (crons["cron:remind_results_due"].hour, crons["cron:remind_results_due"].minute) == ({23}, {55})
    # Later ones wrap past midnight.
    assert (crons["cron:remind_invitations"].hour, crons["cron:remind_invitations"].minute) == ({0}, {15})
    assert all(
        crons[n].unique
        for n in ("cron:remind_results_due", "cron:remind_invitations", "cron:remind_monthly_reports")
    )
    assert config["redis_settings"].retry is not None and config["redis_settings"].retry_on_error


def test_schedule_helpers() -> None:
    assert every(30) == {"second": {0, 30}}
    assert every(300) == {"minute": set(range(0, 60, 5)), "second": {0}}
    assert daily_at(dt.time(8, 5), 10) == {"hour": {8}, "minute": {15}, "second": {0}}


def test_deployment_files_state_the_production_defaults() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    config = next(d for d in yaml.safe_load_all((DEPLOY / "k8s" / "config.yaml").read_text()) if d)["data"]
    for env in (compose["api"]["environment"], compose["worker"]["environment"], config):
        values = {k: str(v) for k, v in env.items() if k in JOB_VARIABLES}
        assert set(values) == JOB_VARIABLES
        assert load_settings({**BASE, **values}).jobs == JobSettings()
    example = (DEPLOY / "env.example").read_text()
    assert JOB_VARIABLES <= set(re.findall(r"SPOTCHECK_[A-Z_]+", example))
    # A stopped worker gets more time from the orchestrator than it gives its running jobs.
    grace = JobSettings().shutdown_grace_seconds
    assert int(str(compose["worker"]["stop_grace_period"]).removesuffix("s")) > grace
    worker = next(d for d in yaml.safe_load_all((DEPLOY / "k8s" / "worker.yaml").read_text()) if d)
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > grace
