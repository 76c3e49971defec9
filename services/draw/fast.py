"""The server's fast path for `spotcheck-draw-v1`: same result as `protocol.draw`, computed from raw lines.

The database hands the eligible list over as raw ``USCC\\tSTRATUM\\n`` lines (COPY), all of one width (USCCs are
18 characters by constraint, strata one letter or ``ALL``). Sorting those fixed-width records with numpy gives the
canonical list without building a million Python objects, and the SHA-256 scoring loop — the only per-entry Python
work — is split between this process and one forked child for large lists. `tests/draw/test_fast.py` proves the
result is identical to the reference implementation, which the public verifier runs.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from services.draw import protocol
from services.draw.protocol import DrawInputError, DrawResult

PARALLEL_THRESHOLD = 200_000
_SHARED: dict[str, Any] = {}


class Canonical:
    """A frozen eligible list in canonical order: the exact bytes that are hashed and published."""

    def __init__(self, data: bytes, record: int, stratum_width: int) -> None:
        self.data = data
        self.record = record
        self.stratum_width = stratum_width
        self.width = record - stratum_width - 2
        self.population_hash = hashlib.sha256(data).hexdigest()
        matrix = np.frombuffer(data, dtype=np.uint8).reshape(-1, record) if data else np.empty((0, record), np.uint8)
        self.keys: list[bytes] = np.ascontiguousarray(matrix[:, : self.width]).view(f"S{self.width}").ravel().tolist()
        strata = np.ascontiguousarray(matrix[:, self.width + 1 : self.width + 1 + stratum_width])
        self.stratum_codes = strata.view(f"S{stratum_width}").ravel() if len(data) else np.empty(0, "S1")

    def __len__(self) -> int:
        return len(self.keys)

    def sizes(self) -> dict[str, int]:
        values, counts = np.unique(self.stratum_codes, return_counts=True)
        return {v.decode(): int(c) for v, c in zip(values, counts, strict=True)}

    def entries(self) -> list[protocol.EligibleEntry]:
        strata = [s.decode() for s in self.stratum_codes.tolist()]
        return [protocol.EligibleEntry(k.decode(), s) for k, s in zip(self.keys, strata, strict=True)]


def canonicalize(lines: bytes) -> Canonical:
    """Sort raw fixed-width lines into the canonical list; refuses mixed widths and duplicate USCCs."""
    if not lines:
        return Canonical(b"", 21, 1)
    first = lines.index(b"\n") + 1
    tab = lines.index(b"\t")
    record, stratum_width = first, first - tab - 2
    if len(lines) % record or lines[record - 1 :: record].count(b"\n") != len(lines) // record:
        raise DrawInputError("eligible lines are not all of one width")
    records = np.sort(np.frombuffer(lines, dtype=f"S{record}"))
    keys = records.view(np.dtype([("uscc", f"S{tab}"), ("rest", f"S{record - tab}")]))["uscc"]
    dup = np.flatnonzero(keys[1:] == keys[:-1])
    if dup.size:
        raise DrawInputError(f"USCC {keys[dup[0]].decode()!r}: listed more than once")
    canonical = Canonical(records.tobytes(), record, stratum_width)
    protocol._check_stratum_names(canonical.sizes(), "eligible list")
    return canonical


def from_canonical(data: bytes) -> Canonical:
    """A list already in canonical order (as frozen at announcement)."""
    if not data:
        return Canonical(b"", 21, 1)
    record = data.index(b"\n") + 1
    return Canonical(data, record, record - data.index(b"\t") - 2)


def _score_range(bounds: tuple[int, int]) -> bytes:
    start, end = bounds
    keys: list[bytes] = _SHARED["keys"]
    copy = hashlib.sha256(_SHARED["seed"]).copy
    out: list[bytes] = []
    append = out.append
    for i in range(start, end):
        h = copy()
        h.update(keys[i])
        append(h.digest())
    return b"".join(out)


def score_all(seed: bytes, keys: list[bytes]) -> bytes:
    """One 32-byte SHA-256(seed || USCC) per key, in order; large lists use a forked helper process."""
    _SHARED["keys"], _SHARED["seed"] = keys, seed
    try:
        if len(keys) < PARALLEL_THRESHOLD:
            return _score_range((0, len(keys)))
        half = len(keys) // 2
        # fork: the child sees the keys copy-on-write instead of receiving a million pickled objects.
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            second = pool.submit(_score_range, (half, len(keys)))
            first = _score_range((0, half))
            return first + second.result()
    finally:
        _SHARED.clear()


class _Decoded(Sequence[str]):
    """USCCs as str on demand: selection only reads the few it ranks or returns."""

    def __init__(self, keys: list[bytes]) -> None:
        self._keys = keys

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, index: Any) -> Any:
        return self._keys[index].decode()


def draw(
    canonical: Canonical, ratios: Mapping[str, str], secret: bytes, task_number: str, public_entropy: str = ""
) -> DrawResult:
    protocol.check_task_number(task_number)
    if len(secret) != protocol.SECRET_BYTES:
        raise DrawInputError(f"secret: must be exactly {protocol.SECRET_BYTES} bytes")
    sizes = canonical.sizes()
    quotas = protocol.compute_quotas(ratios, sizes)
    seed = protocol.derive_seed(secret, task_number, canonical.population_hash, public_entropy)
    scores = score_all(seed, canonical.keys)
    prefixes = protocol._prefixes(scores)
    usccs = _Decoded(canonical.keys)
    selected = {
        s: protocol._lowest(prefixes, scores, usccs, np.flatnonzero(canonical.stratum_codes == s.encode()), quotas[s])
        for s in quotas
    }
    return DrawResult(
        version=protocol.VERSION, task_number=task_number, ratios={s: str(ratios[s]) for s in quotas},
        public_entropy=public_entropy, population_hash=canonical.population_hash,
        commitment=protocol.commitment(secret), seed=seed.hex(), sizes={s: sizes.get(s, 0) for s in quotas},
        quotas=quotas, selected=selected,
    )
