"""The dev provider's state and the helpers its HTTP handlers share."""

from __future__ import annotations

import base64
import hmac
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from litestar import Request, Response
from litestar.datastructures import Cookie

from .keys import RealmKeys, load_or_create_realm_keys
from .realm import Client, Realm, User, load_realm
from .sessions import EndedSessions, ExpiringStore, IssuedCode, PendingLogin
from .tokens import ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_SECONDS, SSO_SESSION_SECONDS, TokenService

CODE_SECONDS = 60  # Keycloak accessCodeLifespan
LOGIN_FORM_SECONDS = 1800  # Keycloak accessCodeLifespanLogin
SSO_COOKIE = "DEVKC_SESSION"
BINDING_COOKIE = "DEVKC_AUTH_BINDING"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class ClientAuthError(Exception):
    def __init__(self, error: str, description: str, status: int) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def oauth_error(error: str, description: str, status: int = 400) -> Response[Any]:
    return Response({"error": error, "error_description": description}, status_code=status, headers=NO_STORE)


def redirect(url: str, cookies: list[Cookie] | None = None) -> Response[None]:
    # A plain 302 with Location, so the URL is passed through byte-for-byte.
    return Response(None, status_code=302, headers={"Location": url, **NO_STORE}, cookies=cookies or [])


def add_query(url: str, params: dict[str, str | None]) -> str:
    parts = urlsplit(url)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


_LOOPBACK = ("127.0.0.1", "[::1]", "localhost")


def _without_loopback_port(uri: str) -> str:
    """RFC 8252 §7.3, as Keycloak applies it: a loopback redirect may use any port."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.port is not None and (host in _LOOPBACK or f"[{host}]" in _LOOPBACK):
        netloc = parts.netloc.rsplit(":", 1)[0]
        return urlunsplit(parts._replace(netloc=netloc))
    return uri


def uri_allowed(uri: str, allowed: tuple[str, ...]) -> bool:
    """Keycloak semantics: exact match, or prefix match for a pattern ending in `*`; loopback ports are free."""
    return _uri_allowed(uri, allowed) or _uri_allowed(_without_loopback_port(uri), allowed)


def _uri_allowed(uri: str, allowed: tuple[str, ...]) -> bool:
    for pattern in allowed:
        if pattern.endswith("*") and uri.startswith(pattern[:-1]):
            return True
        if uri == pattern:
            return True
    return False


class DevProvider:
    def __init__(self, realm_file: Path, data_dir: Path, public_base_url: str) -> None:
        self.realm: Realm = load_realm(realm_file)
        self.keys: RealmKeys = load_or_create_realm_keys(data_dir, self.realm.name)
        self.base_path = f"/realms/{self.realm.name}"
        self.issuer = public_base_url.rstrip("/") + self.base_path
        self.secure_cookies = public_base_url.startswith("https://")
        self.tokens = TokenService(self.realm, self.keys, self.issuer)
        self.pending: ExpiringStore[PendingLogin] = ExpiringStore(LOGIN_FORM_SECONDS)
        self.codes: ExpiringStore[IssuedCode] = ExpiringStore(CODE_SECONDS)
        self.ended = EndedSessions(
            data_dir / f"devprovider-{self.realm.name}-ended-sessions.json",
            keep_seconds=max(REFRESH_TOKEN_SECONDS, SSO_SESSION_SECONDS),
        )

    def endpoint(self, suffix: str) -> str:
        return f"{self.issuer}/protocol/openid-connect/{suffix}"

    # --- clients ------------------------------------------------------------------------

    def authenticate_client(self, request: Request[Any, Any, Any], form: dict[str, str]) -> Client:
        """client_secret_basic or client_secret_post; public clients just name themselves."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header[:6].lower() == "basic ":
            try:
                raw_id, _, raw_secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError as exc:
                raise ClientAuthError("invalid_client", "Malformed Basic credentials", 401) from exc
            if client_id and client_id != unquote(raw_id):
                raise ClientAuthError("invalid_client", "client_id does not match credentials", 401)
            client_id, secret = unquote(raw_id), unquote(raw_secret)
        client = self.realm.clients.get(client_id or "")
        if client is None or not client.enabled:
            raise ClientAuthError("invalid_client", "Invalid client or Invalid client credentials", 401)
        if client.bearer_only:
            raise ClientAuthError("invalid_client", "Bearer-only not allowed", 400)
        if client.public:
            return client
        if not client.secret or not secret or not hmac.compare_digest(client.secret, secret):
            raise ClientAuthError("invalid_client", "Invalid client or Invalid client credentials", 401)
        return client

    # --- sessions -----------------------------------------------------------------------

    def new_session_id(self) -> str:
        return str(uuid.uuid4())

    def sso_cookie(self, sid: str, user: User, auth_time: int) -> Cookie:
        payload = f"{sid}.{user.id}.{auth_time}"
        value = f"{payload}.{self.keys.mac('sso', payload)}"
        return self._cookie(SSO_COOKIE, value, SSO_SESSION_SECONDS)

    def clear_sso_cookie(self) -> Cookie:
        return self._cookie(SSO_COOKIE, "", 0)

    def binding_cookie(self, value: str) -> Cookie:
        return self._cookie(BINDING_COOKIE, value, LOGIN_FORM_SECONDS)

    def _cookie(self, key: str, value: str, max_age: int) -> Cookie:
        return Cookie(
            key=key,
            value=value,
            max_age=max_age,
            path=self.base_path + "/",
            httponly=True,
            secure=self.secure_cookies,
            samesite="lax",
        )

    def sso_session(self, request: Request[Any, Any, Any]) -> tuple[str, User, int] | None:
        """The browser's live SSO session as (sid, user, auth_time), if any."""
        raw = request.cookies.get(SSO_COOKIE, "")
        parts = raw.split(".")
        if len(parts) != 4 or not self.keys.verify_mac("sso", ".".join(parts[:3]), parts[3]):
            return None
        sid, user_id, auth_time = parts[0], parts[1], int(parts[2]) if parts[2].isdigit() else 0
        user = self.realm.users.get(user_id)
        if user is None or not user.enabled or self.ended.is_ended(sid):
            return None
        if auth_time + SSO_SESSION_SECONDS <= time.time():
            return None
        return sid, user, auth_time

    def check_password(self, username: str, password: str) -> User | None:
        user = self.realm.user_by_username(username)
        if user is None or user.password is None:
            # Same work either way, so the reply time does not reveal which usernames exist.
            hmac.compare_digest(password.encode(), b"\x00" * len(password.encode()))
            return None
        return user if hmac.compare_digest(user.password.encode(), password.encode()) else None

    # --- token responses ----------------------------------------------------------------

    def token_response(
        self, user: User, client: Client, sid: str, scope: str, nonce: str | None, auth_time: int
    ) -> Response[Any]:
        access = self.tokens.access_token(user, client, sid, scope)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "refresh_expires_in": REFRESH_TOKEN_SECONDS,
            "refresh_token": self.tokens.refresh_token(user, client, sid, scope, auth_time),
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": sid,
            "scope": scope,
        }
        if "openid" in scope.split():
            body["id_token"] = self.tokens.id_token(user, client, sid, nonce, auth_time, access)
        return Response(body, headers=NO_STORE)


def effective_scope(requested: str | None, client: Client) -> str:
    """The `scope` Keycloak reports: openid if asked, the client's default scopes that are
    included in the token scope, and the requested optional ones (unknown ones are ignored)."""
    asked = (requested or "").split()
    out = ["openid"] if "openid" in asked else []
    out += client.token_scopes
    out += [s for s in asked if s in client.optional_scopes or s.startswith("organization:")]
    return " ".join(dict.fromkeys(out))
