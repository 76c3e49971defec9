"""The verifiable draw `spotcheck-draw-v1` (SPEC §4; described for re-implementers in PROTOCOL.md).

Everything here is pure and deterministic except `new_secret()`, which is kept apart so that the
draw itself can be recomputed by anyone from the published proof.

Input type: eligible entries are `EligibleEntry` msgspec Structs (uscc, stratum). A Struct rather
than a bare tuple because the same type is the `eligible` item of the JSON proof file, so what is
drawn and what is published cannot drift apart.

Speed: the per-entry SHA-256 is an unavoidable Python-level loop, so everything else is either a
C-level builtin (sort, join, set) or numpy. The lowest-k selection partitions on the first 8 bytes
of each score and only compares full scores (and USCCs) where those prefixes tie, which gives the
same result as sorting by (score, USCC) — tests prove it against a naive reference.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
import numpy as np

VERSION = "spotcheck-draw-v1"
RISK_STRATA: tuple[str, ...] = ("A", "B", "C", "D")
SINGLE_STRATUM = "ALL"
SECRET_BYTES = 32
SCORE_BYTES = 32

# ASCII digits only (`\d` would accept other scripts' digits); no sign, exponent or spaces, so every
# implementation parses the announced ratio string identically.
_RATIO_RE = re.compile(r"[0-9]{1,9}(\.[0-9]{1,18})?")
# C0 controls and DEL never occur in a registry code. Forbidding them keeps the TAB/LF framing of the
# canonical list unambiguous, and because TAB is then below every USCC character, sorting whole
# "USCC\tSTRATUM" lines orders them exactly by USCC (used by `prepare_population`).
_FORBIDDEN_RE = re.compile("[\x00-\x1f\x7f]")
_FORBIDDEN_BYTES = bytes(range(0x20)) + b"\x7f"


class DrawInputError(ValueError):
    """The inputs of a draw break the protocol; the message names the offending value."""


class EligibleEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One eligible enterprise: its USCC and its stratum (`A`–`D`, or `ALL` for a single stratum)."""

    uscc: str
    stratum: str


@dataclass(frozen=True, slots=True)
class Population:
    """A validated eligible list: columns in input order plus its canonical hash and stratum sizes."""

    usccs: list[str]
    strata: list[str]
    population_hash: str
    sizes: dict[str, int]


class DrawResult(msgspec.Struct, frozen=True):
    """Everything a draw produces except the secret and the eligible list (see proof.build_proof)."""

    version: str
    task_number: str
    ratios: dict[str, str]
    public_entropy: str
    population_hash: str
    commitment: str
    seed: str  # hex
    sizes: dict[str, int]  # n per stratum named in `ratios`
    quotas: dict[str, int]  # k per stratum named in `ratios`
    selected: dict[str, list[str]]  # per stratum, in rank order


# --- the only impure function -------------------------------------------------------------------


def new_secret() -> bytes:
    """32 bytes from the OS CSPRNG; the draw's secret, committed to before the draw."""
    return os.urandom(SECRET_BYTES)


# --- protocol primitives ------------------------------------------------------------------------


def commitment(secret: bytes) -> str:
    """hex(SHA-256(secret)), published before the draw so the secret cannot be chosen afterwards."""
    return hashlib.sha256(secret).hexdigest()


def derive_seed(secret: bytes, task_number: str, population_hash: str, public_entropy: str) -> bytes:
    """HMAC-SHA256 keyed by the secret over the task, the frozen list and the public entropy."""
    msg = f"{VERSION}|{task_number}|{population_hash}|{public_entropy}".encode()
    return hmac.new(secret, msg, hashlib.sha256).digest()


def score(seed: bytes, uscc: str) -> bytes:
    """SHA-256(seed || UTF-8(uscc)); entries are ranked by this, compared as bytes."""
    return hashlib.sha256(seed + uscc.encode()).digest()


def parse_ratio(stratum: str, text: object) -> Decimal:
    """A ratio must be a plain decimal string with 0 < r ≤ 1 (floats would make k inexact)."""
    if not isinstance(text, str):
        raise DrawInputError(f"ratio for stratum {stratum}: not a decimal string like '0.05': {text!r}")
    if not _RATIO_RE.fullmatch(text):
        raise DrawInputError(f"ratio for stratum {stratum}: {text!r} is not a plain decimal like '0.05'")
    value = Decimal(text)
    if not 0 < value <= 1:
        raise DrawInputError(f"ratio for stratum {stratum}: {text!r} is not in (0, 1]")
    return value


def sample_size(n: int, ratio: Decimal) -> int:
    """k = min(n, ceil(r × n)) computed on integers, so no precision context can round it."""
    num, den = ratio.as_integer_ratio()
    return min(n, -((-num * n) // den))


# --- validation and the canonical list ----------------------------------------------------------


def _check_stratum_names(names: Iterable[str], what: str) -> None:
    names = set(names)
    unknown = sorted(names - {*RISK_STRATA, SINGLE_STRATUM}, key=repr)
    if unknown:
        raise DrawInputError(f"{what}: unknown stratum {unknown[0]!r} (expected A, B, C, D or ALL)")
    if SINGLE_STRATUM in names and len(names) > 1:
        others = ", ".join(sorted(names - {SINGLE_STRATUM}))
        raise DrawInputError(f"{what}: stratum ALL cannot be combined with {others}")


def _check_usccs(usccs: list[str]) -> None:
    """Non-empty strings, UTF-8 encodable, no control characters (duplicates: see canonical_list)."""
    # Fast whole-list checks first; only on failure scan for the offender to name it.
    try:
        encoded = "".join(usccs).encode()
    except TypeError:
        bad: object = next(u for u in usccs if not isinstance(u, str))
        raise DrawInputError(f"USCC {bad!r}: must be a string") from None
    except UnicodeEncodeError:
        bad = next(u for u in usccs if not _encodable(u))
        raise DrawInputError(f"USCC {bad!r}: not encodable as UTF-8") from None
    # In UTF-8, bytes below 0x80 only ever encode themselves, so deleting the control bytes and
    # comparing lengths finds control characters without a per-character Python loop.
    if len(encoded.translate(None, _FORBIDDEN_BYTES)) != len(encoded) or "" in usccs:
        bad = next(u for u in usccs if not u or _FORBIDDEN_RE.search(u))
        raise DrawInputError(f"USCC {bad!r}: must be non-empty without control characters")


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def prepare_population(eligible: Iterable[EligibleEntry]) -> Population:
    """Validate the eligible list and hash its canonical form (sorted `USCC\\tSTRATUM\\n` lines)."""
    entries = eligible if isinstance(eligible, Sequence) else list(eligible)
    usccs = [e.uscc for e in entries]
    strata = [e.stratum for e in entries]
    _check_usccs(usccs)
    sizes = dict(Counter(strata))
    _check_stratum_names(sizes, "eligible list")
    return Population(usccs, strata, hashlib.sha256(canonical_list(usccs, strata)).hexdigest(), sizes)


def canonical_list(usccs: Sequence[str], strata: Sequence[str]) -> bytes:
    """The exact bytes hashed into population_hash; raises DrawInputError on a duplicate USCC.

    `usccs` must have passed `_check_usccs` and `strata` the stratum-name check.
    """
    if not usccs:
        return b""
    text = "\n".join(map("\t".join, zip(usccs, strata, strict=True))) + "\n"
    # Plain str order is code point order, which equals UTF-8 byte order; TAB sorts below any
    # allowed USCC character and equal USCCs are rejected, so line order is USCC order.
    width, stratum_width = len(usccs[0]), len(strata[0])
    fixed = len(set(map(len, usccs))) == 1 and {len(s) for s in set(strata)} == {stratum_width}
    if fixed and text.isascii():
        return _canonical_fixed_width(text.encode(), width, stratum_width)
    lines = text.split("\n")[:-1]
    if len(set(usccs)) != len(usccs):
        _raise_duplicate(usccs)
    lines.sort()
    return ("\n".join(lines) + "\n").encode()


def _canonical_fixed_width(data: bytes, width: int, stratum_width: int) -> bytes:
    # Every line has the same length, so numpy can sort them as fixed-width byte strings (NUL-free,
    # ASCII, so its order is byte order) — several times faster than sorting a list of str.
    record = width + stratum_width + 2
    lines = np.sort(np.frombuffer(data, dtype=f"S{record}"))
    keys = lines.view(np.dtype([("uscc", f"S{width}"), ("rest", f"S{record - width}")]))["uscc"]
    dup = np.flatnonzero(keys[1:] == keys[:-1])
    if dup.size:
        raise DrawInputError(f"USCC {keys[dup[0]].decode()!r}: listed more than once")
    return lines.tobytes()


def _raise_duplicate(usccs: Iterable[str]) -> None:
    seen: set[str] = set()
    for uscc in usccs:
        if uscc in seen:
            raise DrawInputError(f"USCC {uscc!r}: listed more than once")
        seen.add(uscc)


def compute_quotas(ratios: Mapping[str, object], sizes: Mapping[str, int]) -> dict[str, int]:
    """k per stratum named in `ratios`; every non-empty stratum must have a ratio."""
    if not ratios:
        raise DrawInputError("ratios: at least one stratum ratio is required")
    _check_stratum_names(ratios, "ratios")
    missing = [s for s in sorted(sizes) if sizes[s] and s not in ratios]
    if missing:
        s = missing[0]
        raise DrawInputError(f"ratios: no ratio for stratum {s} ({sizes[s]} eligible entries)")
    return {s: sample_size(sizes.get(s, 0), parse_ratio(s, ratios[s])) for s in _stratum_order(ratios)}


def _stratum_order(names: Iterable[str]) -> list[str]:
    order = {s: i for i, s in enumerate((*RISK_STRATA, SINGLE_STRATUM))}
    return sorted(names, key=order.__getitem__)


def check_task_number(task_number: str) -> None:
    # '|' separates the HMAC message fields; keeping it out of the task number makes the framing
    # unambiguous (population_hash is fixed-length hex and public_entropy is last).
    if not isinstance(task_number, str) or not task_number or "|" in task_number:
        raise DrawInputError(f"task number {task_number!r}: must be non-empty and without '|'")


# --- selection ----------------------------------------------------------------------------------


def score_all(seed: bytes, usccs: Sequence[str]) -> bytes:
    """Concatenated 32-byte scores, one per USCC in the given order (the hot loop)."""
    base = hashlib.sha256(seed)
    copy = base.copy  # cloning the seeded state skips re-hashing the seed and a bytes concat
    out: list[bytes] = []
    append = out.append
    for uscc in usccs:
        h = copy()
        h.update(uscc.encode())
        append(h.digest())
    return b"".join(out)


def _prefixes(scores: bytes) -> np.ndarray:
    # Big-endian uint64 of each score's first 8 bytes orders exactly like those bytes.
    return np.frombuffer(scores, dtype=">u8")[:: SCORE_BYTES // 8].astype(np.uint64)


def lowest_positions(
    prefixes: np.ndarray, members: np.ndarray, k: int, tie_key: Callable[[int], Any]
) -> list[int]:
    """Positions of the k members with the smallest (score, USCC), in rank order.

    `prefixes` holds each score's first 8 bytes as uint64; `tie_key(i)` gives the full score and USCC of entry i,
    needed only where prefixes tie. The server's fast path (``fast.py``) uses this same function."""
    if k <= 0 or members.size == 0:
        return []
    pre = prefixes[members]
    if k < members.size:
        # Anything whose prefix exceeds the k-th smallest prefix has ≥ k entries strictly before
        # it, so only entries at or below that prefix can be selected.
        kth = np.partition(pre, k - 1)[k - 1]
        keep = pre <= kth
        members, pre = members[keep], pre[keep]
    order = np.argsort(pre, kind="stable")
    members, pre = members[order], pre[order]
    ranked: list[int] = members.tolist()
    # Equal prefixes are ordered by the full score, then the USCC, exactly as the definition says.
    tie_starts = np.flatnonzero(pre[1:] == pre[:-1])
    i = 0
    while i < tie_starts.size:
        start = end = int(tie_starts[i])
        while i < tie_starts.size and int(tie_starts[i]) == end:
            end += 1
            i += 1
        if start >= k:
            break
        ranked[start : end + 1] = sorted(ranked[start : end + 1], key=tie_key)
    return ranked[:k]


def _lowest(
    prefixes: np.ndarray, scores: bytes, usccs: Sequence[str], members: np.ndarray, k: int
) -> list[str]:
    """The k members with the smallest (score, USCC), in rank order."""

    def tie_key(j: int) -> tuple[bytes, str]:
        return scores[j * SCORE_BYTES : (j + 1) * SCORE_BYTES], usccs[j]

    return [usccs[j] for j in lowest_positions(prefixes, members, k, tie_key)]


def select_lowest(scores: bytes, usccs: Sequence[str], k: int) -> list[str]:
    """The k USCCs with the smallest (score, USCC); `scores` holds one 32-byte score per USCC."""
    if len(scores) != SCORE_BYTES * len(usccs):
        raise ValueError("scores must hold exactly one 32-byte score per USCC")
    members = np.arange(len(usccs), dtype=np.int64)
    return _lowest(_prefixes(scores), scores, usccs, members, k)


def select(population: Population, seed: bytes, quotas: Mapping[str, int]) -> dict[str, list[str]]:
    """Per stratum, the quota of entries with the lowest scores, in rank order."""
    usccs = population.usccs
    scores = score_all(seed, usccs)
    prefixes = _prefixes(scores)
    codes = {s: i for i, s in enumerate(quotas)}
    # compute_quotas guarantees every non-empty stratum has a quota, hence a code.
    stratum_codes = np.fromiter(map(codes.__getitem__, population.strata), dtype=np.int8, count=len(usccs))
    return {
        s: _lowest(prefixes, scores, usccs, np.flatnonzero(stratum_codes == code), quotas[s])
        for s, code in codes.items()
    }


# --- the whole draw -----------------------------------------------------------------------------


def draw(
    eligible: Iterable[EligibleEntry],
    ratios: Mapping[str, str],
    secret: bytes,
    task_number: str,
    public_entropy: str = "",
) -> DrawResult:
    """Run `spotcheck-draw-v1`; pure, so `verify.verify_proof` can recompute it exactly."""
    check_task_number(task_number)
    if not isinstance(secret, bytes) or len(secret) != SECRET_BYTES:
        raise DrawInputError(f"secret: must be exactly {SECRET_BYTES} bytes")
    if not isinstance(public_entropy, str):
        raise DrawInputError("public entropy: must be a string")
    population = prepare_population(eligible)
    quotas = compute_quotas(ratios, population.sizes)
    seed = derive_seed(secret, task_number, population.population_hash, public_entropy)
    return DrawResult(
        version=VERSION,
        task_number=task_number,
        ratios={s: str(ratios[s]) for s in quotas},
        public_entropy=public_entropy,
        population_hash=population.population_hash,
        commitment=commitment(secret),
        seed=seed.hex(),
        sizes={s: population.sizes.get(s, 0) for s in quotas},
        quotas=quotas,
        selected=select(population, seed, quotas),
    )
