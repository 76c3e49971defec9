"""Session-wide real services: PostgreSQL, Redis, the SSO provider and the app itself (over real HTTP)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared import migrate
from shared.runtime import Runtime
from shared.settings import Settings, load_settings
from tests.support.services import (
    RUNTIME_PASSWORD,
    RUNTIME_ROLE,
    PostgresHandle,
    RedisHandle,
    in_thread,
    run,
    start_postgres,
    start_redis,
)
from tests.support.shuffle import group
from tests.support.stack import SSO, AppServer, start_app, start_dev_sso, stop

pytest_plugins = ["tests.keycloak_fixtures", "tests.support.shuffle"]

TEST_DB = "spotcheck_test"
# pgserver logs at INFO from an atexit hook, after pytest has closed the streams.
logging.getLogger("pgserver").setLevel(logging.WARNING)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests, then fuzzing, last: the cheap tests fail fast, Playwright's loop never precedes an async test,
    and random data written by the fuzzer cannot disturb other tests."""
    items.sort(key=group)


@pytest.fixture(scope="session")
def service_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("services")


@pytest.fixture(scope="session")
def postgres(service_dir: Path) -> Iterator[PostgresHandle]:
    handle = start_postgres(service_dir)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def redis_service(service_dir: Path) -> Iterator[RedisHandle]:
    handle = start_redis(service_dir)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def db_urls(postgres: PostgresHandle) -> dict[str, str]:
    """A migrated database with the seed county loaded; ``admin`` is the owner, ``runtime`` the app role."""
    run(postgres.recreate_database, TEST_DB)
    admin_url = postgres.url(TEST_DB)
    runtime_url = postgres.url(TEST_DB, RUNTIME_ROLE, RUNTIME_PASSWORD)
    in_thread(migrate.upgrade, admin_url, runtime_url)
    return {"admin": admin_url, "runtime": runtime_url}


@pytest.fixture(scope="session")
def base_env(db_urls: dict[str, str], redis_service: RedisHandle) -> dict[str, str]:
    return {
        "SPOTCHECK_MODE": "dev",
        "SPOTCHECK_DATABASE_URL": db_urls["runtime"],
        "SPOTCHECK_ADMIN_DATABASE_URL": db_urls["admin"],
        "SPOTCHECK_REDIS_URL": redis_service.url,
        "SPOTCHECK_OIDC_ISSUER": "http://127.0.0.1:9/realms/county-130528",
    }


@pytest.fixture(scope="session")
def settings(base_env: dict[str, str]) -> Settings:
    return load_settings(base_env)


@pytest.fixture(scope="session")
async def runtime(settings: Settings, db_urls: dict[str, str]) -> AsyncIterator[Runtime]:
    from devtools.demo import seed

    rt = await Runtime.start(settings)
    await seed.load(db_urls["admin"], rt)
    yield rt
    await rt.close()


@pytest.fixture(scope="session")
def sso(keycloak_server: object, service_dir: Path) -> Iterator[SSO]:
    """Real Keycloak when it can run (CI requires it); otherwise the development provider, said loudly."""
    if keycloak_server is not None:
        yield SSO("keycloak", keycloak_server.issuer)  # type: ignore[attr-defined]
        return
    sso, proc = start_dev_sso(service_dir)
    yield sso
    stop(proc)


@pytest.fixture(scope="session")
def app_env(base_env: dict[str, str], sso: SSO, runtime: Runtime) -> dict[str, str]:
    return {
        **base_env,
        "SPOTCHECK_OIDC_ISSUER": sso.issuer,
        "SPOTCHECK_OIDC_DEV_PROVIDER": "1" if sso.kind == "dev" else "0",
    }


@pytest.fixture(scope="session")
def app_server(app_env: dict[str, str], service_dir: Path) -> Iterator[AppServer]:
    server = start_app(service_dir, app_env)
    yield server
    stop(server.proc)
