"""Per-realm signing keys, generated once and kept in the data directory.

Persisting the keys means a demo restart does not invalidate every browser session and API
token already handed out. One RSA key signs access and ID tokens (published in the JWKS); a
separate HMAC key signs refresh tokens and the browser cookie, as Keycloak does, so a refresh
token can never pass as an access token at a resource server that only knows the JWKS.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import uuid
from pathlib import Path
from typing import Any

from jwcrypto import jwk

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class RealmKeys:
    """The realm's RSA signing key (RS256) and HMAC key (HS512)."""

    def __init__(self, signing_key: jwk.JWK, hmac_key: jwk.JWK) -> None:
        self.signing_key = signing_key
        self.hmac_key = hmac_key
        self._mac_secret = base64.urlsafe_b64decode(_pad(hmac_key["k"]))

    @property
    def kid(self) -> str:
        return str(self.signing_key["kid"])

    @property
    def hmac_kid(self) -> str:
        return str(self.hmac_key["kid"])

    def public_jwks(self) -> dict[str, Any]:
        public = json.loads(self.signing_key.export_public())
        public.update({"use": "sig", "alg": "RS256"})
        return {"keys": [public]}

    def public_key_b64(self) -> str:
        """Base64 DER SubjectPublicKeyInfo, the format of Keycloak's realm `public_key` field."""
        pem = self.signing_key.export_to_pem(private_key=False).decode()
        return "".join(line for line in pem.splitlines() if "-----" not in line)

    def mac(self, purpose: str, data: str) -> str:
        # Domain-separate by purpose so a MAC made for one use cannot be replayed as another.
        digest = hmac.new(self._mac_secret, f"{purpose}\x00{data}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def verify_mac(self, purpose: str, data: str, tag: str) -> bool:
        return hmac.compare_digest(self.mac(purpose, data), tag)


def _pad(value: str) -> str:
    return value + "=" * (-len(value) % 4)


def _generate() -> dict[str, Any]:
    rsa = jwk.JWK.generate(kty="RSA", size=2048)
    # RFC 7638 thumbprint: a stable kid derived from the key itself.
    rsa_data = json.loads(rsa.export_private())
    rsa_data["kid"] = rsa.thumbprint()
    hmac_key = jwk.JWK.generate(kty="oct", size=512)
    hmac_data = json.loads(hmac_key.export())
    hmac_data["kid"] = str(uuid.uuid4())
    return {"rsa": rsa_data, "hmac": hmac_data}


def _read(path: Path) -> RealmKeys:
    data = json.loads(path.read_text())
    return RealmKeys(jwk.JWK(**data["rsa"]), jwk.JWK(**data["hmac"]))


def load_or_create_realm_keys(data_dir: Path, realm: str) -> RealmKeys:
    """Return the realm's keys from `data_dir`, creating them on first use.

    Creation is race-safe (write a private temp file, then hard-link it into place, which
    fails if another process got there first), so two demo processes agree on one key.
    """
    if not _SAFE_NAME.match(realm):
        raise ValueError(f"unsafe realm name {realm!r}")
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"devprovider-{realm}-keys.json"
    if path.exists():
        return _read(path)
    tmp = data_dir / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(_generate(), fh)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)
