"""Codes: unguessable public parts, secret parts derived under the deployment key, masked licences."""

from __future__ import annotations

import math

from services.enterprise import codes


def test_public_codes_are_long_random_and_readable() -> None:
    drawn = {codes.new_public_code() for _ in range(2000)}
    assert len(drawn) == 2000
    assert all(codes.looks_like_code(c) for c in drawn)
    # No look-alikes a person would mistype from paper.
    assert not set("01ILO") & set("".join(drawn))
    bits = codes.PUBLIC_LENGTH * math.log2(len(codes.ALPHABET))
    assert bits > 48, bits
    # Every position uses the whole alphabet (secrets.choice, not a counter or a timestamp).
    for position in range(codes.PUBLIC_LENGTH):
        assert len({c[position] for c in drawn}) == len(codes.ALPHABET)


def test_secret_part_depends_on_key_and_code() -> None:
    code = codes.new_public_code()
    secret = codes.secret_for("key-one-" * 5, code)
    assert secret == codes.secret_for("key-one-" * 5, code)
    assert secret != codes.secret_for("key-two-" * 5, code)
    assert secret != codes.secret_for("key-one-" * 5, codes.new_public_code())
    assert codes.looks_like_code(secret, codes.SECRET_LENGTH)
    assert codes.SECRET_LENGTH * math.log2(len(codes.ALPHABET)) > 58
    assert codes.secret_hash(secret) != secret and len(codes.secret_hash(secret)) == 64


def test_typed_codes_normalise_and_licences_mask() -> None:
    assert codes.normalise(" abcde-fghjk ") == "ABCDEFGHJK"
    assert codes.grouped("ABCDEFGHJK") == "ABCDE-FGHJK"
    assert codes.mask_licence("T000123") == "T0***23"
    assert codes.mask_licence("123") == "***"
