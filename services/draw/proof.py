"""The published proof file of a draw (SPEC §4): JSON holding everything needed to recompute it.

Hex strings (secret, seed) and USCC lists are kept as plain JSON values, and the checks on their
content live in `verify.py`: a tampered value must come out as a precise finding (INVALID), not as
an unreadable file. Only structural problems (not JSON, wrong types, unknown keys) are format errors.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, cast

import msgspec

from services.draw.protocol import (
    VERSION,
    DrawInputError,
    DrawResult,
    EligibleEntry,
    commitment,
    prepare_population,
)


class ProofFormatError(ValueError):
    """The bytes are not a structurally valid proof file; the message says where."""


class DrawProof(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Field order here is the key order in the file; dict keys are sorted when encoding."""

    version: str
    task_number: str
    ratios: dict[str, str]  # stratum -> decimal string, exactly as announced
    eligible: list[EligibleEntry]  # canonical order (by USCC, byte order)
    population_hash: str
    commitment: str
    secret: str  # hex
    public_entropy: str
    seed: str  # hex
    selected: dict[str, list[str]]  # stratum -> USCCs in rank order
    # Reserved for inspector matching (`spotcheck-match-v1`), checked by a plug-in verifier check.
    matching: dict[str, Any] | None = None


_encoder = msgspec.json.Encoder(order="deterministic")
_decoder = msgspec.json.Decoder(DrawProof)


def build_proof(
    result: DrawResult,
    eligible: list[EligibleEntry],
    secret: bytes,
    matching: dict[str, Any] | msgspec.Struct | None = None,
) -> DrawProof:
    """Assemble the proof of `result`; refuses inputs that are not the ones the draw used.

    `matching` may be a `matching.MatchingProof` Struct (stored as plain JSON values, like a loaded
    file, so that a built proof and the same proof read back compare equal).
    """
    if isinstance(matching, msgspec.Struct):
        # A (non-array_like) Struct converts to a JSON object; to_builtins is typed as returning Any.
        matching = cast("dict[str, Any]", msgspec.to_builtins(matching))
    population = prepare_population(eligible)
    if population.population_hash != result.population_hash:
        raise DrawInputError("eligible list does not match the draw's population_hash")
    if result.commitment != commitment(secret):
        raise DrawInputError("secret does not match the draw's commitment")
    return DrawProof(
        version=result.version,
        task_number=result.task_number,
        ratios=dict(result.ratios),
        eligible=sorted(eligible, key=attrgetter("uscc")),
        population_hash=result.population_hash,
        commitment=result.commitment,
        secret=secret.hex(),
        public_entropy=result.public_entropy,
        seed=result.seed,
        selected={s: list(v) for s, v in result.selected.items()},
        matching=matching,
    )


def encode_proof(proof: DrawProof) -> bytes:
    """Deterministic UTF-8 JSON: same proof, same bytes (the file itself can be hashed/archived)."""
    return _encoder.encode(proof)


def load_proof(data: bytes | str) -> DrawProof:
    """Parse a proof file, raising ProofFormatError with the location of the first problem."""
    try:
        return _decoder.decode(data)
    except msgspec.ValidationError as exc:
        version = _peek_version(data)
        if version is not None and version != VERSION:
            raise ProofFormatError(f"unsupported proof version {version!r} (expected {VERSION!r})") from None
        raise ProofFormatError(f"not a {VERSION} proof: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ProofFormatError(f"not valid JSON: {exc}") from None


def _peek_version(data: bytes | str) -> str | None:
    # A future version may have other fields; naming the version beats a schema error.
    try:
        head = msgspec.json.decode(data, type=dict[str, Any])
    except msgspec.MsgspecError:
        return None
    version = head.get("version")
    return version if isinstance(version, str) else None
