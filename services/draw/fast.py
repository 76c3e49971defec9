"""The server's fast path for `spotcheck-draw-v1`: same result as `protocol.draw`, computed from raw lines.

The database hands the eligible list over as raw ``USCC\\tSTRATUM\\n`` lines (COPY), all of one width (USCCs are
18 characters by constraint, strata one letter or ``ALL``). Nothing here builds a Python object per entry:

* **Canonical order.** Each USCC is packed into one order-preserving 64-bit integer (its first 8 bytes replaced by
  their rank among the distinct 8-byte prefixes, each later character by its rank in the USCC alphabet, 5 bits
  each), so one numpy ``argsort`` of integers sorts the list; inputs that do not pack sort as fixed-width byte
  records instead.
* **Scores.** ``seed || USCC`` is 50 bytes, so each score is SHA-256 of a single 64-byte block. The compression
  function runs on numpy ``uint32`` columns, one lane per entry, in chunks that stay in cache (`_sha256_prefixes`);
  the first 8 rounds only see the seed and are computed once. Only the first 8 bytes of each score (a big-endian
  ``uint64``) are kept: they decide the order except where two of them tie, and those few are compared by their
  full ``hashlib`` score and USCC, exactly as the protocol says. Large lists are scored by this process and one
  forked child.

`tests/draw/test_fast.py` proves the canonical bytes, the scores and the draw identical to the reference
implementation, which the public verifier runs.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

from services.draw import protocol
from services.draw.protocol import DrawInputError, DrawResult

PARALLEL_THRESHOLD = 200_000
CHUNK = 32_768  # entries per vectorised SHA-256 pass: ~25 live uint32 columns of 128 KB stay in cache
_SHARED: dict[str, Any] = {}

# ---- phase timings (read by tests/bench/bench_draw.py; free when nobody records) ---------------------------------


class Phases(dict[str, float]):
    """Seconds per phase name (summed, in first-seen order); with a `sample` clock also its readings per phase."""

    def __init__(self, sample: Callable[[], tuple[float, ...]] | None = None) -> None:
        super().__init__()
        self.sample = sample
        self.usage: dict[str, tuple[float, ...]] = {}


_PHASES: ContextVar[Phases | None] = ContextVar("spotcheck_draw_phases", default=None)


@contextmanager
def recording(sample: Callable[[], tuple[float, ...]] | None = None) -> Iterator[Phases]:
    """Collect the seconds spent in each `phase` run in this context (and the change of `sample()`, e.g. CPU)."""
    phases = Phases(sample)
    token = _PHASES.set(phases)
    try:
        yield phases
    finally:
        _PHASES.reset(token)


@contextmanager
def phase(name: str) -> Iterator[None]:
    phases = _PHASES.get()
    if phases is None:
        yield
        return
    before = phases.sample() if phases.sample else ()
    started = time.perf_counter()
    try:
        yield
    finally:
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
        if phases.sample:
            used = [b - a for a, b in zip(before, phases.sample(), strict=True)]
            phases.usage[name] = tuple(
                u + v for u, v in zip(phases.usage.get(name, (0.0,) * len(used)), used, strict=True)
            )


# ---- the canonical list -----------------------------------------------------------------------------------------


class Canonical:
    """A frozen eligible list in canonical order: the exact bytes that are hashed and published."""

    def __init__(
        self, data: bytes, record: int, stratum_width: int, population_hash: str | None = None
    ) -> None:
        self.data = data
        self.record = record
        self.stratum_width = stratum_width
        self.width = record - stratum_width - 2
        self.population_hash = population_hash or hashlib.sha256(data).hexdigest()
        self.matrix = np.frombuffer(data, dtype=np.uint8).reshape(-1, record)
        strata = np.ascontiguousarray(self.matrix[:, self.width + 1 : self.width + 1 + stratum_width])
        self.stratum_codes = strata.view(f"S{stratum_width}").ravel()

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    def key(self, index: int) -> bytes:
        """The UTF-8 bytes of one USCC."""
        start = index * self.record
        return self.data[start : start + self.width]

    @property
    def keys(self) -> list[bytes]:
        """Every USCC as bytes, in canonical order (one object per entry: only for small lists and tests)."""
        return [self.key(i) for i in range(len(self))]

    def usccs(self, indices: np.ndarray) -> list[str]:
        """The USCCs at the given positions, as str."""
        keys = np.ascontiguousarray(self.matrix[indices, : self.width]).view(f"S{self.width}").ravel()
        return [k.decode() for k in keys.tolist()]

    def sizes(self) -> dict[str, int]:
        if self.stratum_width == 1:
            counts = np.bincount(self.stratum_codes.view(np.uint8), minlength=256)
            return {chr(code): int(counts[code]) for code in np.flatnonzero(counts)}
        values, counts = np.unique(self.stratum_codes, return_counts=True)
        return {v.decode(): int(c) for v, c in zip(values, counts, strict=True)}

    def entries(self) -> list[protocol.EligibleEntry]:
        strata = [s.decode() for s in self.stratum_codes.tolist()]
        return [protocol.EligibleEntry(k.decode(), s) for k, s in zip(self.keys, strata, strict=True)]


_EMPTY = (b"", 21, 1)
# USCC characters (GB 32100-2015: digits and capitals without I, O, S, V, Z), in byte order.
_USCC_ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype=np.uint8)
_RANK = np.full(256, 255, dtype=np.uint8)
_RANK[_USCC_ALPHABET] = np.arange(_USCC_ALPHABET.size, dtype=np.uint8)
_BITS = 5


def canonicalize(lines: bytes) -> Canonical:
    """Sort raw fixed-width lines into the canonical list; refuses mixed widths and duplicate USCCs."""
    if not lines:
        return Canonical(*_EMPTY)
    first = lines.index(b"\n") + 1
    tab = lines.index(b"\t")
    record, stratum_width = first, first - tab - 2
    if len(lines) % record or lines[record - 1 :: record].count(b"\n") != len(lines) // record:
        raise DrawInputError("eligible lines are not all of one width")
    matrix = np.frombuffer(lines, dtype=np.uint8).reshape(-1, record)
    keys = matrix[:, :tab]
    if tab == 0:
        raise DrawInputError("eligible lines: a USCC is empty")
    if lines[tab::record].count(b"\t") != matrix.shape[0]:
        raise DrawInputError("eligible lines: the TAB is not at the same place in every line")
    records = np.frombuffer(lines, dtype=f"S{record}")
    packed = _packed_keys(keys)
    if packed is not None:
        order = np.argsort(packed)
        ordered = packed[order]
        dup = np.flatnonzero(ordered[1:] == ordered[:-1])
        data = records[order].tobytes()
    else:
        if (keys < 0x20).any() or (keys == 0x7F).any():
            raise DrawInputError("eligible lines: a USCC holds a control character")
        # Fixed-width, NUL-free byte strings: numpy's order is byte order.
        ordered_records = np.sort(records)
        data = ordered_records.tobytes()
        uscc = ordered_records.view(np.dtype([("uscc", f"S{tab}"), ("rest", f"S{record - tab}")]))["uscc"]
        dup = np.flatnonzero(uscc[1:] == uscc[:-1])
    if dup.size:
        start = int(dup[0]) * record
        raise DrawInputError(f"USCC {data[start : start + tab].decode()!r}: listed more than once")
    canonical = Canonical(data, record, stratum_width)
    protocol._check_stratum_names(canonical.sizes(), "eligible list")
    return canonical


def _packed_keys(keys: np.ndarray) -> np.ndarray | None:
    """One uint64 per key that orders exactly like the key bytes, or None when the keys do not pack into 64 bits.

    The last 10 characters must be USCC characters (5 bits each, by rank); the head before them is replaced by its
    rank among the distinct heads, which must fit the remaining 14 bits. Keys that pack hold no control character."""
    n, width = keys.shape
    head = max(0, width - 10)
    if head > 8:
        return None
    tail = _RANK[keys[:, head:]]
    if tail.size and int(tail.max()) >= 1 << _BITS:
        return None
    if head:
        prefix = np.zeros((n, 8), dtype=np.uint8)
        prefix[:, :head] = keys[:, :head]
        if (prefix[:, :head] < 0x20).any() or (prefix[:, :head] == 0x7F).any():
            return None
        heads = prefix.view(">u8").ravel()
        if (heads == heads[0]).all():  # one county's registry: usually one region prefix, no sort needed
            packed = np.zeros(n, dtype=np.uint64)
        else:
            distinct = np.unique(heads)
            if distinct.size > 1 << (64 - _BITS * (width - head)):
                return None
            packed = np.searchsorted(distinct, heads).astype(np.uint64)
    else:
        packed = np.zeros(n, dtype=np.uint64)
    shift = np.uint64(_BITS)
    for column in range(width - head):
        packed <<= shift
        packed |= tail[:, column]
    return packed


def from_canonical(data: bytes) -> Canonical:
    """A list already in canonical order (as frozen at announcement)."""
    if not data:
        return Canonical(*_EMPTY)
    record = data.index(b"\n") + 1
    return Canonical(data, record, record - data.index(b"\t") - 2)


# ---- scores: SHA-256(seed || USCC), vectorised over entries -------------------------------------------------------

_K = (
    0x428A2F98,
    0x71374491,
    0xB5C0FBCF,
    0xE9B5DBA5,
    0x3956C25B,
    0x59F111F1,
    0x923F82A4,
    0xAB1C5ED5,
    0xD807AA98,
    0x12835B01,
    0x243185BE,
    0x550C7DC3,
    0x72BE5D74,
    0x80DEB1FE,
    0x9BDC06A7,
    0xC19BF174,
    0xE49B69C1,
    0xEFBE4786,
    0x0FC19DC6,
    0x240CA1CC,
    0x2DE92C6F,
    0x4A7484AA,
    0x5CB0A9DC,
    0x76F988DA,
    0x983E5152,
    0xA831C66D,
    0xB00327C8,
    0xBF597FC7,
    0xC6E00BF3,
    0xD5A79147,
    0x06CA6351,
    0x14292967,
    0x27B70A85,
    0x2E1B2138,
    0x4D2C6DFC,
    0x53380D13,
    0x650A7354,
    0x766A0ABB,
    0x81C2C92E,
    0x92722C85,
    0xA2BFE8A1,
    0xA81A664B,
    0xC24B8B70,
    0xC76C51A3,
    0xD192E819,
    0xD6990624,
    0xF40E3585,
    0x106AA070,
    0x19A4C116,
    0x1E376C08,
    0x2748774C,
    0x34B0BCB5,
    0x391C0CB3,
    0x4ED8AA4A,
    0x5B9CCA4F,
    0x682E6FF3,
    0x748F82EE,
    0x78A5636F,
    0x84C87814,
    0x8CC70208,
    0x90BEFFFA,
    0xA4506CEB,
    0xBEF9A3F7,
    0xC67178F2,
)
_IV = (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)
_M32 = 0xFFFFFFFF
_MAX_SINGLE_BLOCK = 64 - protocol.SCORE_BYTES - 9  # seed, key, 0x80 and the 64-bit length fit one block


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (32 - n))) & _M32


def _small_sigma(x: int, r1: int, r2: int, s: int) -> int:
    return _rotr(x, r1) ^ _rotr(x, r2) ^ (x >> s)


def _seed_rounds(seed_words: list[int]) -> list[int]:
    """State after the first 8 rounds, which only read the seed's 8 words (the same for every entry)."""
    a, b, c, d, e, f, g, h = _IV
    for t in range(8):
        t1 = (
            h + (_rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)) + ((e & f) ^ (~e & g)) + _K[t] + seed_words[t]
        ) & _M32
        t2 = ((_rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) & _M32
        a, b, c, d, e, f, g, h = (t1 + t2) & _M32, a, b, c, (d + t1) & _M32, e, f, g
    return [a, b, c, d, e, f, g, h]


def _sigma(
    x: np.ndarray, r1: int, r2: int, r3: int, out: np.ndarray, tmp: np.ndarray, *, rotate_last: bool
) -> None:
    """out = rotr(x, r1) ^ rotr(x, r2) ^ rotr(x, r3) (Σ), or with shr(x, r3) as last term (σ), on uint32 columns."""
    np.right_shift(x, r1, out=out)
    np.left_shift(x, 32 - r1, out=tmp)
    out ^= tmp
    np.right_shift(x, r2, out=tmp)
    out ^= tmp
    np.left_shift(x, 32 - r2, out=tmp)
    out ^= tmp
    np.right_shift(x, r3, out=tmp)
    out ^= tmp
    if rotate_last:
        np.left_shift(x, 32 - r3, out=tmp)
        out ^= tmp


def _block_words(keys: np.ndarray) -> list[np.ndarray | int]:
    """Words 8–15 of each entry's block (key, 0x80, zero padding, bit length): columns, or ints where constant."""
    n, width = keys.shape
    tail = np.zeros((n, 24), dtype=np.uint8)
    tail[:, :width] = keys
    tail[:, width] = 0x80
    columns = tail.view(">u4")
    words: list[np.ndarray | int] = [
        columns[:, i].astype(np.uint32) if 4 * i <= width else 0 for i in range(6)
    ]
    bits = (protocol.SCORE_BYTES + width) * 8
    return [*words, bits >> 32, bits & _M32]


def _sha256_prefixes(state8: list[int], seed_words: list[int], keys: np.ndarray) -> np.ndarray:
    """First 8 bytes (big-endian uint64) of SHA-256(seed || key) for each row of `keys` (one block each)."""
    n = keys.shape[0]
    w: list[np.ndarray | int] = [*seed_words, *_block_words(keys)]  # rolling message schedule, w[t % 16]
    s, tmp, ch = (np.empty(n, dtype=np.uint32) for _ in range(3))
    a, b, c, d, e, f, g, h = (np.full(n, v, dtype=np.uint32) for v in state8)
    for t in range(8, 64):
        if t >= 16:
            w[t % 16] = _schedule(w, t, n, tmp, ch)
        word = w[t % 16]
        _sigma(e, 6, 11, 25, s, tmp, rotate_last=True)
        np.bitwise_xor(f, g, out=ch)
        ch &= e
        ch ^= g
        h += s  # h becomes T1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t] …
        h += ch
        if isinstance(word, np.ndarray):
            h += np.uint32(_K[t])
            h += word
        else:
            h += np.uint32((_K[t] + word) & _M32)
        d += h  # … the new e = d + T1 …
        _sigma(a, 2, 13, 22, s, tmp, rotate_last=True)
        h += s
        np.bitwise_or(a, b, out=tmp)
        tmp &= c
        np.bitwise_and(a, b, out=ch)
        tmp |= ch
        h += tmp  # … and the new a = T1 + Σ0(a) + Maj(a, b, c)
        a, b, c, d, e, f, g, h = h, a, b, c, d, e, f, g
    a += np.uint32(_IV[0])
    b += np.uint32(_IV[1])
    prefix = a.astype(np.uint64)
    prefix <<= np.uint64(32)
    prefix |= b
    return prefix


def _schedule(
    w: list[np.ndarray | int], t: int, n: int, tmp: np.ndarray, scratch: np.ndarray
) -> np.ndarray | int:
    """W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], mod 2**32; constants stay ints."""
    constant = 0
    column: np.ndarray | None = None
    for source, sigma in (
        (w[(t - 2) % 16], (17, 19, 10)),
        (w[(t - 15) % 16], (7, 18, 3)),
        (w[(t - 7) % 16], None),
        (w[t % 16], None),
    ):
        if not isinstance(source, np.ndarray):
            constant += _small_sigma(source, *sigma) if sigma else source
            continue
        if sigma:
            term = np.empty(n, dtype=np.uint32) if column is None else scratch
            _sigma(source, *sigma, term, tmp, rotate_last=False)
        else:
            term = source.copy() if column is None else source
        if column is None:
            column = term
        else:
            column += term
    if column is None:
        return constant & _M32
    if constant & _M32:
        column += np.uint32(constant & _M32)
    return column


def _prefix_range(seed: bytes, matrix: np.ndarray, width: int, start: int, end: int) -> np.ndarray:
    if width > _MAX_SINGLE_BLOCK:
        # Longer keys need two blocks: plain hashlib (never the case for 18-character USCCs).
        base = hashlib.sha256(seed)
        rows = np.ascontiguousarray(matrix[start:end, :width]).tobytes()
        out = bytearray()
        for offset in range(0, len(rows), width):
            h = base.copy()
            h.update(rows[offset : offset + width])
            out += h.digest()[:8]
        return np.frombuffer(bytes(out), dtype=">u8").astype(np.uint64)
    seed_words = [int(x) for x in np.frombuffer(seed, dtype=">u4")]
    state8 = _seed_rounds(seed_words)
    parts = [
        _sha256_prefixes(state8, seed_words, matrix[i : min(i + CHUNK, end), :width])
        for i in range(start, end, CHUNK)
    ]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)


def _shared_range(bounds: tuple[int, int]) -> np.ndarray:
    return _prefix_range(_SHARED["seed"], _SHARED["matrix"], _SHARED["width"], *bounds)


def score_prefixes(seed: bytes, canonical: Canonical) -> np.ndarray:
    """The first 8 bytes of each entry's score SHA-256(seed || USCC), as big-endian uint64, in canonical order.

    Large lists are split with one forked child, which sees the list copy-on-write."""
    n = len(canonical)
    if n < PARALLEL_THRESHOLD:
        return _prefix_range(seed, canonical.matrix, canonical.width, 0, n)
    half = n // 2
    _SHARED.update(seed=seed, matrix=canonical.matrix, width=canonical.width)
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            second = pool.submit(_shared_range, (half, n))
            first = _prefix_range(seed, canonical.matrix, canonical.width, 0, half)
            return np.concatenate([first, second.result()])
    finally:
        _SHARED.clear()


# ---- selection ------------------------------------------------------------------------------------------------------

# One selection for the reference and the fast path: positions of the k smallest (score, USCC).
lowest = protocol.lowest_positions


def draw(
    canonical: Canonical, ratios: Mapping[str, str], secret: bytes, task_number: str, public_entropy: str = ""
) -> DrawResult:
    protocol.check_task_number(task_number)
    if len(secret) != protocol.SECRET_BYTES:
        raise DrawInputError(f"secret: must be exactly {protocol.SECRET_BYTES} bytes")
    sizes = canonical.sizes()
    quotas = protocol.compute_quotas(ratios, sizes)
    seed = protocol.derive_seed(secret, task_number, canonical.population_hash, public_entropy)
    with phase("draw.score"):
        prefixes = score_prefixes(seed, canonical)

    def tie_key(index: int) -> tuple[bytes, bytes]:
        key = canonical.key(index)
        return hashlib.sha256(seed + key).digest(), key

    with phase("draw.select"):
        selected = {
            s: canonical.usccs(
                np.asarray(
                    lowest(
                        prefixes, np.flatnonzero(canonical.stratum_codes == s.encode()), quotas[s], tie_key
                    ),
                    dtype=np.int64,
                )
            )
            for s in quotas
        }
    return DrawResult(
        version=protocol.VERSION,
        task_number=task_number,
        ratios={s: str(ratios[s]) for s in quotas},
        public_entropy=public_entropy,
        population_hash=canonical.population_hash,
        commitment=protocol.commitment(secret),
        seed=seed.hex(),
        sizes={s: sizes.get(s, 0) for s in quotas},
        quotas=quotas,
        selected=selected,
    )
