"""`spotcheck-match-v1`: hand-derived vector, constraints on random instances, exact Unfilled reasons,
the MATCHING.md reference snippet == the implementation, and tampering caught by the verifier."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from services.draw.matching import (
    MAX_SLOTS,
    Inspector,
    MatchingProof,
    MatchInputError,
    MatchObject,
    MatchResult,
    Slot,
    compute_levels,
    draw_order,
    match,
    matching_proof,
    slot_offset,
)
from services.draw.matching_verify import verify_matching
from services.draw.proof import DrawProof, build_proof, encode_proof, load_proof
from services.draw.protocol import DrawResult, EligibleEntry, draw
from services.draw.verify import main, verify_proof

VECTOR = json.loads((Path(__file__).parent / "vectors" / "tiny.json").read_text(encoding="utf-8"))
SEED = bytes.fromhex(VECTOR["seed"])
MATCHING_MD = Path(__file__).parents[2] / "services" / "draw" / "MATCHING.md"
YJ, XF = "县应急管理局", "县消防救援大队"
CHECK_END = "2023-07-31"

# --- the hand-computed vector (MATCHING.md §7) --------------------------------------------------

TINY_INSPECTORS = [
    Inspector("YJ1", YJ, "危化股", ["危险化学品"], "2026-12-31"),
    Inspector("YJ2", YJ, "危化股", ["危险化学品", "工贸"], None),
    Inspector("YJ3", YJ, "工贸股", ["工贸"], "2025-12-31"),
    Inspector("XF1", XF, "防火监督科", ["消防"], "2026-06-30"),
    Inspector("XF2", XF, "防火监督科", ["消防"], "2027-01-31"),
    Inspector("XF3", XF, "防火监督科", ["消防"], None),
    Inspector("XF4", XF, "防火监督科", ["消防"], "2023-06-30"),
]
TINY_SLOTS = [
    Slot(f"{YJ}（危险化学品）", ["YJ1", "YJ2"], department=YJ, specialty="危险化学品"),
    Slot(XF, ["XF1", "XF2", "XF3"], department=XF),
]
M9, N2, Q7, U3, W5 = (
    "91320582MA1M9XKQ3A",
    "91320582MA1N2C8L5B",
    "91320582MA1Q7E6T2D",
    "92320582MA1U3H3X8G",
    "91320582MA1W5J2Y4H",
)
TINY_EXCLUDED = {M9: ["XF3"], Q7: ["YJ2"], W5: ["XF1"]}


def tiny_objects(extra: dict[str, list[str]] | None = None) -> list[MatchObject]:
    excluded = {**TINY_EXCLUDED, **(extra or {})}
    return [MatchObject(u, excluded.get(u, [])) for u in draw_order(VECTOR["selected"])]


def tiny_match(objects: list[MatchObject] | None = None, load_slack: int = 0) -> MatchResult:
    return match(
        SEED,
        objects or tiny_objects(),
        TINY_SLOTS,
        TINY_INSPECTORS,
        check_end=CHECK_END,
        load_slack=load_slack,
    )


def test_draw_order_of_the_vector() -> None:
    assert draw_order(VECTOR["selected"]) == [M9, N2, Q7, U3, W5]
    assert draw_order({"D": ["d"], "A": ["a1", "a2"], "C": ["c"]}) == ["a1", "a2", "c", "d"]
    assert draw_order({"ALL": ["x", "y"]}) == ["x", "y"]


def test_hand_computed_vector() -> None:
    # Re-derive pool order and offsets with hashlib, straight from MATCHING.md §3–§4.
    def key(x: str) -> bytes:
        return hashlib.sha256(SEED + b"spotcheck-match-v1|inspector|" + x.encode()).digest()

    def offset(i: int, uscc: str, size: int) -> tuple[str, int]:
        digest = hashlib.sha256(SEED + b"spotcheck-match-v1|slot|" + str(i).encode() + b"|" + uscc.encode())
        prefix = digest.digest()[:8]
        return prefix.hex(), int.from_bytes(prefix, "big") % size

    assert sorted(["YJ1", "YJ2"], key=key) == ["YJ2", "YJ1"]
    assert sorted(["XF1", "XF2", "XF3"], key=key) == ["XF1", "XF3", "XF2"]
    assert key("YJ2").hex()[:16] == "32e34c62fca1e987"
    assert key("XF1").hex()[:16] == "dbc695ba593ed3b7"
    assert [offset(0, u, 2) for u in (M9, N2, Q7, U3, W5)] == [
        ("e58d95cb60c69f58", 0),
        ("f2f847156761ad3b", 1),
        ("390619e645149cd6", 0),
        ("8a3afbe2a491309d", 1),
        ("1342da3a6fdd4d02", 0),
    ]
    assert [offset(1, u, 3) for u in (M9, N2, Q7, U3, W5)] == [
        ("e44fda167ecd48fe", 1),
        ("71bbd59c84a16690", 2),
        ("cf8917be163798f5", 2),
        ("dba71fc4ed1fb698", 0),
        ("c0a8be3e01685211", 0),
    ]
    assert [slot_offset(SEED, 1, u, 3) for u in (M9, N2, Q7, U3, W5)] == [1, 2, 2, 0, 0]
    # Walking by hand (caps 3 and 2 with load_slack 0) gives, per MATCHING.md §7:
    result = tiny_match()
    assert result.version == "spotcheck-match-v1"
    assert result.caps == {f"{YJ}（危险化学品）": 3, XF: 2}
    assert result.teams == {
        M9: ["YJ2", "XF2"],  # slot 1: start XF3, excluded -> XF2
        N2: ["YJ1", "XF2"],  # XF2 reaches its cap 2
        Q7: ["YJ1", "XF1"],  # slot 0: YJ2 excluded -> YJ1; slot 1: XF2 at cap -> wrap to XF1
        U3: ["YJ1", "XF1"],  # YJ1 reaches its cap 3; XF1 reaches 2
        W5: ["YJ2", "XF3"],  # XF1 at cap (and excluded) -> XF3
    }
    assert result.loads == {"YJ1": 3, "YJ2": 2, "YJ3": 0, "XF1": 2, "XF2": 2, "XF3": 1, "XF4": 0}
    assert result.unfilled == [] and result.feasible


def test_infeasible_vector_exact_reason_and_no_relaxation() -> None:
    result = tiny_match(tiny_objects({U3: ["XF1", "XF3"]}))
    assert not result.feasible
    [u] = result.unfilled
    assert (
        u.uscc,
        u.slot,
        u.slot_label,
        u.pool_size,
        u.reserved,
        u.on_team,
        u.excluded,
        u.at_cap,
        u.cap,
    ) == (
        U3,
        1,
        XF,
        3,
        0,
        0,
        2,
        1,
        2,
    )
    assert u.reason == (
        f"企业 {U3} 的第2名检查人员（{XF}）无法匹配：可选 3 人，其中 2 人回避、1 人已达工作量上限（2 家）"
    )
    assert result.teams[U3] == ["YJ1", None]  # never an excluded or over-cap inspector instead
    assert result.teams[W5] == ["YJ2", "XF3"]  # the other enterprises still go on
    assert result.loads["XF1"] == 1 and result.loads["XF2"] == 2


def test_empty_pool_is_reported_for_every_object() -> None:
    slots = [*TINY_SLOTS, Slot("法律顾问", [], specialty="法律")]
    result = match(SEED, tiny_objects(), slots, TINY_INSPECTORS, check_end=CHECK_END)
    assert [u.uscc for u in result.unfilled] == [M9, N2, Q7, U3, W5]
    assert (
        result.unfilled[0].reason == f"企业 {M9} 的第3名检查人员（法律顾问）无法匹配：没有符合条件的检查人员"
    )
    assert all(team[2] is None and None not in team[:2] for team in result.teams.values())


def test_matching_md_worked_example_matches_vector() -> None:
    text = MATCHING_MD.read_text(encoding="utf-8")
    assert VECTOR["seed"] in text
    result = tiny_match()
    for uscc, team in result.teams.items():
        assert f"`…{uscc[-7:]}` [{', '.join(str(x) for x in team)}]" in text
    unfilled = tiny_match(tiny_objects({U3: ["XF1", "XF3"]})).unfilled[0]
    assert unfilled.reason in text


# --- determinism and order ----------------------------------------------------------------------


def test_deterministic_and_independent_of_listing_order() -> None:
    first = tiny_match(load_slack=1)
    assert tiny_match(load_slack=1) == first
    shuffled_slots = [msgspec.structs.replace(s, pool=s.pool[::-1]) for s in TINY_SLOTS]
    objects = [MatchObject(o.uscc, o.excluded[::-1]) for o in tiny_objects()]
    again = match(SEED, objects, shuffled_slots, TINY_INSPECTORS[::-1], check_end=CHECK_END, load_slack=1)
    assert again.teams == first.teams and again.loads == first.loads


def test_object_order_matters_and_both_orders_are_valid() -> None:
    # Documented (MATCHING.md §4): loads accumulate in draw order, so reordering changes who gets
    # whom once caps bind; the protocol fixes the order to the draw order.
    inst = random_instance(random.Random(11), n_objects=60, overlapping=False, slack=0)
    forward = match(SEED, inst.objects, inst.slots, inst.inspectors, check_end=CHECK_END, load_slack=0)
    backward = match(SEED, inst.objects[::-1], inst.slots, inst.inspectors, check_end=CHECK_END, load_slack=0)
    assert forward.teams != {u: backward.teams[u] for u in forward.teams}
    assert_constraints(inst, forward)
    assert_constraints(Instance(inst.objects[::-1], inst.slots, inst.inspectors, 0), backward)


def test_a_different_seed_gives_different_teams() -> None:
    def teams(seed: bytes) -> dict[str, list[str | None]]:
        return match(
            seed, tiny_objects(), TINY_SLOTS, TINY_INSPECTORS, check_end=CHECK_END, load_slack=5
        ).teams

    assert len({json.dumps(teams(bytes([k]) * 32)) for k in range(8)}) > 1


# --- random instances ---------------------------------------------------------------------------


class Instance(msgspec.Struct):
    objects: list[MatchObject]
    slots: list[Slot]
    inspectors: list[Inspector]
    slack: int


def build_slot(label: str, inspectors: list[Inspector], **requirements: str | None) -> Slot:
    probe = Slot(label, [], **requirements)
    pool = [
        x.id
        for x in inspectors
        if (probe.department is None or x.department == probe.department)
        and (probe.section is None or x.section == probe.section)
        and (probe.specialty is None or probe.specialty in x.specialties)
        and (x.licence_expiry is None or x.licence_expiry >= CHECK_END)
    ]
    return Slot(label, pool, **requirements)


def random_instance(
    rng: random.Random, n_objects: int, overlapping: bool, slack: int, conflict: float = 0.05
) -> Instance:
    departments = ["D1", "D2", "D3"][: rng.randint(2, 3)]
    inspectors = [
        Inspector(
            f"{rng.getrandbits(64):016x}",
            rng.choice(departments),
            rng.choice(["s1", "s2"]),
            rng.sample(["hc", "fire", "trade"], rng.randint(0, 2)),
            rng.choice([None, "2024-12-31", "2023-07-31", "2023-07-30"]),
        )
        for _ in range(rng.randint(4, 40))
    ]
    slots = [build_slot("lead", inspectors, department="D1", specialty=rng.choice(["hc", "fire"]))]
    slots += [build_slot(f"partner-{d}", inspectors, department=d) for d in departments[1:]]
    if overlapping:
        slots += [build_slot(f"extra-{k}", inspectors) for k in range(rng.randint(1, 2))]
        if rng.random() < 0.5:
            slots.append(build_slot("section-s2", inspectors, section="s2"))
    rng.shuffle(slots)
    ids = [x.id for x in inspectors]
    objects = [
        MatchObject(f"9132{k:014d}", [x for x in ids if rng.random() < conflict] + ["not-on-roster"])
        for k in range(n_objects)
    ]
    return Instance(objects, slots, inspectors, slack)


def run(inst: Instance) -> MatchResult:
    return match(SEED, inst.objects, inst.slots, inst.inspectors, check_end=CHECK_END, load_slack=inst.slack)


def assert_constraints(inst: Instance, result: MatchResult) -> None:
    """The SPEC §5 rules, checked on the output alone (plus the caps the result states)."""
    caps = [result.caps[s.label] for s in inst.slots]
    holes = {(u.uscc, u.slot) for u in result.unfilled}
    counted: Counter[str] = Counter()
    for obj in inst.objects:
        team = result.teams[obj.uscc]
        assert len(team) == len(inst.slots)
        members = [x for x in team if x is not None]
        assert len(set(members)) == len(members), "members distinct"
        assert not set(members) & set(obj.excluded), "no excluded member"
        counted.update(members)
        for i, x in enumerate(team):
            assert (x is None) == ((obj.uscc, i) in holes), "an empty slot is exactly an Unfilled entry"
            if x is not None:
                assert x in inst.slots[i].pool, "each slot from its own pool"
    assert counted == +Counter(result.loads)
    for obj in inst.objects:
        for i, x in enumerate(result.teams[obj.uscc]):
            if x is not None:
                assert result.loads[x] <= caps[i], "loads within the cap of every slot served"
    for u in result.unfilled:
        assert u.reserved + u.on_team + u.excluded + u.at_cap == u.pool_size
        assert f"第{u.slot + 1}名检查人员（{u.slot_label}）无法匹配" in u.reason


@pytest.mark.parametrize("case", range(60))
def test_constraints_hold_on_random_instances(case: int) -> None:
    rng = random.Random(case)
    inst = random_instance(
        rng,
        n_objects=rng.randint(0, 80),
        overlapping=case % 2 == 1,
        slack=rng.randint(0, 2),
        conflict=rng.choice([0.0, 0.05, 0.3]),
    )
    result = run(inst)
    assert_constraints(inst, result)
    assert result == run(inst)


def test_disjoint_pools_get_the_simple_cap() -> None:
    pools = [[f"a{k}" for k in range(7)], [f"b{k}" for k in range(3)], [f"c{k}" for k in range(10)]]
    levels = compute_levels(50, pools)
    assert [math.ceil(lv) for lv in levels.level] == [math.ceil(50 / 7), math.ceil(50 / 3), 5]
    assert levels.working == [frozenset(p) for p in pools]


def test_overlapping_extra_slot_levels_and_why_the_simple_cap_fails() -> None:
    # 10 lead specialists, 10 partners and 10 more lead-department inspectors; a third "any" slot.
    inspectors = [Inspector(f"L{k:02d}", "D1", "s", ["hc"], None) for k in range(10)]
    inspectors += [Inspector(f"P{k:02d}", "D2", "s", [], None) for k in range(10)]
    inspectors += [Inspector(f"O{k:02d}", "D1", "s", [], None) for k in range(10)]
    slots = [
        build_slot("lead", inspectors, department="D1", specialty="hc"),
        build_slot("partner", inspectors, department="D2"),
        build_slot("extra", inspectors),
    ]
    objects = [MatchObject(f"U{k:03d}") for k in range(100)]
    result = match(SEED, objects, slots, inspectors, check_end=CHECK_END, load_slack=1)
    # 300 assignments over 30 people: level 10 for everyone, cap 11, and every team complete.
    assert result.caps == {"lead": 11, "partner": 11, "extra": 11}
    assert result.feasible and max(result.loads.values()) <= 11
    # The naive per-pool cap ceil(100/30) + 1 = 5 for the extra slot: its 30 candidates already carry
    # 200 lead/partner assignments, so the extra slot would be unfillable for most enterprises.
    assert math.ceil(100 / 30) + 1 < sum(result.loads.values()) / 30


def test_scarce_specialists_are_reserved_for_their_slot() -> None:
    inspectors = [Inspector("L1", "D1", "s", ["hc"], None), Inspector("L2", "D1", "s", ["hc"], None)]
    inspectors += [Inspector(f"P{k}", "D2", "s", [], None) for k in range(10)]
    slots = [
        build_slot("lead", inspectors, department="D1", specialty="hc"),
        build_slot("extra", inspectors),
        build_slot("partner", inspectors, department="D2"),
    ]
    objects = [MatchObject(f"U{k:03d}", ["P3"] if k % 7 == 0 else []) for k in range(100)]
    result = match(SEED, objects, slots, inspectors, check_end=CHECK_END, load_slack=1)
    # L1/L2 must do 50 each; the extra slot uses only the partners (200 / 10 = 20 each).
    assert result.caps == {"lead": 51, "extra": 21, "partner": 21}
    assert result.feasible
    assert all(team[1] not in {"L1", "L2"} for team in result.teams.values())
    # When the extra slot cannot be filled, the specialists are counted as reserved, not ignored.
    few = [Inspector("L1", "D1", "s", ["hc"], None), Inspector("P0", "D2", "s", [], None)]
    tight = [build_slot("lead", few, department="D1", specialty="hc"), build_slot("extra", few)]
    result = match(SEED, [MatchObject("U1", ["P0"])], tight, few, check_end=CHECK_END)
    [u] = result.unfilled
    assert (u.pool_size, u.reserved, u.on_team, u.excluded, u.at_cap) == (2, 0, 1, 1, 0)


# --- MATCHING.md's stdlib snippet is the same algorithm ------------------------------------------


def md_recompute() -> Callable[[bytes, dict[str, Any]], Any]:
    text = MATCHING_MD.read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(.*?)```", text, re.S)
    assert snippet is not None
    namespace: dict[str, Any] = {}
    exec(snippet.group(1), namespace)
    return namespace["recompute"]


@pytest.mark.parametrize("case", range(40))
def test_matching_md_snippet_equals_implementation(case: int) -> None:
    recompute = md_recompute()
    rng = random.Random(1000 + case)
    inst = random_instance(
        rng,
        rng.randint(0, 50),
        overlapping=case % 3 != 0,
        slack=rng.randint(0, 2),
        conflict=rng.choice([0.05, 0.3]),
    )
    result = run(inst)
    mp = matching_proof(
        SEED, inst.objects, inst.slots, inst.inspectors, result, check_end=CHECK_END, load_slack=inst.slack
    )
    teams, loads, caps, unfilled = recompute(SEED, msgspec.to_builtins(mp))
    assert (teams, loads, caps) == (result.teams, result.loads, result.caps)
    assert unfilled == [(u.uscc, u.slot) for u in result.unfilled]


# --- input validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a | {"seed": b"short"}, "seed: must be exactly 32 bytes"),
        (lambda a: a | {"load_slack": -1}, "load_slack"),
        (lambda a: a | {"load_slack": True}, "load_slack"),
        (lambda a: a | {"check_end": "2023-7-31"}, "check_end"),
        (lambda a: a | {"check_end": "2023-02-30"}, "check_end"),
        (lambda a: a | {"slots": []}, "slots: a team needs 1 to 12 slots"),
        (lambda a: a | {"slots": [TINY_SLOTS[0]] * (MAX_SLOTS + 1)}, "slots: a team needs"),
        (lambda a: a | {"slots": [TINY_SLOTS[0], TINY_SLOTS[0]]}, r"slots\[1\]: label .* unique"),
        (
            lambda a: a | {"slots": [Slot("x", ["YJ1", "YJ1"])]},
            r"slots\[0\].pool: 'YJ1' listed more than once",
        ),
        (lambda a: a | {"slots": [Slot("x", ["ZZ9"])]}, r"'ZZ9' is not a published inspector"),
        (lambda a: a | {"inspectors": [*TINY_INSPECTORS, TINY_INSPECTORS[0]]}, "listed more than once"),
        (lambda a: a | {"objects": [MatchObject(M9), MatchObject(M9)]}, "USCC .* listed more than once"),
        (lambda a: a | {"objects": [MatchObject("")]}, "USCC '' must be non-empty"),
        # Pool audit: a pool must be exactly what the slot's requirements give.
        (
            lambda a: a | {"slots": [Slot(XF, ["XF1", "XF2", "XF3", "XF4"], department=XF)]},
            "XF4 does not meet the requirements",
        ),
        (
            lambda a: a | {"slots": [Slot(XF, ["XF1", "XF2"], department=XF)]},
            "XF3 meets the requirements .* left out",
        ),
        (
            lambda a: (
                a | {"slots": [Slot("危化", ["YJ1", "YJ2", "YJ3"], department=YJ, specialty="危险化学品")]}
            ),
            "YJ3 does not meet",
        ),
    ],
)
def test_invalid_inputs_are_refused(change: Callable[[dict[str, Any]], dict[str, Any]], message: str) -> None:
    args = {
        "seed": SEED,
        "objects": tiny_objects(),
        "slots": TINY_SLOTS,
        "inspectors": TINY_INSPECTORS,
        "check_end": CHECK_END,
        "load_slack": 0,
    }
    a = change(args)
    with pytest.raises(MatchInputError, match=message):
        match(
            a["seed"],
            a["objects"],
            a["slots"],
            a["inspectors"],
            check_end=a["check_end"],
            load_slack=a["load_slack"],
        )


# --- proofs and the verifier --------------------------------------------------------------------

SECRET = bytes(range(100, 132))


def make_eligible(n: int = 400) -> list[EligibleEntry]:
    rng = random.Random(7)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    usccs = {"91320582" + "".join(rng.choices(alphabet, k=10)) for _ in range(n)}
    return [EligibleEntry(u, rng.choice("ABCD")) for u in sorted(usccs)]


def make_inspectors() -> list[Inspector]:
    rng = random.Random(8)
    out = [
        Inspector(
            f"{rng.getrandbits(128):032x}",
            YJ,
            rng.choice(["危化股", "工贸股"]),
            ["危险化学品"] if k < 5 else ["工贸"],
            rng.choice([None, "2026-01-01"]),
        )
        for k in range(9)
    ]
    out += [Inspector(f"{rng.getrandbits(128):032x}", XF, "防火监督科", ["消防"], None) for _ in range(6)]
    out.append(Inspector(f"{rng.getrandbits(128):032x}", XF, "防火监督科", ["消防"], "2023-05-01"))
    return out


def proof_with_matching(load_slack: int, conflict: float) -> tuple[DrawProof, MatchResult]:
    eligible = make_eligible()
    result: DrawResult = draw(
        eligible, {"A": "0.1", "B": "0.1", "C": "0.1", "D": "0.1"}, SECRET, "联2023001", "3,1,4"
    )
    seed = bytes.fromhex(result.seed)
    inspectors = make_inspectors()
    slots = [
        build_slot(f"{YJ}（危险化学品）", inspectors, department=YJ, specialty="危险化学品"),
        build_slot(XF, inspectors, department=XF),
    ]
    rng = random.Random(9)
    ids = [x.id for x in inspectors]
    objects = [
        MatchObject(u, [x for x in ids if rng.random() < conflict]) for u in draw_order(result.selected)
    ]
    m = match(seed, objects, slots, inspectors, check_end=CHECK_END, load_slack=load_slack)
    section = matching_proof(seed, objects, slots, inspectors, m, check_end=CHECK_END, load_slack=load_slack)
    return build_proof(result, eligible, SECRET, matching=section), m


@pytest.fixture(scope="module")
def proof() -> DrawProof:
    p, m = proof_with_matching(load_slack=1, conflict=0.1)
    assert m.feasible
    return p


@pytest.fixture(scope="module")
def infeasible() -> DrawProof:
    p, m = proof_with_matching(load_slack=0, conflict=0.45)
    assert len(m.unfilled) >= 2
    return p


def section(p: DrawProof) -> MatchingProof:
    return msgspec.convert(p.matching, MatchingProof)


def with_section(p: DrawProof, **changes: Any) -> DrawProof:
    return msgspec.structs.replace(
        p, matching=msgspec.to_builtins(msgspec.structs.replace(section(p), **changes))
    )


def findings(p: DrawProof) -> list[str]:
    return [str(f) for f in verify_matching(p)]


def wheres(p: DrawProof) -> set[str]:
    out = {f.split(": ")[0] for f in findings(p)}
    assert out, "tampering not detected"
    return out


def test_genuine_proofs_verify_and_round_trip(proof: DrawProof, infeasible: DrawProof) -> None:
    for p in (proof, infeasible):
        assert findings(p) == []
        assert load_proof(encode_proof(p)) == p
        assert verify_proof(load_proof(encode_proof(p)), [verify_matching]).ok
    assert verify_matching(msgspec.structs.replace(proof, matching=None)) == []
    mp = section(proof)
    assert [o.uscc for o in mp.objects] == draw_order(proof.selected) and mp.seed == proof.seed
    assert [x.id for x in mp.inspectors] == sorted(x.id for x in mp.inspectors)


def test_swapped_members(proof: DrawProof) -> None:
    mp = section(proof)
    u1, u2 = next(
        (a, b)
        for a, b in zip(mp.objects, mp.objects[1:], strict=False)
        if mp.teams[a.uscc][1] != mp.teams[b.uscc][1]
    )
    t1, t2 = mp.teams[u1.uscc], mp.teams[u2.uscc]
    teams = {**mp.teams, u1.uscc: [t1[0], t2[1]], u2.uscc: [t2[0], t1[1]]}
    out = findings(with_section(proof, teams=teams))
    assert f"matching.teams[{u1.uscc}][1]: expected {t1[1]}, proof says {t2[1]}" in out
    assert f"matching.teams[{u2.uscc}][1]: expected {t2[1]}, proof says {t1[1]}" in out
    # Swapping the two slots of one team breaks the pool rule as well.
    out = findings(with_section(proof, teams={**mp.teams, u1.uscc: t1[::-1]}))
    assert f"matching.teams[{u1.uscc}][0]: {t1[1]} is not in the pool of slot '{mp.slots[0].label}'" in out


def test_member_replaced_by_an_excluded_one(proof: DrawProof) -> None:
    mp = section(proof)
    pool = set(mp.slots[1].pool)
    obj = next(o for o in mp.objects if set(o.excluded) & pool)
    bad = sorted(set(obj.excluded) & pool)[0]
    team = mp.teams[obj.uscc]
    out = findings(with_section(proof, teams={**mp.teams, obj.uscc: [team[0], bad]}))
    assert f"matching.teams[{obj.uscc}][1]: {bad} is excluded for this enterprise (回避)" in out
    assert f"matching.teams[{obj.uscc}][1]: expected {team[1]}, proof says {bad}" in out


def test_duplicate_member_and_loads_over_cap(proof: DrawProof) -> None:
    mp = section(proof)
    obj = mp.objects[0]
    out = findings(with_section(proof, teams={**mp.teams, obj.uscc: [mp.teams[obj.uscc][0]] * 2}))
    assert f"matching.teams[{obj.uscc}]: {mp.teams[obj.uscc][0]} appears 2 times" in out
    # Give one partner inspector every enterprise: over the cap, and the loads no longer add up.
    x = mp.slots[1].pool[0]
    teams = {u: [t[0], x] for u, t in mp.teams.items()}
    loads = {**mp.loads, x: len(teams)}
    out = findings(with_section(proof, teams=teams, loads=loads))
    assert (
        f"matching.loads[{x}]: {len(teams)} assignments, over the cap {mp.caps[mp.slots[1].label]} of slot '{XF}'"
        in out
    )
    assert f"matching.loads[{x}]: expected {mp.loads[x]}, proof says {len(teams)}" in out


def test_changed_load_slack(proof: DrawProof) -> None:
    mp = section(proof)
    out = findings(with_section(proof, load_slack=mp.load_slack + 3))
    label = mp.slots[0].label
    assert f"matching.caps[{label}]: expected {mp.caps[label] + 3}, proof says {mp.caps[label]}" in out


def test_changed_seed(proof: DrawProof) -> None:
    out = findings(with_section(proof, seed="00" * 32))
    assert out == [f"matching.seed: differs from the draw's seed: draw {proof.seed}, matching {'00' * 32}"]
    # Re-running the whole matching under another seed is caught by the recomputation as well.
    mp = section(proof)
    other = match(
        bytes(32), mp.objects, mp.slots, mp.inspectors, check_end=mp.check_end, load_slack=mp.load_slack
    )
    forged = with_section(
        proof, seed="00" * 32, teams=other.teams, loads=other.loads, unfilled=other.unfilled
    )
    found = wheres(forged)
    assert "matching.seed" in found
    assert any(w.startswith("matching.teams[") for w in found)


def test_removed_or_changed_unfilled_entry(infeasible: DrawProof) -> None:
    mp = section(infeasible)
    out = findings(with_section(infeasible, unfilled=mp.unfilled[1:]))
    assert f"matching.unfilled: expected {len(mp.unfilled)} entries, proof has {len(mp.unfilled) - 1}" in out
    assert (
        f"matching.unfilled[0]: expected {mp.unfilled[0].reason}, proof says {mp.unfilled[1].reason}" in out
    )
    softer = msgspec.structs.replace(
        mp.unfilled[0], at_cap=0, excluded=mp.unfilled[0].excluded + mp.unfilled[0].at_cap
    )
    assert "matching.unfilled[0]" in wheres(with_section(infeasible, unfilled=[softer, *mp.unfilled[1:]]))
    # Filling a hole with somebody excluded or at the cap is caught too.
    hole = mp.unfilled[0]
    team = list(mp.teams[hole.uscc])
    team[hole.slot] = mp.slots[hole.slot].pool[0]
    assert f"matching.teams[{hole.uscc}][{hole.slot}]" in wheres(
        with_section(infeasible, teams={**mp.teams, hole.uscc: team})
    )


def test_pool_and_inputs_tampering(proof: DrawProof) -> None:
    mp = section(proof)
    left_out = mp.slots[1].pool[-1]
    slots = [mp.slots[0], msgspec.structs.replace(mp.slots[1], pool=mp.slots[1].pool[:-1])]
    out = findings(with_section(proof, slots=slots))
    assert f"matching.slots[1].pool: {left_out} meets the requirements of slot '{XF}' but is left out" in out
    expired = [
        msgspec.structs.replace(x, licence_expiry="2023-07-30") if x.id == left_out else x
        for x in mp.inspectors
    ]
    assert "matching.slots[1].pool" in wheres(with_section(proof, inspectors=expired))
    # Dropping the exclusions (to hide a conflict) changes the recomputed teams somewhere.
    objects = [MatchObject(o.uscc, []) for o in mp.objects]
    assert any(w.startswith("matching.teams[") for w in wheres(with_section(proof, objects=objects)))
    assert "matching.objects" in wheres(with_section(proof, objects=mp.objects[::-1]))
    assert "matching.objects" in wheres(with_section(proof, objects=mp.objects[1:]))


def test_malformed_or_unknown_section(proof: DrawProof) -> None:
    assert wheres(msgspec.structs.replace(proof, matching={"version": "spotcheck-match-v9"})) == {
        "matching.version"
    }
    broken = {**proof.matching, "teams": "nope"}  # type: ignore[dict-item]
    assert wheres(msgspec.structs.replace(proof, matching=broken)) == {"matching"}
    out = findings(with_section(proof, load_slack=-2))
    assert "matching.load_slack: must be a non-negative integer, got -2" in out
    assert out[-1] == "matching: cannot be recomputed until the problems above are fixed"


def test_cli_checks_matching(
    proof: DrawProof, infeasible: DrawProof, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "proof.json"
    path.write_bytes(encode_proof(proof))
    assert main([str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "VALID"
    mp = section(proof)
    assert lines[-1] == (
        f"  matching spotcheck-match-v1: {len(mp.teams)} teams of 2, caps "
        f"{mp.slots[0].label} {mp.caps[mp.slots[0].label]}, {XF} {mp.caps[XF]}; all slots filled"
    )
    path.write_bytes(encode_proof(infeasible))
    assert main([str(path)]) == 0
    assert "INFEASIBLE" in capsys.readouterr().out.splitlines()[-1]
    obj = mp.objects[0]
    team = mp.teams[obj.uscc]
    path.write_bytes(encode_proof(with_section(proof, teams={**mp.teams, obj.uscc: team[::-1]})))
    assert main([str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "INVALID"
    assert f"  matching.teams[{obj.uscc}][0]: expected {team[0]}, proof says {team[1]}" in lines


def test_unusable_draw_seed_stops_the_recomputation(proof: DrawProof) -> None:
    out = findings(msgspec.structs.replace(proof, seed="zz"))
    assert out[-1] == "matching: cannot be recomputed: the draw's seed is not 64 lowercase hex digits"
    assert out[0].startswith("matching.seed: differs from the draw's seed")
