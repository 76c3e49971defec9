"""App/router factories plus the read-only endpoints (discovery, JWKS, realm info, userinfo).

Everything lives under `/realms/{realm}` exactly as on Keycloak, so the same client settings
(server URL + realm name) work against either. The routes can run as their own Litestar app
(own port) or be added to the SpotCheck app as a Router; `public_base_url` is the URL browsers
and API clients use to reach `/realms/...`, and it alone determines the issuer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, Router, get, route
from litestar.handlers import HTTPRouteHandler

from .browser import build_browser_handlers
from .grants import build_grant_handlers
from .provider import NO_STORE, DevProvider
from .tokens import TokenError


def _discovery(p: DevProvider) -> dict[str, Any]:
    grants = ["authorization_code", "refresh_token", "password", "client_credentials"]
    auth_methods = ["client_secret_basic", "client_secret_post"]
    return {
        "issuer": p.issuer,
        "authorization_endpoint": p.endpoint("auth"),
        "token_endpoint": p.endpoint("token"),
        "introspection_endpoint": p.endpoint("token/introspect"),
        "userinfo_endpoint": p.endpoint("userinfo"),
        "end_session_endpoint": p.endpoint("logout"),
        "jwks_uri": p.endpoint("certs"),
        "grant_types_supported": grants,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "userinfo_signing_alg_values_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "scopes_supported": ["openid", "profile", "email", "roles", "organization", "acr", "basic"],
        "claims_supported": [
            "aud",
            "sub",
            "iss",
            "auth_time",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "email",
            "email_verified",
            "acr",
            "azp",
            "sid",
            "organization",
            "groups",
        ],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": False,
        "authorization_response_iss_parameter_supported": True,
    }


def _read_handlers(p: DevProvider) -> list[HTTPRouteHandler]:
    @get("/")
    async def realm_info() -> dict[str, Any]:
        # python-keycloak's public_key() reads this.
        return {
            "realm": p.realm.name,
            "public_key": p.keys.public_key_b64(),
            "token-service": f"{p.issuer}/protocol/openid-connect",
            "account-service": f"{p.issuer}/account",
            "tokens-not-before": 0,
        }

    @get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        return _discovery(p)

    @get("/protocol/openid-connect/certs")
    async def certs() -> dict[str, Any]:
        return p.keys.public_jwks()

    @route("/protocol/openid-connect/userinfo", http_method=["GET", "POST"], status_code=200)
    async def userinfo(request: Request[Any, Any, Any]) -> Response[Any]:
        header = request.headers.get("authorization", "")
        try:
            if header[:7].lower() != "bearer ":
                raise TokenError("missing bearer token")
            claims = p.tokens.verify_access_token(header[7:].strip())
            sid = claims.get("sid")
            if sid and p.ended.is_ended(str(sid)):
                raise TokenError("session ended")
        except TokenError:
            challenge = f'Bearer realm="{p.realm.name}", error="invalid_token"'
            return Response(
                {"error": "invalid_token", "error_description": "Token verification failed"},
                status_code=401,
                headers={**NO_STORE, "WWW-Authenticate": challenge},
            )
        user = p.realm.users.get(str(claims.get("sub")))
        if user is None:  # service account tokens: answer from the token itself
            keys = ("sub", "preferred_username", "email_verified")
            return Response({k: claims[k] for k in keys if k in claims}, headers=NO_STORE)
        body = {
            "sub": user.id,
            "email_verified": user.email_verified,
            "name": user.full_name,
            "preferred_username": user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "email": user.email,
            "organization": list(user.organizations),
            "groups": list(user.groups),
        }
        return Response(body, headers=NO_STORE)

    return [realm_info, discovery, certs, userinfo]


def create_dev_provider_router(realm_file: Path, data_dir: Path, public_base_url: str) -> Router:
    """All provider routes under `/realms/{realm}`, for adding to an existing Litestar app.

    The opts switch off the host app's auth and CSRF middleware for these routes: the
    provider authenticates its own callers, and OAuth clients cannot send a CSRF header.
    """
    provider = DevProvider(realm_file, data_dir, public_base_url)
    handlers = [*_read_handlers(provider), *build_browser_handlers(provider), *build_grant_handlers(provider)]
    return Router(
        path=provider.base_path,
        route_handlers=handlers,
        opt={"exclude_from_auth": True, "exclude_from_csrf": True},
        include_in_schema=False,
    )


def create_dev_provider_app(realm_file: Path, data_dir: Path, public_base_url: str) -> Litestar:
    """A standalone app serving the realm; run it with uvicorn on its own port."""
    router = create_dev_provider_router(realm_file, data_dir, public_base_url)
    return Litestar(route_handlers=[router], openapi_config=None)
