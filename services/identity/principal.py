"""The authenticated person, built from a verified access token only."""

from __future__ import annotations

import re
import uuid
from typing import Any

import msgspec

ROLES = ("dept-admin", "planner", "inspector", "reviewer", "county-overseer")
ROLE_LABELS = {
    "dept-admin": "部门管理员",
    "planner": "计划制定",
    "inspector": "执法检查",
    "reviewer": "审核",
    "county-overseer": "县级监督",
}
WRITE_ROLES = frozenset({"dept-admin", "planner", "inspector", "reviewer"})
_REALM = re.compile(r"/realms/county-(\d{6})$")


class Principal(msgspec.Struct, frozen=True):
    user_id: uuid.UUID
    username: str
    name: str
    region_code: str
    departments: tuple[str, ...]  # department codes = Keycloak organization aliases
    groups: tuple[str, ...]  # full group paths, "/<department code>/<section code>"
    roles: frozenset[str]
    active_department: str | None = None

    @property
    def is_overseer(self) -> bool:
        return "county-overseer" in self.roles

    def has_any_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    def sections_in(self, department_code: str) -> tuple[str, ...]:
        prefix = f"/{department_code}/"
        return tuple(
            g[len(prefix) :] for g in self.groups if g.startswith(prefix) and "/" not in g[len(prefix) :]
        )

    def with_active(self, department_code: str | None) -> Principal:
        return msgspec.structs.replace(self, active_department=department_code)


def region_from_issuer(issuer: str) -> str:
    match = _REALM.search(issuer.rstrip("/"))
    if not match:
        raise ValueError(f"issuer {issuer!r} is not a county realm (…/realms/county-<行政区划代码>)")
    return match.group(1)


def organizations_from_claim(claim: Any) -> tuple[str, ...]:
    """Keycloak emits a list of aliases, or a mapping alias → attributes when ids/attributes are added."""
    if claim is None:
        return ()
    if isinstance(claim, str):
        return (claim,)
    if isinstance(claim, dict):
        return tuple(sorted(str(k) for k in claim))
    if isinstance(claim, list):
        return tuple(sorted(str(x) for x in claim))
    return ()


def principal_from_claims(claims: dict[str, Any], region_code: str) -> Principal:
    roles = frozenset(r for r in (claims.get("realm_access") or {}).get("roles", []) if r in ROLES)
    # Chinese names read family name first; Keycloak's `name` claim is "given family".
    family, given = claims.get("family_name") or "", claims.get("given_name") or ""
    name = (
        f"{family}{given}"
        if family and given
        else claims.get("name") or claims.get("preferred_username") or ""
    )
    return Principal(
        user_id=uuid.UUID(str(claims["sub"])),
        username=str(claims.get("preferred_username") or ""),
        name=str(name),
        region_code=region_code,
        departments=organizations_from_claim(claims.get("organization")),
        groups=tuple(sorted(str(g) for g in claims.get("groups") or [])),
        roles=roles,
    )
