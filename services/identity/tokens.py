"""Access-token verification against the realm's JWKS (cached; refetched on an unknown ``kid``, rate-limited).

Checks, in order: compact JWS with RS256 only (no ``none``, no HMAC), known key, signature, ``iss``, ``exp`` and
``nbf`` (with a small leeway), ``typ == "Bearer"`` (refresh and ID tokens are refused), and the API audience.
We deliberately do not use python-keycloak's ``decode_token(check_claims=...)``: it skips ``exp`` unless listed.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from shared.errors import Unauthenticated

LEEWAY_SECONDS = 30
REFETCH_MIN_INTERVAL = 10.0


class JWKSCache:
    def __init__(self, jwks_url: str, client: httpx.AsyncClient | None = None) -> None:
        self.jwks_url = jwks_url
        self._client = client
        self._keys: jwk.JWKSet | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _fetch(self) -> None:
        client = self._client or httpx.AsyncClient(timeout=10)
        try:
            response = await client.get(self.jwks_url)
            response.raise_for_status()
            self._keys = jwk.JWKSet.from_json(response.text)
            self._fetched_at = time.monotonic()
        finally:
            if self._client is None:
                await client.aclose()

    async def key_for(self, kid: str | None) -> jwk.JWK | None:
        if self._keys is None or (kid and self._keys.get_key(kid) is None):
            async with self._lock:
                stale = time.monotonic() - self._fetched_at >= REFETCH_MIN_INTERVAL
                if self._keys is None or (stale and kid and self._keys.get_key(kid) is None):
                    try:
                        await self._fetch()
                    except httpx.HTTPError as exc:
                        if self._keys is None:
                            raise Unauthenticated("无法获取身份认证服务的签名密钥") from exc
        if self._keys is None:
            return None
        if kid is None:
            keys = list(self._keys["keys"])  # the set of the JWKSet's keys (what iterating it yields)
            return keys[0] if len(keys) == 1 else None
        return self._keys.get_key(kid)


class TokenVerifier:
    def __init__(self, issuer: str, audience: str, jwks: JWKSCache) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.jwks = jwks

    async def verify(
        self, token: str, *, expected_typ: str = "Bearer", audience: str | None = None
    ) -> dict[str, Any]:
        parts = token.split(".")
        if len(parts) != 3:
            raise Unauthenticated("令牌格式无效")
        try:
            header = json.loads(_b64decode(parts[0]))
        except (ValueError, UnicodeDecodeError) as exc:
            raise Unauthenticated("令牌格式无效") from exc
        if not isinstance(header, dict) or header.get("alg") != "RS256":
            raise Unauthenticated("令牌签名算法不被接受")
        key = await self.jwks.key_for(header.get("kid"))
        if key is None:
            raise Unauthenticated("令牌签名密钥未知")
        signed = jws.JWS()
        try:
            signed.deserialize(token)
            signed.verify(key, alg="RS256")
        except JWException as exc:
            raise Unauthenticated("令牌签名无效") from exc
        try:
            claims: dict[str, Any] = json.loads(signed.payload)
        except ValueError as exc:
            raise Unauthenticated("令牌内容无效") from exc
        self._check_claims(claims, expected_typ, audience or self.audience)
        return claims

    def _check_claims(self, claims: dict[str, Any], expected_typ: str, audience: str) -> None:
        now = time.time()
        if claims.get("iss") != self.issuer:
            raise Unauthenticated("令牌签发方不正确")
        exp = claims.get("exp")
        if not isinstance(exp, int | float):
            raise Unauthenticated("令牌缺少有效期")
        if exp < now - LEEWAY_SECONDS:
            raise Unauthenticated("令牌已过期")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and nbf > now + LEEWAY_SECONDS:
            raise Unauthenticated("令牌尚未生效")
        iat = claims.get("iat")
        if isinstance(iat, int | float) and iat > now + LEEWAY_SECONDS:
            raise Unauthenticated("令牌签发时间无效")
        if claims.get("typ") != expected_typ:
            raise Unauthenticated(f"令牌类型不正确（需要 {expected_typ}）")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud] if aud else []
        if audience not in audiences:
            raise Unauthenticated("令牌的受众不包含本系统")
        if not claims.get("sub"):
            raise Unauthenticated("令牌缺少用户标识")


def _b64decode(segment: str) -> str:
    import base64

    padded = segment + "=" * (-len(segment) % 4)
    return base64.urlsafe_b64decode(padded.encode()).decode()
