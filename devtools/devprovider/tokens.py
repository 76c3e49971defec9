"""Mint and verify tokens with Keycloak 26's layout.

Access and ID tokens are RS256 with the realm `kid`; refresh tokens are HS512 with a separate
key and `typ: Refresh`, exactly the split Keycloak uses. Claims follow AccessToken.java plus
the mappers SpotCheck's realm configures (audience, group membership with full paths,
organization membership).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from jwcrypto import jws, jwt
from jwcrypto.common import JWException

from .keys import RealmKeys
from .realm import Client, Realm, User

ACCESS_TOKEN_SECONDS = 300  # Keycloak accessTokenLifespan default
REFRESH_TOKEN_SECONDS = 1800  # Keycloak ssoSessionIdleTimeout default
SSO_SESSION_SECONDS = 36000  # Keycloak ssoSessionMaxLifespan default
# Client roles Keycloak's default realm role grants every user (via default-roles-<realm>).
DEFAULT_CLIENT_ROLES = {"account": ("manage-account", "manage-account-links", "view-profile")}


class TokenError(Exception):
    """A presented token is malformed, forged, expired or of the wrong type."""


class TokenService:
    def __init__(
        self, realm: Realm, keys: RealmKeys, issuer: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.realm = realm
        self.keys = keys
        self.issuer = issuer
        self._clock = clock

    def now(self) -> int:
        return int(self._clock())

    # --- minting ------------------------------------------------------------------------

    def _sign_rs256(self, claims: dict[str, Any]) -> str:
        token = jwt.JWT(header={"alg": "RS256", "typ": "JWT", "kid": self.keys.kid}, claims=claims)
        token.make_signed_token(self.keys.signing_key)
        return token.serialize()

    def _user_claims(self, user: User) -> dict[str, Any]:
        return {
            "email_verified": user.email_verified,
            "name": user.full_name,
            "preferred_username": user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "email": user.email,
            "organization": list(user.organizations),
            "groups": list(user.groups),
        }

    def _role_claims(self, user: User, client: Client) -> dict[str, Any]:
        """realm_access, resource_access and aud as Keycloak's `roles` scope + audience mappers."""
        resource = {k: list(v) for k, v in DEFAULT_CLIENT_ROLES.items()}
        for cid, roles in user.client_roles.items():
            resource[cid] = list(dict.fromkeys([*resource.get(cid, []), *roles]))
        aud = list(client.audiences)
        if client.resolve_audience:
            aud += [cid for cid in resource if cid != client.client_id]
        claims: dict[str, Any] = {
            "realm_access": {"roles": list(user.realm_roles)},
            "resource_access": {k: {"roles": v} for k, v in resource.items()},
        }
        aud = list(dict.fromkeys(aud))
        if aud:
            # Keycloak writes a one-element aud as a bare string; consumers must accept both.
            claims["aud"] = aud[0] if len(aud) == 1 else aud
        return claims

    def access_token(self, user: User, client: Client, sid: str, scope: str) -> str:
        now = self.now()
        claims: dict[str, Any] = {
            "exp": now + ACCESS_TOKEN_SECONDS,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "iss": self.issuer,
            "sub": user.id,
            "typ": "Bearer",
            "azp": client.client_id,
            "sid": sid,
            "acr": "1",
            "scope": scope,
            **self._role_claims(user, client),
            **self._user_claims(user),
        }
        return self._sign_rs256(claims)

    def id_token(
        self, user: User, client: Client, sid: str, nonce: str | None, auth_time: int, access_token: str
    ) -> str:
        now = self.now()
        digest = hashlib.sha256(access_token.encode()).digest()
        claims: dict[str, Any] = {
            "exp": now + ACCESS_TOKEN_SECONDS,
            "iat": now,
            "auth_time": auth_time,
            "jti": str(uuid.uuid4()),
            "iss": self.issuer,
            "aud": client.client_id,
            "sub": user.id,
            "typ": "ID",
            "azp": client.client_id,
            "sid": sid,
            "at_hash": base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode(),
            "acr": "1",
            **self._user_claims(user),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        return self._sign_rs256(claims)

    def refresh_token(self, user: User, client: Client, sid: str, scope: str, auth_time: int) -> str:
        now = self.now()
        claims = {
            "exp": now + REFRESH_TOKEN_SECONDS,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "iss": self.issuer,
            "aud": self.issuer,  # Keycloak addresses refresh tokens to the realm itself
            "sub": user.id,
            "typ": "Refresh",
            "azp": client.client_id,
            "sid": sid,
            "scope": scope,
            "auth_time": auth_time,
        }
        token = jwt.JWT(header={"alg": "HS512", "typ": "JWT", "kid": self.keys.hmac_kid}, claims=claims)
        token.make_signed_token(self.keys.hmac_key)
        return token.serialize()

    def service_account_token(self, client: Client, scope: str) -> str:
        now = self.now()
        sa_id = self.realm.service_account_id(client.client_id)
        sa_user = self.realm.users.get(sa_id) or self.realm.bare_user(
            sa_id, f"service-account-{client.client_id}"
        )
        claims: dict[str, Any] = {
            "exp": now + ACCESS_TOKEN_SECONDS,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "iss": self.issuer,
            "sub": sa_id,
            "typ": "Bearer",
            "azp": client.client_id,
            "acr": "1",
            "scope": scope,
            **self._role_claims(sa_user, client),
            "client_id": client.client_id,
            "preferred_username": f"service-account-{client.client_id}",
            "email_verified": False,
        }
        return self._sign_rs256(claims)

    # --- verification -------------------------------------------------------------------

    def _decode(self, token: str, alg: str, expected_typ: str, check_exp: bool = True) -> dict[str, Any]:
        key = self.keys.signing_key if alg == "RS256" else self.keys.hmac_key
        try:
            # Pinning `algs` per token type is what stops RS256/HS512 confusion.
            parsed = jwt.JWT(jwt=token, key=key, algs=[alg], check_claims=False)
            claims = json.loads(parsed.claims)
        except (JWException, jws.InvalidJWSSignature, ValueError, TypeError) as exc:
            raise TokenError("invalid token signature or format") from exc
        if not isinstance(claims, dict):
            raise TokenError("token claims are not an object")
        if claims.get("typ") != expected_typ:
            raise TokenError(f"expected a {expected_typ} token")
        if claims.get("iss") != self.issuer:
            raise TokenError("token issued by another realm")
        if check_exp and int(claims.get("exp", 0)) <= self.now():
            raise TokenError("token expired")
        return claims

    def verify_access_token(self, token: str) -> dict[str, Any]:
        return self._decode(token, "RS256", "Bearer")

    def verify_refresh_token(self, token: str) -> dict[str, Any]:
        return self._decode(token, "HS512", "Refresh")

    def verify_id_token_hint(self, token: str) -> dict[str, Any]:
        # Keycloak accepts an expired id_token_hint: logging out an idle user must still work.
        return self._decode(token, "RS256", "ID", check_exp=False)
