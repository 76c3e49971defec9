"""Browser login against the county realm: authorization code + PKCE, through python-keycloak.

Browsers are sent to the realm's *public* issuer URL; the backend talks to ``internal_url`` when Keycloak is reached
by another address inside the deployment.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlencode

from keycloak import KeycloakOpenID

from shared.settings import OIDCSettings


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def split_issuer(issuer: str) -> tuple[str, str]:
    base, _, realm = issuer.rstrip("/").rpartition("/realms/")
    return base, realm


class OIDCClient:
    def __init__(self, settings: OIDCSettings) -> None:
        self.settings = settings
        self.public_issuer = settings.issuer
        self.internal_issuer = settings.internal_url or settings.issuer
        base, realm = split_issuer(self.internal_issuer)
        self.keycloak = KeycloakOpenID(
            server_url=base + "/",
            realm_name=realm,
            client_id=settings.client_id,
            client_secret_key=settings.client_secret,
            timeout=15,
        )

    @property
    def jwks_url(self) -> str:
        return f"{self.internal_issuer}/protocol/openid-connect/certs"

    def authorization_url(self, redirect_uri: str, state: str, nonce: str, challenge: str) -> str:
        query = urlencode(
            {
                "client_id": self.settings.client_id,
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": redirect_uri,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{self.public_issuer}/protocol/openid-connect/auth?{query}"

    async def exchange_code(self, code: str, redirect_uri: str, verifier: str) -> dict[str, object]:
        return await self.keycloak.a_token(
            grant_type="authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=verifier
        )

    def end_session_url(self, id_token: str | None, post_logout_redirect_uri: str) -> str:
        params = {"client_id": self.settings.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token:
            params["id_token_hint"] = id_token
        return f"{self.public_issuer}/protocol/openid-connect/logout?{urlencode(params)}"
