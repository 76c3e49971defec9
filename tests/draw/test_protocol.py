"""`spotcheck-draw-v1`: hand-derived vectors, exact sample sizes, validation, and fast path == definition.

The reference functions below re-derive everything with hashlib/hmac/sorted straight from SPEC §4,
independently of services.draw.protocol, so a shared mistake cannot hide.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import random
from decimal import Decimal
from pathlib import Path

import pytest

from services.draw.protocol import (
    DrawInputError,
    EligibleEntry,
    canonical_list,
    commitment,
    derive_seed,
    draw,
    new_secret,
    prepare_population,
    sample_size,
    score,
    select_lowest,
)

VECTOR = json.loads((Path(__file__).parent / "vectors" / "tiny.json").read_text(encoding="utf-8"))


# --- independent reference implementation -------------------------------------------------------


def ref_population_hash(entries: list[tuple[str, str]]) -> str:
    lines = sorted(entries, key=lambda e: e[0].encode())
    return hashlib.sha256("".join(f"{u}\t{s}\n" for u, s in lines).encode()).hexdigest()


def ref_seed(secret: bytes, task: str, population_hash: str, entropy: str) -> bytes:
    msg = f"spotcheck-draw-v1|{task}|{population_hash}|{entropy}".encode()
    return hmac.new(secret, msg, hashlib.sha256).digest()


def ref_k(n: int, ratio: str) -> int:
    num, den = Decimal(ratio).as_integer_ratio()
    return min(n, -((-num * n) // den))


def ref_draw(
    entries: list[tuple[str, str]], ratios: dict[str, str], secret: bytes, task: str, entropy: str
) -> dict[str, list[str]]:
    seed = ref_seed(secret, task, ref_population_hash(entries), entropy)
    selected = {}
    for stratum, ratio in ratios.items():
        members = [u for u, s in entries if s == stratum]
        ranked = sorted(members, key=lambda u: (hashlib.sha256(seed + u.encode()).digest(), u.encode()))
        selected[stratum] = ranked[: ref_k(len(members), ratio)]
    return selected


def entries_of(pairs: list[tuple[str, str]]) -> list[EligibleEntry]:
    return [EligibleEntry(u, s) for u, s in pairs]


# --- the hand-computed vector (also the worked example in PROTOCOL.md) --------------------------


def vector_pairs() -> list[tuple[str, str]]:
    return [(e["uscc"], e["stratum"]) for e in VECTOR["eligible"]]


def test_vector_rederived_inline_matches_stored_values() -> None:
    secret = bytes.fromhex(VECTOR["secret"])
    pairs = vector_pairs()
    canon = "".join(f"{u}\t{s}\n" for u, s in sorted(pairs)).encode()
    assert canon.decode() == VECTOR["canonical_list"]
    assert hashlib.sha256(canon).hexdigest() == VECTOR["population_hash"]
    assert hashlib.sha256(secret).hexdigest() == VECTOR["commitment"]
    msg = "spotcheck-draw-v1|SJ-2025-0001|" + VECTOR["population_hash"] + "|17,42,93"
    seed = hmac.new(secret, msg.encode(), hashlib.sha256).digest()
    assert seed.hex() == VECTOR["seed"]
    for uscc, expected in VECTOR["scores"].items():
        assert hashlib.sha256(seed + uscc.encode()).hexdigest() == expected
    # A: n=3, r=0.34 -> ceil(1.02)=2; B: 2×0.5=1; C: ceil(2×0.05)=1; D: 1×1=1.
    a_ranked = sorted((VECTOR["scores"][u], u) for u, s in pairs if s == "A")
    assert [u for _, u in a_ranked[:2]] == VECTOR["selected"]["A"]


def test_module_reproduces_vector() -> None:
    secret = bytes.fromhex(VECTOR["secret"])
    result = draw(entries_of(vector_pairs()), VECTOR["ratios"], secret, "SJ-2025-0001", "17,42,93")
    assert canonical_list(*zip(*vector_pairs(), strict=True)).decode() == VECTOR["canonical_list"]
    assert result.population_hash == VECTOR["population_hash"]
    assert result.commitment == VECTOR["commitment"] == commitment(secret)
    assert result.seed == VECTOR["seed"]
    assert result.selected == VECTOR["selected"]
    assert result.quotas == {"A": 2, "B": 1, "C": 1, "D": 1}
    assert result.sizes == {"A": 3, "B": 2, "C": 2, "D": 1}
    seed = bytes.fromhex(result.seed)
    assert {u: score(seed, u).hex() for u, _ in vector_pairs()} == VECTOR["scores"]


def test_primitives_match_definition() -> None:
    secret = new_secret()
    assert len(secret) == 32 and new_secret() != secret
    assert derive_seed(secret, "T-9", "ab" * 32, "") == ref_seed(secret, "T-9", "ab" * 32, "")
    assert score(b"s", "统一代码") == hashlib.sha256(b"s" + "统一代码".encode()).digest()


# --- exact decimal sample sizes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "ratio", "k"),
    [
        (20, "0.05", 1),
        (21, "0.05", 2),
        (3, "1", 3),
        (10, "0.1", 1),
        (0, "0.5", 0),
        (1, "0.0001", 1),
        (100, "0.07", 7),
        (100, "0.14", 14),
        (200, "0.55", 110),
        (10**7, "0.1234567890123456789", 1234568),
    ],
)
def test_sample_size_is_exact(n: int, ratio: str, k: int) -> None:
    assert sample_size(n, Decimal(ratio)) == k


@pytest.mark.parametrize(
    ("n", "ratio", "exact"), [(100, 0.07, 7), (100, 0.14, 14), (50, 0.56, 28), (200, 0.55, 110)]
)
def test_float_arithmetic_would_get_it_wrong(n: int, ratio: float, exact: int) -> None:
    # 0.07 * 100 == 7.000000000000001 in binary floating point, so ceil() overshoots by one.
    assert math.ceil(ratio * n) == exact + 1
    assert sample_size(n, Decimal(str(ratio))) == exact


@pytest.mark.parametrize("bad", ["0", "0.0", "1.5", "-0.1", "5%", "1e-2", " 0.1", ".5", "", "٠.٥", "NaN"])
def test_bad_ratio_strings_are_rejected(bad: str) -> None:
    with pytest.raises(DrawInputError, match="ratio for stratum A"):
        draw(entries_of([("U1", "A")]), {"A": bad}, bytes(32), "T-1")


def test_float_ratio_is_rejected() -> None:
    with pytest.raises(DrawInputError, match="not a decimal string"):
        draw(entries_of([("U1", "A")]), {"A": 0.05}, bytes(32), "T-1")  # type: ignore[dict-item]


def test_missing_ratio_names_the_stratum() -> None:
    pairs = [("U1", "A"), ("U2", "C"), ("U3", "C")]
    with pytest.raises(DrawInputError, match=r"no ratio for stratum C \(2 eligible entries\)"):
        draw(entries_of(pairs), {"A": "0.5"}, bytes(32), "T-1")


def test_ratio_for_empty_stratum_selects_nothing() -> None:
    result = draw(entries_of([("U1", "A")]), {"A": "1", "D": "0.2"}, bytes(32), "T-1")
    assert result.selected == {"A": ["U1"], "D": []}
    assert result.quotas == {"A": 1, "D": 0}


def test_single_stratum_all() -> None:
    pairs = [(f"U{i:02d}", "ALL") for i in range(40)]
    result = draw(entries_of(pairs), {"ALL": "0.05"}, bytes(32), "T-1", "x")
    assert result.selected == ref_draw(pairs, {"ALL": "0.05"}, bytes(32), "T-1", "x")
    assert len(result.selected["ALL"]) == 2


@pytest.mark.parametrize(
    ("pairs", "ratios", "message"),
    [
        ([("U1", "A"), ("U2", "ALL")], {"A": "1", "ALL": "1"}, "ALL cannot be combined with A"),
        ([("U1", "E")], {"A": "1"}, "unknown stratum 'E'"),
        ([("U1", "A")], {"a": "1"}, "unknown stratum 'a'"),
        ([("U1", "A")], {"A": "1", "ALL": "1"}, "ratios: stratum ALL cannot be combined"),
        ([("U1", "A")], {}, "at least one stratum ratio"),
        ([("", "A")], {"A": "1"}, "USCC '': must be non-empty"),
        ([("U\t1", "A")], {"A": "1"}, r"USCC 'U\\t1'"),
        ([("U1\n", "A")], {"A": "1"}, r"USCC 'U1\\n'"),
        ([("U\ud8001", "A")], {"A": "1"}, "not encodable as UTF-8"),
        ([("X1", "A"), ("X2", "B"), ("X1", "B")], {"A": "1", "B": "1"}, "USCC 'X1': listed more than once"),
        ([("X1", "A"), ("long", "B"), ("X1", "B")], {"A": "1", "B": "1"}, "'X1': listed more than once"),
        ([("统一", "A"), ("统一", "B")], {"A": "1", "B": "1"}, "'统一': listed more than once"),
    ],
)
def test_bad_inputs_name_the_offender(
    pairs: list[tuple[str, str]], ratios: dict[str, str], message: str
) -> None:
    with pytest.raises(DrawInputError, match=message):
        draw(entries_of(pairs), ratios, bytes(32), "T-1")


def test_bad_task_number_and_secret() -> None:
    with pytest.raises(DrawInputError, match="task number"):
        draw(entries_of([("U1", "A")]), {"A": "1"}, bytes(32), "T|1")
    with pytest.raises(DrawInputError, match="task number"):
        draw(entries_of([("U1", "A")]), {"A": "1"}, bytes(32), "")
    with pytest.raises(DrawInputError, match="32 bytes"):
        draw(entries_of([("U1", "A")]), {"A": "1"}, bytes(16), "T-1")


# --- determinism, order independence, canonical list --------------------------------------------


def random_pairs(
    rng: random.Random, n: int, *, ragged: bool = False, strata: str = "ABCD"
) -> list[tuple[str, str]]:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    usccs: set[str] = set()
    while len(usccs) < n:
        length = rng.randint(1, 20) if ragged else 18
        prefix = rng.choice(["", "统", "é"]) if ragged else ""
        usccs.add(prefix + "".join(rng.choices(alphabet, k=length)))
    return [(u, rng.choice(strata)) for u in usccs]


def test_determinism_and_input_order_independence() -> None:
    rng = random.Random(7)
    pairs = random_pairs(rng, 500)
    ratios = {"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.2"}
    first = draw(entries_of(pairs), ratios, bytes(32), "T-1", "1,2,3")
    assert draw(entries_of(pairs), ratios, bytes(32), "T-1", "1,2,3") == first
    rng.shuffle(pairs)
    assert draw(entries_of(pairs), ratios, bytes(32), "T-1", "1,2,3") == first
    assert draw(entries_of(pairs), ratios, bytes(32), "T-1", "1,2,4").selected != first.selected


@pytest.mark.parametrize("ragged", [False, True])
def test_canonical_list_matches_definition(ragged: bool) -> None:
    # ragged=False takes the fixed-width numpy path, ragged=True the generic one (mixed lengths, non-ASCII).
    pairs = random_pairs(random.Random(11), 2000, ragged=ragged)
    population = prepare_population(entries_of(pairs))
    assert population.population_hash == ref_population_hash(pairs)
    assert population.sizes == {s: sum(1 for _, t in pairs if t == s) for s in {t for _, t in pairs}}


def test_prefix_of_another_uscc_sorts_first() -> None:
    pairs = [("AB", "A"), ("ABC", "A"), ("AB0", "B"), ("A", "B")]
    expected = b"A\tB\nAB\tA\nAB0\tB\nABC\tA\n"
    assert canonical_list(*zip(*pairs, strict=True)) == expected


def test_empty_population() -> None:
    result = draw([], {"A": "0.5"}, bytes(32), "T-1")
    assert result.population_hash == hashlib.sha256(b"").hexdigest()
    assert result.selected == {"A": []}


# --- fast selection == the plain definition ----------------------------------------------------


@pytest.mark.parametrize("trial", range(12))
def test_fast_draw_equals_reference(trial: int) -> None:
    rng = random.Random(trial)
    pairs = random_pairs(rng, rng.choice([1, 5, 50, 400, 3000]), ragged=trial % 3 == 0)
    ratios = {s: rng.choice(["0.01", "0.05", "0.3", "0.5", "0.999", "1"]) for s in "ABCD"}
    secret, entropy = rng.randbytes(32), str(rng.random())
    result = draw(entries_of(pairs), ratios, secret, f"T-{trial}", entropy)
    assert result.selected == ref_draw(pairs, ratios, secret, f"T-{trial}", entropy)


def crafted_scores(rng: random.Random, n: int) -> list[bytes]:
    """Scores drawn from a tiny pool of 8-byte prefixes (and some identical full scores)."""
    prefixes = [rng.randbytes(8) for _ in range(3)]
    full = [rng.choice(prefixes) + rng.randbytes(24) for _ in range(4)]
    return [
        rng.choice(full) if rng.random() < 0.3 else rng.choice(prefixes) + rng.randbytes(24) for _ in range(n)
    ]


@pytest.mark.parametrize("trial", range(40))
def test_select_lowest_with_forced_prefix_and_full_ties(trial: int) -> None:
    rng = random.Random(1000 + trial)
    n = rng.randint(1, 300)
    usccs = [f"U{i}" for i in rng.sample(range(10 * n), n)]
    scores = crafted_scores(rng, n)
    k = rng.randint(0, n)
    expected = [u for _, u in sorted(zip(scores, usccs, strict=True))[:k]]
    assert select_lowest(b"".join(scores), usccs, k) == expected


def test_select_lowest_rejects_misaligned_scores() -> None:
    with pytest.raises(ValueError, match="one 32-byte score per USCC"):
        select_lowest(b"\0" * 31, ["U1"], 1)
