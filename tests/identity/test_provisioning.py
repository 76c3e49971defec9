"""Provisioning a department creates its Keycloak Organization, section groups and admin; re-sync repairs drift."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import msgspec
import pytest
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakGetError

from devtools.keycloak_server import KeycloakServer
from services.identity import provisioning
from services.identity.jobs import keycloak_resync
from services.identity.keycloak_sync import DepartmentSpec, admin_client, sync_department
from shared import jobs
from shared.runtime import Runtime
from shared.settings import Settings
from shared.tenancy import system_scope


@pytest.fixture
def kc_settings(settings: Settings, real_keycloak: KeycloakServer) -> Settings:
    return msgspec.structs.replace(
        settings,
        oidc=msgspec.structs.replace(
            settings.oidc, issuer=real_keycloak.issuer, admin_client_secret="spotcheck-provisioner-dev-secret"
        ),
    )


@pytest.fixture
async def admin(kc_settings: Settings) -> AsyncIterator[KeycloakAdmin]:
    client, connection = admin_client(kc_settings.oidc)
    yield client
    await connection.aclose()


async def test_create_sync_is_idempotent_and_repairs_drift(
    admin: KeycloakAdmin, kc_settings: Settings, runtime: Runtime, db_urls: dict[str, str]
) -> None:
    code = f"130528-z{uuid.uuid4().hex[:6]}"
    sections = [("zfjdg", "执法监督股"), ("gtkjg", "国土空间规划股")]
    dept_id = await provisioning.ensure_department(
        db_urls["admin"], code, "130528", "宁晋县自然资源和规划局", "县自然资源和规划局"
    )
    async with runtime.unit_of_work(system_scope(dept_id)) as session:
        assert await provisioning.ensure_sections(session, dept_id, sections) == 2
        assert await provisioning.ensure_sections(session, dept_id, sections) == 0

    spec = DepartmentSpec(code, "宁晋县自然资源和规划局", sections, admin_username="scjg-admin")
    first = await sync_department(admin, spec)
    assert f"organization {code}" in first.created and f"group /{code}/gtkjg" in first.created
    org = next(o for o in await admin.a_get_organizations({"search": code}) if o["alias"] == code)
    try:
        members = {m["username"] for m in await admin.a_get_organization_members(org["id"])}
        assert "scjg-admin" in members
        second = await sync_department(admin, spec)
        assert second.created == []

        # Drift: someone deletes a section group in the Keycloak console; the re-sync job restores it.
        group = await admin.a_get_group_by_path(f"/{code}/gtkjg")
        await admin.a_delete_group(group["id"])
        with pytest.raises(KeycloakGetError):
            await admin.a_get_group_by_path(f"/{code}/gtkjg")
        jobs.set_job_settings(kc_settings)
        async with runtime.unit_of_work(system_scope(dept_id)) as session:
            await keycloak_resync(session, dept_id)
        restored = await admin.a_get_group_by_path(f"/{code}/gtkjg")
        assert restored["attributes"]["display_name"] == ["国土空间规划股"]
        orgs = [o for o in await admin.a_get_organizations({"search": code}) if o["alias"] == code]
        assert len(orgs) == 1
    finally:
        user_id = await admin.a_get_user_id("scjg-admin")
        assert user_id is not None
        await admin.a_organization_user_remove(user_id, org["id"])
        await admin.a_delete_group((await admin.a_get_group_by_path(f"/{code}"))["id"])
        await admin.a_delete_organization(org["id"])


async def test_unknown_admin_user_is_reported(admin: KeycloakAdmin) -> None:
    code = f"130528-y{uuid.uuid4().hex[:6]}"
    with pytest.raises(LookupError, match="nobody-here"):
        await sync_department(admin, DepartmentSpec(code, "宁晋县测试局", [], admin_username="nobody-here"))
    org = next(o for o in await admin.a_get_organizations({"search": code}) if o["alias"] == code)
    await admin.a_delete_group((await admin.a_get_group_by_path(f"/{code}"))["id"])
    await admin.a_delete_organization(org["id"])
