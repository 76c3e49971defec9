"""Provisioning of departments into Keycloak: one Organization per department, one group per section.

Idempotent: every step looks up what exists and creates only what is missing, so running it again (or from the
re-sync job) repairs drift — a deleted section group, a missing organization, an admin no longer a member — without
duplicating anything. All calls are python-keycloak's async ``a_*`` methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakGetError

from services.identity.oidc import split_issuer
from shared.settings import OIDCSettings


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def note(self, created: bool, what: str) -> None:
        (self.created if created else self.unchanged).append(what)


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    sections: list[tuple[str, str]]  # (code, Chinese name)
    admin_username: str | None = None


def admin_client(settings: OIDCSettings) -> tuple[KeycloakAdmin, KeycloakOpenIDConnection]:
    if not settings.admin_client_secret:
        raise RuntimeError("SPOTCHECK_OIDC_ADMIN_CLIENT_SECRET is required for provisioning")
    base, realm = split_issuer(settings.internal_url or settings.issuer)
    connection = KeycloakOpenIDConnection(
        server_url=base + "/",
        realm_name=realm,
        client_id=settings.admin_client_id,
        client_secret_key=settings.admin_client_secret,
        grant_type="client_credentials",
    )
    return KeycloakAdmin(connection=connection), connection


def _domain(code: str) -> str:
    # Keycloak organizations carry an email domain; departments have none of their own in SSO, so use a reserved one.
    return f"{code}.spotcheck.invalid"


async def _organization(admin: KeycloakAdmin, spec: DepartmentSpec, report: SyncReport) -> str:
    for org in await admin.a_get_organizations({"search": spec.code}):
        if org.get("alias") == spec.code:
            if org.get("name") != spec.name:
                await admin.a_update_organization(org["id"], {**org, "name": spec.name})
                report.note(True, f"organization {spec.code} renamed")
            else:
                report.note(False, f"organization {spec.code}")
            return str(org["id"])
    org_id = await admin.a_create_organization(
        {
            "name": spec.name,
            "alias": spec.code,
            "enabled": True,
            "domains": [{"name": _domain(spec.code)}],
            "attributes": {"spotcheck.department_code": [spec.code]},
        }
    )
    report.note(True, f"organization {spec.code}")
    assert org_id
    return org_id


async def _group(
    admin: KeycloakAdmin, path: str, name: str, display: str, parent: str | None, report: SyncReport
) -> str:
    try:
        group = await admin.a_get_group_by_path(path)
        report.note(False, f"group {path}")
        return str(group["id"])
    except KeycloakGetError:
        pass
    await admin.a_create_group({"name": name, "attributes": {"display_name": [display]}}, parent=parent)
    report.note(True, f"group {path}")
    return str((await admin.a_get_group_by_path(path))["id"])


async def sync_department(admin: KeycloakAdmin, spec: DepartmentSpec) -> SyncReport:
    report = SyncReport()
    org_id = await _organization(admin, spec, report)
    top = await _group(admin, f"/{spec.code}", spec.code, spec.name, None, report)
    section_ids = {}
    for code, name in spec.sections:
        section_ids[code] = await _group(admin, f"/{spec.code}/{code}", code, name, top, report)
    if spec.admin_username:
        user_id = await admin.a_get_user_id(spec.admin_username)
        if user_id is None:
            raise LookupError(f"Keycloak user {spec.admin_username!r} not found")
        members = {m["id"] for m in await admin.a_get_organization_members(org_id)}
        if user_id not in members:
            await admin.a_organization_user_add(user_id, org_id)
        report.note(user_id not in members, f"member {spec.admin_username}")
        roles = {r["name"] for r in await admin.a_get_realm_roles_of_user(user_id)}
        if "dept-admin" not in roles:
            await admin.a_assign_realm_roles(user_id, [await admin.a_get_realm_role("dept-admin")])
        report.note("dept-admin" not in roles, f"role dept-admin for {spec.admin_username}")
        if spec.sections:
            await admin.a_group_user_add(user_id, section_ids[spec.sections[0][0]])
    return report
