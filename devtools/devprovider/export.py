"""The raw Keycloak 26 realm-export shape, reduced to the fields the dev provider reads.

Unknown keys are ignored, so a full `kc.sh export` file and a hand-written one both load.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Credential(msgspec.Struct, rename="camel"):
    type: str = "password"
    value: str | None = None


class User(msgspec.Struct, rename="camel"):
    username: str
    id: str | None = None
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    email_verified: bool = False
    enabled: bool = True
    credentials: list[Credential] = []
    realm_roles: list[str] = []
    client_roles: dict[str, list[str]] = {}
    groups: list[str] = []
    service_account_client_id: str | None = None


class Group(msgspec.Struct, rename="camel"):
    name: str
    path: str | None = None
    sub_groups: list[Group] = []


class Composites(msgspec.Struct):
    realm: list[str] = []


class Role(msgspec.Struct):
    name: str
    composites: Composites | None = None


class Mapper(msgspec.Struct, rename="camel"):
    protocol_mapper: str = ""
    config: dict[str, Any] = {}


class ClientScope(msgspec.Struct):
    name: str
    attributes: dict[str, Any] = {}


class Roles(msgspec.Struct):
    realm: list[Role] = []


class Client(msgspec.Struct, rename="camel"):
    client_id: str
    secret: str | None = None
    enabled: bool = True
    public_client: bool = False
    bearer_only: bool = False
    redirect_uris: list[str] = []
    standard_flow_enabled: bool = True
    direct_access_grants_enabled: bool | None = None
    service_accounts_enabled: bool = False
    attributes: dict[str, Any] = {}
    protocol_mappers: list[Mapper] = []
    default_client_scopes: list[str] | None = None
    optional_client_scopes: list[str] = []


class Member(msgspec.Struct):
    username: str | None = None
    id: str | None = None


class Organization(msgspec.Struct):
    name: str
    alias: str | None = None
    enabled: bool = True
    # Keycloak 26 exports members as user-like objects; plain username strings are accepted too.
    members: list[Member | str] = []


class RealmExport(msgspec.Struct, rename="camel"):
    realm: str
    display_name: str | None = None
    roles: Roles = msgspec.field(default_factory=Roles)
    groups: list[Group] = []
    users: list[User] = []
    clients: list[Client] = []
    client_scopes: list[ClientScope] = []
    organizations: list[Organization] = []


def group_paths(groups: list[Group], parent: str = "") -> set[str]:
    """Full group paths ("/parent/child"), the form users' `groups` and the token use."""
    out: set[str] = set()
    for group in groups:
        path = f"{parent}/{group.name}"
        out |= {path} | group_paths(group.sub_groups, path)
    return out


def post_logout_uris(raw: Client) -> tuple[str, ...]:
    # Keycloak keeps these as one "##"-separated attribute; "+" means "same as redirectUris".
    # When absent we fall back to redirectUris, which is what the admin console pre-fills.
    value = raw.attributes.get("post.logout.redirect.uris")
    if not isinstance(value, str) or not value.strip():
        return tuple(raw.redirect_uris)
    uris: list[str] = []
    for part in value.split("##"):
        uris.extend(raw.redirect_uris if part == "+" else [part])
    return tuple(u for u in uris if u)
