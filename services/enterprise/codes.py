"""Inspection codes (检查码): a short public part people can type and scan, and a secret part for the evaluation.

* The public part is 10 characters from an alphabet without look-alikes (no 0/O, 1/I/L), drawn with ``secrets``
  (about 49 bits): it cannot be guessed, and it is all the scan page needs.
* The secret part (评价码, 12 characters, about 59 bits) is derived from the public part with HMAC-SHA256 under the
  deployment's ``SPOTCHECK_SECRET_KEY``, so a notice can be printed again with the same secret while the database
  stores only its SHA-256 (``public_visits.secret_hash``). It is printed on the notice only, never shown on a public
  page and never returned by the API.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PUBLIC_LENGTH = 10
SECRET_LENGTH = 12
_DOMAIN = b"spotcheck-visit-secret-v1|"


def new_public_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(PUBLIC_LENGTH))


def _encode(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    out = []
    for _ in range(length):
        number, index = divmod(number, len(ALPHABET))
        out.append(ALPHABET[index])
    return "".join(out)


def secret_for(key: str, code: str) -> str:
    """The secret part of ``code`` (deterministic under the deployment key; 256 bits of HMAC cover 12 characters)."""
    digest = hmac.new(key.encode(), _DOMAIN + code.encode(), hashlib.sha256).digest()
    return _encode(digest, SECRET_LENGTH)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise(value: str) -> str:
    """What a person typed or scanned, in the stored form: upper case, without spaces and hyphens."""
    return "".join(ch for ch in value.upper() if ch not in " -－—\t")


def looks_like_code(value: str, length: int = PUBLIC_LENGTH) -> bool:
    return len(value) == length and all(ch in ALPHABET for ch in value)


def grouped(code: str, size: int = 5) -> str:
    """For print: ``ABCDE-FGHJK`` (the public part) or ``ABCD-EFGH-JKMN`` (size 4, the secret part)."""
    return "-".join(code[i : i + size] for i in range(0, len(code), size))


def mask_licence(licence: str) -> str:
    """A licence number as the public sees it: the first two and last two characters."""
    if len(licence) <= 4:
        return "*" * len(licence)
    return licence[:2] + "*" * (len(licence) - 4) + licence[-2:]
