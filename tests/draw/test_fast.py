"""The server's fast path gives exactly the reference result (the one the public verifier recomputes)."""

from __future__ import annotations

import random

import pytest

from services.draw import fast, protocol
from services.registry.demo_data import make_uscc


def _lines(rng: random.Random, n: int, strata: str) -> tuple[bytes, list[protocol.EligibleEntry]]:
    usccs: set[str] = set()
    while len(usccs) < n:
        usccs.add(make_uscc(rng))
    entries = [protocol.EligibleEntry(u, rng.choice(strata.split(","))) for u in usccs]
    return "".join(f"{e.uscc}\t{e.stratum}\n" for e in entries).encode(), entries


@pytest.mark.parametrize("seed", range(8))
def test_fast_equals_reference(seed: int) -> None:
    rng = random.Random(seed)
    per_class = seed % 2 == 0
    lines, entries = _lines(rng, rng.randint(1, 3000), "A,B,C,D" if per_class else "ALL")
    ratios = {"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.2"} if per_class else {"ALL": "0.07"}
    secret = bytes(rng.randrange(256) for _ in range(32))
    canonical = fast.canonicalize(lines)
    assert canonical.data == protocol.canonical_list([e.uscc for e in entries], [e.stratum for e in entries])
    expected = protocol.draw(entries, ratios, secret, "2023001/001号", "17,42")
    assert fast.draw(canonical, ratios, secret, "2023001/001号", "17,42") == expected
    assert sorted(canonical.entries(), key=lambda e: e.uscc) == sorted(entries, key=lambda e: e.uscc)


def test_parallel_scoring_equals_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(99)
    lines, _ = _lines(rng, 5000, "A,B,C,D")
    canonical = fast.canonicalize(lines)
    seed = bytes(range(32))
    serial = fast.score_all(seed, canonical.keys)
    monkeypatch.setattr(fast, "PARALLEL_THRESHOLD", 10)
    assert fast.score_all(seed, canonical.keys) == serial
    assert serial == protocol.score_all(seed, [k.decode() for k in canonical.keys])


def test_bad_lines_are_refused() -> None:
    with pytest.raises(protocol.DrawInputError, match="more than once"):
        fast.canonicalize(b"91130528MA0000000X\tA\n91130528MA0000000X\tB\n")
    with pytest.raises(protocol.DrawInputError, match="one width"):
        fast.canonicalize(b"91130528MA0000000X\tA\n91130528MA0000001\tB\n")
    with pytest.raises(protocol.DrawInputError):
        fast.canonicalize(b"91130528MA0000000X\tE\n")
    assert len(fast.canonicalize(b"")) == 0
