"""The authenticated person (``shared.context.Principal``), built from a verified access token only."""

from __future__ import annotations

import re
import uuid
from typing import Any

from shared.context import ROLES, Principal

_REALM = re.compile(r"/realms/county-(\d{6})$")


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
