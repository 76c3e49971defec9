"""The server's fast path gives exactly the reference result (the one the public verifier recomputes)."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pytest

from devtools.demo.registries import make_uscc
from services.draw import fast, protocol


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


def _hashlib_prefixes(seed: bytes, keys: list[bytes]) -> list[int]:
    return [int.from_bytes(hashlib.sha256(seed + key).digest()[:8], "big") for key in keys]


def test_parallel_scoring_equals_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(99)
    lines, _ = _lines(rng, 5000, "A,B,C,D")
    canonical = fast.canonicalize(lines)
    seed = bytes(range(32))
    serial = fast.score_prefixes(seed, canonical)
    monkeypatch.setattr(fast, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(fast, "CHUNK", 777)  # several chunks on each side, the last one short
    assert fast.score_prefixes(seed, canonical).tolist() == serial.tolist()
    assert serial.tolist() == _hashlib_prefixes(seed, canonical.keys)
    full = protocol.score_all(seed, [k.decode() for k in canonical.keys])
    assert serial.tolist() == [int.from_bytes(full[i : i + 8], "big") for i in range(0, len(full), 32)]


@pytest.mark.parametrize("width", [1, 2, 3, 4, 5, 8, 12, 17, 18, 19, 22, 23, 24, 31, 40])
def test_vectorised_sha256_equals_hashlib(width: int) -> None:
    # Up to 23 bytes the message is one block (numpy rounds); longer keys take the hashlib path.
    rng = random.Random(width)
    keys = sorted({bytes(rng.randrange(0x20, 0x7F) for _ in range(width)) for _ in range(300)})
    matrix = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), width)
    for _ in range(3):
        seed = bytes(rng.randrange(256) for _ in range(32))
        got = fast._prefix_range(seed, matrix, width, 0, len(keys))
        assert got.tolist() == _hashlib_prefixes(seed, keys)


@pytest.mark.parametrize("heads", [1, 3, 200])
def test_packed_sort_equals_byte_order(heads: int) -> None:
    rng = random.Random(heads)
    prefixes = [f"91{rng.randrange(10**6):06d}" for _ in range(heads)]
    usccs = {
        rng.choice(prefixes) + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(10))
        for _ in range(4000)
    }
    lines = "".join(f"{u}\t{rng.choice('ABCD')}\n" for u in usccs).encode()
    assert fast._packed_keys(np.frombuffer(lines, np.uint8).reshape(len(usccs), 21)[:, :18]) is not None
    expected = protocol.canonical_list(
        *zip(*[(line[:18], line[19:]) for line in lines.decode().splitlines()], strict=True)
    )
    assert fast.canonicalize(lines).data == expected


def test_unpackable_keys_sort_as_bytes() -> None:
    # Lowercase letters are not USCC characters, and 16 distinct 9-byte heads at width 19 do not fit 14 bits: both
    # fall back to sorting whole records.
    rng = random.Random(5)
    for alphabet, width in (("abcXYZ019", 18), ("0123456789", 25)):
        usccs = {"".join(rng.choice(alphabet) for _ in range(width)) for _ in range(2000)}
        lines = "".join(f"{u}\tALL\n" for u in usccs).encode()
        matrix = np.frombuffer(lines, np.uint8).reshape(len(usccs), width + 5)
        assert fast._packed_keys(matrix[:, :width]) is None
        assert fast.canonicalize(lines).data == "".join(f"{u}\tALL\n" for u in sorted(usccs)).encode()
        with pytest.raises(protocol.DrawInputError, match="more than once"):
            fast.canonicalize(lines + lines[: width + 5])


def test_ties_on_the_prefix_are_ranked_by_full_score_then_uscc() -> None:
    rng = random.Random(3)
    n = 2000
    prefixes = np.array([rng.randrange(40) for _ in range(n)], dtype=np.uint64)  # many equal prefixes
    full = {i: (bytes([rng.randrange(3)]), f"{rng.randrange(10**6):018d}".encode()) for i in range(n)}
    members = np.array(sorted(rng.sample(range(n), 1500)), dtype=np.int64)
    for k in (0, 1, 7, 100, 1499, 1500, 3000):
        expected = sorted(members.tolist(), key=lambda i: (int(prefixes[i]), full[i]))[:k]
        assert fast.lowest(prefixes, members, k, full.__getitem__) == expected


def test_bad_lines_are_refused() -> None:
    with pytest.raises(protocol.DrawInputError, match="more than once"):
        fast.canonicalize(b"91130528MA0000000X\tA\n91130528MA0000000X\tB\n")
    with pytest.raises(protocol.DrawInputError, match="one width"):
        fast.canonicalize(b"91130528MA0000000X\tA\n91130528MA0000001\tB\n")
    with pytest.raises(protocol.DrawInputError):
        fast.canonicalize(b"91130528MA0000000X\tE\n")
    with pytest.raises(protocol.DrawInputError, match="control character"):
        fast.canonicalize(b"91130528MA000\x7f000X\tA\n")
    with pytest.raises(protocol.DrawInputError, match="TAB"):
        fast.canonicalize(b"91130528MA0000000X\tA\n91130528MA0000000\tAB\n")
    assert len(fast.canonicalize(b"")) == 0
