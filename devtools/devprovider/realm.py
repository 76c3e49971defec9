"""Load a Keycloak 26 realm export into typed, validated structs.

The dev provider reads the very same file that real Keycloak imports, so the demo's users,
departments (organizations) and sections (groups) cannot drift from production's realm.
Parsing is lenient about fields Keycloak adds (unknown keys are ignored) but strict about
references between users, groups, roles and organizations: a typo there would silently give
a demo user the wrong tenant, which is exactly what the demo is meant to show correctly.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import msgspec

from . import export

# Roles Keycloak creates in every realm; a realm export may reference them without listing them.
_BUILTIN_ROLES = frozenset({"offline_access", "uma_authorization"})
_REALM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class RealmFileError(ValueError):
    """The realm file is unreadable or internally inconsistent."""


class User(msgspec.Struct, frozen=True):
    id: str
    username: str
    first_name: str
    last_name: str
    email: str
    email_verified: bool
    enabled: bool
    password: str | None
    realm_roles: tuple[str, ...]  # composites expanded, default role included
    client_roles: dict[str, tuple[str, ...]]
    groups: tuple[str, ...]
    organizations: tuple[str, ...]

    @property
    def full_name(self) -> str:
        # Same rule as Keycloak's full-name mapper ("first last"), so the demo shows what
        # production will show.
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class Client(msgspec.Struct, frozen=True):
    client_id: str
    secret: str | None
    enabled: bool
    public: bool
    bearer_only: bool
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    standard_flow: bool
    direct_access_grants: bool
    service_accounts: bool
    audiences: tuple[str, ...]  # from the client's oidc-audience-mapper entries
    resolve_audience: bool  # "roles" scope: clients the user has roles in join `aud`
    token_scopes: tuple[str, ...]  # default client scopes that show up in the `scope` claim
    optional_scopes: tuple[str, ...]


class Organization(msgspec.Struct, frozen=True):
    alias: str
    name: str
    member_ids: frozenset[str]


class Realm(msgspec.Struct, frozen=True):
    name: str
    display_name: str
    group_paths: frozenset[str]
    users: dict[str, User]  # by id
    clients: dict[str, Client]  # by clientId
    organizations: dict[str, Organization]  # by alias
    service_account_ids: dict[str, str]  # clientId -> service-account user id

    @property
    def default_role(self) -> str:
        return f"default-roles-{self.name}"

    def user_by_username(self, username: str) -> User | None:
        # Keycloak stores usernames lower-cased, so login is case-insensitive.
        # loginWithEmailAllowed is on by default, so the e-mail address works too.
        wanted = username.strip().lower()
        if not wanted:
            return None
        return next((u for u in self.users.values() if wanted in (u.username, u.email.lower())), None)

    def bare_user(self, user_id: str, username: str) -> User:
        """A role-less stand-in, e.g. for a service account the realm file does not list."""
        return User(
            id=user_id,
            username=username,
            first_name="",
            last_name="",
            email="",
            email_verified=False,
            enabled=False,
            password=None,
            realm_roles=(self.default_role, *sorted(_BUILTIN_ROLES)),
            client_roles={},
            groups=(),
            organizations=(),
        )

    def service_account_id(self, client_id: str) -> str:
        found = self.service_account_ids.get(client_id)
        return found or str(uuid.uuid5(uuid.NAMESPACE_URL, f"realm:{self.name}:service-account:{client_id}"))


def _client(c: export.Client, hidden_scopes: set[str]) -> Client:
    audiences = [
        str(m.config.get("included.client.audience") or m.config.get("included.custom.audience"))
        for m in c.protocol_mappers
        if m.protocol_mapper == "oidc-audience-mapper"
        and m.config.get("access.token.claim", "true") == "true"
    ]
    # No defaultClientScopes in the file: assume Keycloak's defaults that reach `scope`.
    defaults = c.default_client_scopes if c.default_client_scopes is not None else ["profile", "email"]
    direct = c.direct_access_grants_enabled
    return Client(
        client_id=c.client_id,
        secret=c.secret,
        enabled=c.enabled,
        public=c.public_client,
        bearer_only=c.bearer_only,
        redirect_uris=tuple(c.redirect_uris),
        post_logout_redirect_uris=export.post_logout_uris(c),
        standard_flow=c.standard_flow_enabled,
        # Lenient default: public CLI-style clients get the password grant unless switched off.
        direct_access_grants=direct if direct is not None else c.public_client,
        service_accounts=c.service_accounts_enabled,
        audiences=tuple(a for a in audiences if a and a != "None"),
        resolve_audience="roles" in defaults,
        token_scopes=tuple(s for s in defaults if s not in hidden_scopes),
        optional_scopes=tuple(s for s in c.optional_client_scopes if s not in hidden_scopes),
    )


def _expand(roles: list[str], composites: dict[str, list[str]]) -> tuple[str, ...]:
    """Roles plus everything their composites grant, first-seen order, no duplicates."""
    seen: dict[str, None] = {}
    stack = list(reversed(roles))
    while stack:
        role = stack.pop()
        if role not in seen:
            seen[role] = None
            stack.extend(reversed(composites.get(role, [])))
    return tuple(seen)


def parse_realm(data: bytes) -> Realm:
    """Parse and cross-check a realm export; raise RealmFileError listing every problem."""
    try:
        raw = msgspec.json.decode(data, type=export.RealmExport)
    except msgspec.ValidationError as exc:
        raise RealmFileError(f"realm file does not match the Keycloak export shape: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise RealmFileError(f"realm file is not valid JSON: {exc}") from exc

    problems: list[str] = []
    if not _REALM_NAME.match(raw.realm):
        problems.append(f"realm name {raw.realm!r} is not a safe identifier")
    default_role = f"default-roles-{raw.realm}"
    # Keycloak creates the default role with these composites unless the file defines it.
    composites = {default_role: sorted(_BUILTIN_ROLES)}
    composites.update({r.name: r.composites.realm for r in raw.roles.realm if r.composites})
    roles = frozenset(r.name for r in raw.roles.realm) | _BUILTIN_ROLES | {default_role}
    paths = export.group_paths(raw.groups)

    by_name: dict[str, export.User] = {}
    ids: dict[str, str] = {}
    service_accounts: dict[str, str] = {}
    for u in raw.users:
        name = u.username.lower()
        if name in by_name:
            problems.append(f"duplicate username {name!r}")
        by_name[name] = u
        # Keycloak would invent random ids; a stable one keeps `sub` constant across restarts.
        uid = u.id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"realm:{raw.realm}:user:{name}"))
        if uid in ids.values():
            problems.append(f"duplicate user id {uid!r}")
        ids[name] = uid
        if u.service_account_client_id:
            service_accounts[u.service_account_client_id] = uid
        problems += [f"user {name!r}: unknown group {g!r}" for g in u.groups if g not in paths]
        problems += [f"user {name!r}: unknown realm role {r!r}" for r in u.realm_roles if r not in roles]

    orgs: dict[str, Organization] = {}
    user_orgs: dict[str, list[str]] = {}
    id_to_name = {uid: name for name, uid in ids.items()}
    for o in raw.organizations:
        alias = o.alias or o.name
        if alias in orgs:
            problems.append(f"duplicate organization alias {alias!r}")
        members: set[str] = set()
        for m in o.members:
            key = (m if isinstance(m, str) else m.username or "").lower()
            name = key if key in ids else id_to_name.get("" if isinstance(m, str) else m.id or "")
            if name is None:
                problems.append(f"organization {alias!r}: unknown member {m!r}")
                continue
            members.add(ids[name])
            if o.enabled:
                user_orgs.setdefault(name, []).append(alias)
        orgs[alias] = Organization(alias=alias, name=o.name, member_ids=frozenset(members))

    hidden = {cs.name for cs in raw.client_scopes if cs.attributes.get("include.in.token.scope") == "false"}
    clients: dict[str, Client] = {}
    for c in raw.clients:
        if c.client_id in clients:
            problems.append(f"duplicate client {c.client_id!r}")
        bad = [u for u in c.redirect_uris if "*" in u[:-1]]
        problems += [f"client {c.client_id!r}: '*' only allowed at the end of {u!r}" for u in bad]
        clients[c.client_id] = _client(c, hidden)
    if problems:
        raise RealmFileError("invalid realm file:\n  " + "\n  ".join(problems))

    users: dict[str, User] = {}
    for name, u in by_name.items():
        password = next((c.value for c in u.credentials if c.type == "password" and c.value), None)
        users[ids[name]] = User(
            id=ids[name],
            username=name,
            first_name=u.first_name,
            last_name=u.last_name,
            email=u.email,
            email_verified=u.email_verified,
            # Service-account users must never log in interactively.
            enabled=u.enabled and not u.service_account_client_id,
            password=password,
            realm_roles=_expand([*u.realm_roles, default_role], composites),
            client_roles={k: tuple(v) for k, v in u.client_roles.items()},
            groups=tuple(u.groups),
            organizations=tuple(user_orgs.get(name, ())),
        )
    return Realm(
        name=raw.realm,
        display_name=raw.display_name or raw.realm,
        group_paths=frozenset(paths),
        users=users,
        clients=clients,
        organizations=orgs,
        service_account_ids=service_accounts,
    )


def load_realm(path: Path) -> Realm:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RealmFileError(f"cannot read realm file {path}: {exc}") from exc
    return parse_realm(data)
