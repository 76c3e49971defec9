"""Token verification rules, exercised with a locally minted key so every bad case can be produced exactly.

The end-to-end refusals against the real realm are in ``test_api_auth.py``; here we cover the cases a real
Keycloak will not mint on demand (expired, not yet valid, future iat, missing claims) and the key-cache behaviour.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest
from jwcrypto import jwk, jwt

from services.identity.tokens import JWKSCache, TokenVerifier
from shared.errors import Unauthenticated

ISSUER = "http://sso.test/realms/county-130528"
JWKS_URL = f"{ISSUER}/protocol/openid-connect/certs"


class KeyServer:
    def __init__(self) -> None:
        self.keys = [jwk.JWK.generate(kty="RSA", size=2048, kid="k1")]
        self.hits = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.hits += 1
        keyset = jwk.JWKSet()
        for key in self.keys:
            keyset.add(key)
        return httpx.Response(200, text=keyset.export(private_keys=False))


def mint(key: jwk.JWK, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "00000000-0000-4000-8000-000000000102",
        "aud": ["spotcheck-api", "account"],
        "typ": "Bearer",
        "azp": "spotcheck-cli",
        "exp": now + 300,
        "iat": now,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    token = jwt.JWT(header={"alg": "RS256", "kid": key.key_id, "typ": "JWT"}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


@pytest.fixture
def server() -> KeyServer:
    return KeyServer()


@pytest.fixture
def verifier(server: KeyServer) -> TokenVerifier:
    client = httpx.AsyncClient(transport=httpx.MockTransport(server.handler))
    return TokenVerifier(ISSUER, "spotcheck-api", JWKSCache(JWKS_URL, client=client))


async def test_valid_token_and_cached_keys(verifier: TokenVerifier, server: KeyServer) -> None:
    for _ in range(5):
        claims = await verifier.verify(mint(server.keys[0]))
        assert claims["azp"] == "spotcheck-cli"
    assert server.hits == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"exp": int(time.time()) - 120}, "已过期"),
        ({"exp": None}, "缺少有效期"),
        ({"nbf": int(time.time()) + 600}, "尚未生效"),
        ({"iat": int(time.time()) + 600}, "签发时间"),
        ({"iss": "http://sso.test/realms/county-999999"}, "签发方"),
        ({"typ": "Refresh"}, "类型"),
        ({"typ": "ID"}, "类型"),
        ({"aud": "account"}, "受众"),
        ({"aud": None}, "受众"),
        ({"sub": None}, "用户标识"),
    ],
)
async def test_bad_claims_are_refused(
    verifier: TokenVerifier, server: KeyServer, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(Unauthenticated, match=message):
        await verifier.verify(mint(server.keys[0], **overrides))


async def test_forged_and_unsigned_tokens_are_refused(verifier: TokenVerifier, server: KeyServer) -> None:
    header, payload, signature = mint(server.keys[0]).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "00000000-0000-4000-8000-000000000101"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthenticated, match="签名无效"):
        await verifier.verify(f"{header}.{forged_payload}.{signature}")

    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    with pytest.raises(Unauthenticated, match="算法"):
        await verifier.verify(f"{none_header}.{payload}.")

    hmac_key = jwk.JWK.generate(kty="oct", size=256, kid="k1")
    token = jwt.JWT(header={"alg": "HS256", "kid": "k1"}, claims=claims)
    token.make_signed_token(hmac_key)
    with pytest.raises(Unauthenticated, match="算法"):
        await verifier.verify(token.serialize())

    stranger = jwk.JWK.generate(kty="RSA", size=2048, kid="k1")
    with pytest.raises(Unauthenticated, match="签名无效"):
        await verifier.verify(mint(stranger))

    for garbage in ("", "abc", "a.b", "a.b.c.d", "###.###.###"):
        with pytest.raises(Unauthenticated):
            await verifier.verify(garbage)


async def test_key_rotation_refetches_once_for_unknown_kid(
    verifier: TokenVerifier, server: KeyServer
) -> None:
    await verifier.verify(mint(server.keys[0]))
    new_key = jwk.JWK.generate(kty="RSA", size=2048, kid="k2")
    server.keys.append(new_key)
    verifier.jwks._fetched_at -= 60  # the last fetch is older than the refetch interval
    assert (await verifier.verify(mint(new_key)))["sub"]
    assert server.hits == 2
    # An unknown kid right after a refetch does not hammer the key endpoint.
    with pytest.raises(Unauthenticated, match="密钥未知"):
        await verifier.verify(mint(jwk.JWK.generate(kty="RSA", size=2048, kid="k3")))
    assert server.hits == 2
