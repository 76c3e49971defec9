"""Benchmark of `spotcheck-match-v1` (run by hand: `uv run python -m tests.bench.bench_matching`).

Workload: a cross-department joint task, teams of 2 — slot 1 from the lead department's
inspectors with the required specialty, slot 2 from the partner department — with ~2% random
conflicts per (enterprise, inspector) pair plus one "checked it last time" inspector per enterprise.
A last line adds a third slot drawn from all eligible inspectors (overlapping pools).

Baseline, measured in the same run on the same objects and pools: a naive assignment with one
`random.Random(seed)` and `rng.sample(pool, 1)` per slot per enterprise — no exclusions, no
distinctness, no caps, not verifiable. It is the floor any Python per-enterprise loop pays, so the
ratio shows what the constraints, the seeded hashing and the balancing cost on top of it. (OR-Tools
min-cost flow would be the other natural yardstick, but it is not a dependency of this project.)
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

import msgspec

from services.draw.matching import Inspector, MatchObject, Slot, match, matching_proof
from services.draw.matching_verify import verify_matching
from services.draw.proof import DrawProof

CHECK_END = "2023-07-31"
SEED = bytes(range(32))


def instance(
    n_objects: int, n_inspectors: int, conflict: float = 0.02, extra: bool = False
) -> tuple[list[MatchObject], list[Slot], list[Inspector]]:
    rng = random.Random(n_objects)
    half = n_inspectors // 2
    inspectors = [
        Inspector(f"{rng.getrandbits(128):032x}", "县应急管理局", "危化股", ["危险化学品"], None)
        for _ in range(half)
    ]
    inspectors += [
        Inspector(f"{rng.getrandbits(128):032x}", "县消防救援大队", "防火监督科", ["消防"], None)
        for _ in range(n_inspectors - half)
    ]
    slots = [
        Slot(
            "县应急管理局（危险化学品）",
            [x.id for x in inspectors[:half]],
            department="县应急管理局",
            specialty="危险化学品",
        ),
        Slot("县消防救援大队", [x.id for x in inspectors[half:]], department="县消防救援大队"),
    ]
    ids = [x.id for x in inspectors]
    if extra:  # a third member from all eligible inspectors: overlapping pools, water-filling caps
        slots.append(Slot("增派人员", ids))
    k = round(conflict * n_inspectors)
    objects = [MatchObject(f"91320582{i:010d}", rng.sample(ids, k + 1)) for i in range(n_objects)]
    return objects, slots, inspectors


def baseline(objects: list[MatchObject], slots: list[Slot]) -> dict[str, list[str]]:
    rng = random.Random(SEED)
    pools = [s.pool for s in slots]
    return {o.uscc: [rng.sample(pool, 1)[0] for pool in pools] for o in objects}


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run(n_objects: int, n_inspectors: int, repeat: int, extra: bool = False) -> None:
    objects, slots, inspectors = instance(n_objects, n_inspectors, extra=extra)
    result = match(SEED, objects, slots, inspectors, check_end=CHECK_END)
    t_match = best_of(repeat, lambda: match(SEED, objects, slots, inspectors, check_end=CHECK_END))
    t_base = best_of(repeat, lambda: baseline(objects, slots))
    section = matching_proof(SEED, objects, slots, inspectors, result, check_end=CHECK_END)
    # verify_matching only reads the draw's seed and selection, so a stub draw is enough here.
    selected = {"ALL": [o.uscc for o in objects]}
    proof = DrawProof(
        version="spotcheck-draw-v1",
        task_number="B",
        ratios={"ALL": "1"},
        eligible=[],
        population_hash="",
        commitment="",
        secret="",
        public_entropy="",
        seed=SEED.hex(),
        selected=selected,
        matching=msgspec.to_builtins(section),
    )
    t_verify = best_of(1, lambda: verify_matching(proof))
    assert verify_matching(proof) == []
    loads = list(result.loads.values())
    print(
        f"{n_objects:>6} objects × {n_inspectors:>5} inspectors (teams of {len(slots)}, ~2% conflicts): "
        f"match {t_match:.3f} s, baseline {t_base:.3f} s, ratio {t_match / t_base:.1f}×; "
        f"verify_matching {t_verify:.3f} s"
    )
    print(
        f"{'':>8}caps {result.caps}; loads mean {statistics.mean(loads):.1f}, max {max(loads)}; "
        f"unfilled {len(result.unfilled)}"
    )


def main() -> None:
    print("baseline = naive random.Random(seed).sample per slot per enterprise, no constraints (same run)")
    run(10_000, 1_000, repeat=5)
    run(50_000, 2_000, repeat=3)
    run(10_000, 1_000, repeat=3, extra=True)


if __name__ == "__main__":
    main()
