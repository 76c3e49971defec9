"""Deterministic, verifiable inspector matching `spotcheck-match-v1` (SPEC §5; MATCHING.md).

Pure and I/O-free, like `protocol.py`: the caller (the matching service) loads inspectors, builds the
slot pools and the per-enterprise exclusions, and publishes the result in the draw's proof file; the
verifier (`spotcheck verify-draw`) recomputes it from the proof alone via `verify_matching`.

Shape of the algorithm:
- each slot of the team has a pool of inspectors, built by the caller so that the team-composition
  constraints (lead department with the specialty, partner department, joint sections) hold by
  construction; the slot also *declares* those requirements, so the verifier can audit the pools;
- a workload cap per slot comes from the fair share of the pool's group (water-filling levels, see
  `compute_levels`), plus `load_slack`;
- slot by slot (scarcest pool first), objects in draw order: the slot walks its pool (sorted by a
  seeded hash) cyclically from a seeded offset and takes the first inspector who is not on the team
  yet, not excluded for this enterprise, and below the cap. Nothing is ever relaxed: a slot that
  cannot be filled is reported.

Speed: the walk skips inspectors at their cap with a union-find "next available position" array per
pool (path halving), so a full inspector costs nothing after it fills up; what remains per slot is one
SHA-256 and a few set look-ups, i.e. O(N × slots) plus the conflicts actually met.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import msgspec

from services.draw.protocol import RISK_STRATA, SINGLE_STRATUM

VERSION = "spotcheck-match-v1"
SEED_BYTES = 32
# Caps are computed by enumerating subsets of slots (2^slots); teams are 2–5 people in practice.
MAX_SLOTS = 12
_INSPECTOR_TAG = b"spotcheck-match-v1|inspector|"
_SLOT_TAG = b"spotcheck-match-v1|slot|"
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FORBIDDEN_RE = re.compile("[\x00-\x1f\x7f]")
_HEX_SEED_RE = re.compile(f"[0-9a-f]{{{2 * SEED_BYTES}}}")


class MatchInputError(ValueError):
    """The inputs break the matching rules; the message names the offending value."""


# --- inputs -------------------------------------------------------------------------------------


class Inspector(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Facts about one inspector, published so that pool construction can be audited.

    `id` is an opaque identifier (a UUID), never a name: the proof is public.
    `licence_expiry` is an ISO date (`YYYY-MM-DD`, last valid day) or None for no expiry.
    """

    id: str
    department: str
    section: str
    specialties: list[str]
    licence_expiry: str | None


class Slot(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One position of the team: its label, its pool, and the requirements the pool was built from.

    A requirement set to None means "any". The pool must be exactly the inspectors (of the published
    `inspectors` list) that meet every requirement and whose licence is valid through `check_end`.
    """

    label: str
    pool: list[str]
    department: str | None = None
    section: str | None = None
    specialty: str | None = None


class MatchObject(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A drawn enterprise and the inspectors who may not check it.

    `excluded` holds declared conflicts of interest (回避) and the inspector(s) who checked it last time.
    """

    uscc: str
    excluded: list[str] = msgspec.field(default_factory=list)


# --- outputs ------------------------------------------------------------------------------------


class Unfilled(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A slot that could not be filled, with why: every member of the declared pool is counted once,
    in the first category that applies (reserved, on this team, excluded, at the cap)."""

    uscc: str
    slot: int  # 0-based index into `slots`
    slot_label: str
    pool_size: int  # declared pool
    reserved: int  # held back for a scarcer slot (outside this slot's working pool, see `compute_levels`)
    on_team: int  # already on this enterprise's team
    excluded: int  # conflict of interest or previous inspector
    at_cap: int  # at this slot's workload cap
    cap: int
    reason: str  # Chinese, shown to planners


class MatchResult(msgspec.Struct, frozen=True):
    version: str
    teams: dict[str, list[str | None]]  # uscc -> inspector id per slot (None where unfilled), draw order
    loads: dict[str, int]  # every published inspector -> number of assignments
    caps: dict[str, int]  # slot label -> workload cap
    unfilled: list[Unfilled]  # in processing order; empty iff feasible

    @property
    def feasible(self) -> bool:
        return not self.unfilled


class MatchingProof(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The `matching` section of the draw's proof file: every input needed to recompute, and the result.

    Canonical form: inspectors sorted by id, pools and exclusions sorted by id, exclusions limited to
    published inspectors; slots and objects in their meaningful order.
    """

    version: str
    seed: str  # hex; must be the draw's seed
    check_end: str  # last check date (ISO); licences must be valid through it
    load_slack: int
    inspectors: list[Inspector]
    slots: list[Slot]
    objects: list[MatchObject]  # drawn USCCs in draw order (see `draw_order`)
    teams: dict[str, list[str | None]]
    loads: dict[str, int]
    caps: dict[str, int]
    unfilled: list[Unfilled]


# --- primitives ---------------------------------------------------------------------------------


def draw_order(selected: Mapping[str, Sequence[str]]) -> list[str]:
    """Drawn USCCs flattened in stratum order A, B, C, D (or ALL), each stratum in rank order.

    Fixed here rather than taken from dict order, because the proof file writes maps with sorted keys.
    """
    return [u for s in (*RISK_STRATA, SINGLE_STRATUM) for u in selected.get(s, ())]


def inspector_key(seed: bytes, inspector_id: str) -> bytes:
    """SHA-256(seed || "spotcheck-match-v1|inspector|" || id); pools are walked in (key, id) order."""
    return hashlib.sha256(seed + _INSPECTOR_TAG + inspector_id.encode()).digest()


def slot_offset(seed: bytes, slot: int, uscc: str, pool_size: int) -> int:
    """Where slot `slot` of enterprise `uscc` starts walking its sorted pool."""
    digest = hashlib.sha256(seed + _SLOT_TAG + str(slot).encode("ascii") + b"|" + uscc.encode()).digest()
    return int.from_bytes(digest[:8], "big") % pool_size


def sort_pool(seed: bytes, pool: Iterable[str]) -> list[str]:
    return sorted(pool, key=lambda i: (inspector_key(seed, i), i))


@dataclass(frozen=True, slots=True)
class Levels:
    """Fair-share level and working pool of each slot (see `compute_levels`)."""

    level: list[Fraction]
    working: list[frozenset[str]]


def compute_levels(n: int, pools: Sequence[Iterable[str]]) -> Levels:
    """Water-filling levels: the least possible maximum load of the inspectors serving each slot.

    Why not simply ceil(N / |pool|): loads count across slots, so when pools overlap (an extra slot
    drawing from "all eligible inspectors") the members of the extra slot's pool already carry the
    other slots' work, and a per-pool share makes the extra slot unfillable for most enterprises.

    Rounds: among the remaining slots with a non-empty pool, find the subsets T maximising
    ratio(T) = N·|T| / |U(T)|, where U(T) is the union of their pools minus the inspectors already
    taken by earlier rounds; the union T* of all maximising subsets also maximises it. The slots of T*
    get level ratio(T*) and the working pool "own pool ∩ U(T*)"; those inspectors leave, and the next
    round starts. For disjoint pools every slot is its own round and the level is exactly N / |pool|.
    Inspectors who belong to a denser (scarcer) round are kept out of later slots' working pools, so an
    extra slot cannot use up the only inspectors a required slot can take.
    """
    frozen = [frozenset(p) for p in pools]
    level = [Fraction(0)] * len(frozen)
    working: list[frozenset[str]] = [frozenset()] * len(frozen)
    if n == 0:
        return Levels(level, list(frozen))
    ids = sorted(set().union(*frozen))
    bit = {inspector: 1 << k for k, inspector in enumerate(ids)}
    masks = [sum(bit[i] for i in p) for p in frozen]
    remaining = [i for i, p in enumerate(frozen) if p]
    taken = 0
    while remaining:
        r = len(remaining)
        union = [0] * (1 << r)
        best: Fraction | None = None
        best_slots = 0
        for subset in range(1, 1 << r):
            low = subset & -subset
            union[subset] = union[subset ^ low] | masks[remaining[low.bit_length() - 1]]
            size = (union[subset] & ~taken).bit_count()
            if size == 0:  # impossible for n > 0: T* would have absorbed these slots
                raise AssertionError("slot pool exhausted by earlier rounds")
            ratio = Fraction(n * subset.bit_count(), size)
            if best is None or ratio > best:
                best, best_slots = ratio, subset
            elif ratio == best:
                best_slots |= subset
        assert best is not None
        group = union[best_slots] & ~taken
        for k in range(r):
            if best_slots >> k & 1:
                i = remaining[k]
                level[i] = best
                working[i] = frozenset(x for x in frozen[i] if bit[x] & group)
        taken |= group
        remaining = [i for k, i in enumerate(remaining) if not best_slots >> k & 1]
    return Levels(level, working)


# --- validation and audit -----------------------------------------------------------------------


def _bad_id(value: object) -> bool:
    return not isinstance(value, str) or not value or bool(_FORBIDDEN_RE.search(value))


def _bad_date(value: str) -> bool:
    if not _DATE_RE.fullmatch(value):
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return True
    return False


def _structural_problems(
    seed: bytes,
    objects: Sequence[MatchObject],
    slots: Sequence[Slot],
    inspectors: Sequence[Inspector],
    check_end: str,
    load_slack: int,
) -> list[tuple[str, str]]:
    """Problems that make the matching undefined: (where, message), in input order."""
    out: list[tuple[str, str]] = []
    if not isinstance(seed, bytes) or len(seed) != SEED_BYTES:
        out.append(("seed", f"must be exactly {SEED_BYTES} bytes"))
    if isinstance(load_slack, bool) or not isinstance(load_slack, int) or load_slack < 0:
        out.append(("load_slack", f"must be a non-negative integer, got {load_slack!r}"))
    if _bad_date(check_end):
        out.append(("check_end", f"must be an ISO date YYYY-MM-DD, got {check_end!r}"))
    seen: set[str] = set()
    for k, insp in enumerate(inspectors):
        if _bad_id(insp.id):
            out.append((f"inspectors[{k}]", f"id {insp.id!r} must be non-empty without control characters"))
        elif insp.id in seen:
            out.append((f"inspectors[{k}]", f"id {insp.id!r} listed more than once"))
        seen.add(insp.id)
        if insp.licence_expiry is not None and _bad_date(insp.licence_expiry):
            out.append((f"inspectors[{k}]", f"licence_expiry {insp.licence_expiry!r} is not YYYY-MM-DD"))
    if not 1 <= len(slots) <= MAX_SLOTS:
        out.append(("slots", f"a team needs 1 to {MAX_SLOTS} slots, got {len(slots)}"))
    labels: set[str] = set()
    for i, slot in enumerate(slots):
        if not slot.label or slot.label in labels:
            out.append((f"slots[{i}]", f"label {slot.label!r} must be non-empty and unique"))
        labels.add(slot.label)
        unknown = sorted(set(slot.pool) - seen)
        if unknown:
            out.append((f"slots[{i}].pool", f"{unknown[0]!r} is not a published inspector"))
        dup = [x for x, c in Counter(slot.pool).items() if c > 1]
        if dup:
            out.append((f"slots[{i}].pool", f"{dup[0]!r} listed more than once"))
    usccs: set[str] = set()
    for k, obj in enumerate(objects):
        if _bad_id(obj.uscc):
            out.append((f"objects[{k}]", f"USCC {obj.uscc!r} must be non-empty without control characters"))
        elif obj.uscc in usccs:
            out.append((f"objects[{k}]", f"USCC {obj.uscc!r} listed more than once"))
        usccs.add(obj.uscc)
    # `excluded` ids are not validated one by one: they are only tested for membership, so an id that
    # names nobody on the roster simply has no effect (and `matching_proof` leaves it out).
    return out


def _eligible(insp: Inspector, slot: Slot, check_end: str) -> bool:
    return (
        (slot.department is None or insp.department == slot.department)
        and (slot.section is None or insp.section == slot.section)
        and (slot.specialty is None or slot.specialty in insp.specialties)
        and (insp.licence_expiry is None or insp.licence_expiry >= check_end)
    )


def audit_pools(
    slots: Sequence[Slot], inspectors: Sequence[Inspector], check_end: str
) -> list[tuple[str, str]]:
    """Each pool must be exactly the published inspectors meeting the slot's declared requirements.

    ISO dates of equal format compare correctly as strings. Assumes the structural checks passed.
    """
    out: list[tuple[str, str]] = []
    for i, slot in enumerate(slots):
        where = f"slots[{i}].pool"
        want = {x.id for x in inspectors if _eligible(x, slot, check_end)}
        have = set(slot.pool)
        for x in sorted(have - want):
            out.append((where, f"{x} does not meet the requirements of slot {slot.label!r} on {check_end}"))
        for x in sorted(want - have):
            out.append((where, f"{x} meets the requirements of slot {slot.label!r} but is left out"))
    return out


# --- the matching -------------------------------------------------------------------------------


def match(
    seed: bytes,
    objects: Sequence[MatchObject],
    slots: Sequence[Slot],
    inspectors: Sequence[Inspector],
    *,
    check_end: str,
    load_slack: int = 1,
) -> MatchResult:
    """Run `spotcheck-match-v1`. Raises MatchInputError on invalid inputs or pools that do not match
    their declared requirements; an infeasible instance is *not* an error (see `MatchResult.unfilled`)."""
    problems = _structural_problems(seed, objects, slots, inspectors, check_end, load_slack)
    problems += [] if problems else audit_pools(slots, inspectors, check_end)
    if problems:
        where, message = problems[0]
        raise MatchInputError(f"{where}: {message}")
    return _match(seed, objects, slots, inspectors, load_slack)


def _walk(nxt: list[int], pool: list[str], start: int, taken: set[str], excluded: frozenset[str]) -> int:
    """First position from `start` (cyclically) whose inspector is below the cap, not on the team and
    not excluded; -1 if none. `nxt` is the union-find "next position below the cap" array."""
    size = len(pool)
    pos = _find(nxt, start)
    while pos < size:
        inspector = pool[pos]
        if inspector not in taken and inspector not in excluded:
            return pos
        pos = _find(nxt, pos + 1)
    pos = _find(nxt, 0)
    while pos < start:
        inspector = pool[pos]
        if inspector not in taken and inspector not in excluded:
            return pos
        pos = _find(nxt, pos + 1)
    return -1


def _find(nxt: list[int], k: int) -> int:
    # Path halving; nxt[size] == size is the sentinel "end of pool".
    while nxt[k] != k:
        nxt[k] = k = nxt[nxt[k]]
    return k


def _match(
    seed: bytes,
    objects: Sequence[MatchObject],
    slots: Sequence[Slot],
    inspectors: Sequence[Inspector],
    load_slack: int,
) -> MatchResult:
    n = len(objects)
    levels = compute_levels(n, [s.pool for s in slots])
    caps = [math.ceil(lv) + load_slack for lv in levels.level]
    pools = [sort_pool(seed, w) for w in levels.working]
    nxt = [list(range(len(p) + 1)) for p in pools]
    # Each inspector is in the working pools of one round only, so all its slots share one cap.
    cap_of: dict[str, int] = {}
    where: dict[str, list[tuple[int, int]]] = {}
    for i, pool in enumerate(pools):
        for pos, inspector in enumerate(pool):
            cap_of[inspector] = caps[i]
            where.setdefault(inspector, []).append((i, pos))
    loads = dict.fromkeys((x.id for x in inspectors), 0)
    sha256 = hashlib.sha256
    encoded = [o.uscc.encode() for o in objects]
    exclusions = [frozenset(o.excluded) for o in objects]
    teams: list[list[str | None]] = [[None] * len(slots) for _ in objects]
    taken: list[set[str]] = [set() for _ in objects]
    unfilled: list[tuple[int, int, Unfilled]] = []
    # Slot-major, scarcest working pool first: a slot sees the final loads of the slots it shares
    # inspectors with, so a broad "extra" slot fills in around the required ones instead of using up
    # their members early. Slots of different rounds share nobody, so only order within a round matters.
    for i in sorted(range(len(slots)), key=lambda i: (len(pools[i]), i)):
        pool, nx, size = pools[i], nxt[i], len(pools[i])
        prefix = seed + _SLOT_TAG + str(i).encode("ascii") + b"|"
        for o, obj in enumerate(objects):
            team_set, excluded = taken[o], exclusions[o]
            pos = -1
            if size:
                start = int.from_bytes(sha256(prefix + encoded[o]).digest()[:8], "big") % size
                pos = _walk(nx, pool, start, team_set, excluded)
            if pos < 0:
                u = _unfilled(obj.uscc, i, slots[i], levels.working[i], caps[i], team_set, excluded)
                unfilled.append((o, i, u))
                continue
            inspector = pool[pos]
            teams[o][i] = inspector
            team_set.add(inspector)
            load = loads[inspector] = loads[inspector] + 1
            if load == cap_of[inspector]:
                for j, q in where[inspector]:
                    nxt[j][q] = q + 1
    return MatchResult(
        version=VERSION,
        teams={obj.uscc: team for obj, team in zip(objects, teams, strict=True)},
        loads=loads,
        caps={s.label: c for s, c in zip(slots, caps, strict=True)},
        unfilled=[u for _, _, u in sorted(unfilled, key=lambda t: t[:2])],
    )


def _unfilled(
    uscc: str,
    i: int,
    slot: Slot,
    working: frozenset[str],
    cap: int,
    taken: set[str],
    excluded: frozenset[str],
) -> Unfilled:
    # The walk found nobody, so every working-pool member is on the team, excluded, or at the cap.
    on_team = len(taken & working)
    excl = len((excluded & working) - taken)
    at_cap = len(working) - on_team - excl
    reserved = len(slot.pool) - len(working)
    head = f"企业 {uscc} 的第{i + 1}名检查人员（{slot.label}）无法匹配："
    if not slot.pool:
        reason = head + "没有符合条件的检查人员"
    else:
        parts = [
            f"{reserved} 人留给更紧缺的岗位" if reserved else "",
            f"{on_team} 人已在本组" if on_team else "",
            f"{excl} 人回避" if excl else "",
            f"{at_cap} 人已达工作量上限（{cap} 家）" if at_cap else "",
        ]
        reason = head + f"可选 {len(slot.pool)} 人，其中 " + "、".join(p for p in parts if p)
    return Unfilled(uscc, i, slot.label, len(slot.pool), reserved, on_team, excl, at_cap, cap, reason)


# --- the proof section --------------------------------------------------------------------------


def matching_proof(
    seed: bytes,
    objects: Sequence[MatchObject],
    slots: Sequence[Slot],
    inspectors: Sequence[Inspector],
    result: MatchResult,
    *,
    check_end: str,
    load_slack: int = 1,
) -> MatchingProof:
    """The canonical `matching` section for `proof.build_proof(..., matching=...)`.

    Exclusions naming inspectors outside the published list cannot affect the result and are dropped,
    so the proof reveals no more declared conflicts than needed.
    """
    known = {x.id for x in inspectors}
    return MatchingProof(
        version=result.version,
        seed=seed.hex(),
        check_end=check_end,
        load_slack=load_slack,
        inspectors=sorted(inspectors, key=lambda x: x.id),
        slots=[msgspec.structs.replace(s, pool=sorted(s.pool)) for s in slots],
        objects=[MatchObject(o.uscc, sorted(set(o.excluded) & known)) for o in objects],
        teams=result.teams,
        loads=result.loads,
        caps=result.caps,
        unfilled=result.unfilled,
    )
