"""Verification of a proof's matching section (`spotcheck-match-v1`, MATCHING.md §7): recompute the teams from the
draw's seed and the published inputs, and report every difference and which rule a published team breaks.

The matching itself (inputs, the algorithm, the proof section it writes) is ``services.draw.matching``; this module
only reads a proof, so the verifier (``services.draw.verify``) and the server run the very same code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import msgspec

from services.draw.findings import MAX_POSITION_FINDINGS, Finding
from services.draw.matching import (
    _HEX_SEED_RE,
    VERSION,
    MatchingProof,
    MatchResult,
    Unfilled,
    _match,
    _structural_problems,
    audit_pools,
    draw_order,
)
from services.draw.proof import DrawProof


def verify_matching(proof: DrawProof) -> list[Finding]:
    """Recompute the matching from the draw's seed and the published inputs; list every difference.

    No `matching` section means nothing to check. Pluggable as a `verify.verify_proof` extra check.
    """
    if proof.matching is None:
        return []
    try:
        mp = msgspec.convert(proof.matching, MatchingProof)
    except msgspec.ValidationError as exc:
        version = proof.matching.get("version")
        if version != VERSION:
            return [
                Finding("matching.version", f"unknown matching protocol {version!r} (expected {VERSION!r})")
            ]
        return [Finding("matching", f"not a {VERSION} section: {exc}")]
    if mp.version != VERSION:
        return [
            Finding("matching.version", f"unknown matching protocol {mp.version!r} (expected {VERSION!r})")
        ]
    out: list[Finding] = []
    if mp.seed != proof.seed:
        out.append(
            Finding("matching.seed", f"differs from the draw's seed: draw {proof.seed}, matching {mp.seed}")
        )
    usccs = [o.uscc for o in mp.objects]
    drawn = draw_order(proof.selected)
    if usccs != drawn:
        k = next((k for k in range(max(len(usccs), len(drawn))) if _at(usccs, k) != _at(drawn, k)), 0)
        out.append(
            Finding(
                "matching.objects",
                f"not the drawn enterprises in draw order ({len(drawn)} drawn, {len(usccs)} listed); "
                f"first difference at [{k}]: expected {_at(drawn, k) or 'nothing'}, "
                f"proof says {_at(usccs, k) or 'nothing'}",
            )
        )
    if not _HEX_SEED_RE.fullmatch(proof.seed):
        out.append(
            Finding("matching", "cannot be recomputed: the draw's seed is not 64 lowercase hex digits")
        )
        return out
    seed = bytes.fromhex(proof.seed)
    problems = _structural_problems(seed, mp.objects, mp.slots, mp.inspectors, mp.check_end, mp.load_slack)
    if problems:
        out += [Finding(f"matching.{w}", m) for w, m in problems]
        out.append(Finding("matching", "cannot be recomputed until the problems above are fixed"))
        return out
    out += [Finding(f"matching.{w}", m) for w, m in audit_pools(mp.slots, mp.inspectors, mp.check_end)]
    expected = _match(seed, mp.objects, mp.slots, mp.inspectors, mp.load_slack)
    _check_claimed_teams(mp, expected.caps, out)
    _compare(expected, mp, out)
    return out


def _check_claimed_teams(mp: MatchingProof, caps: dict[str, int], out: list[Finding]) -> None:
    """Constraint checks on the published teams themselves, so a reader learns *which rule* a
    tampered team breaks, not only that it differs from the recomputation."""
    pools = [set(s.pool) for s in mp.slots]
    excluded = {o.uscc: set(o.excluded) for o in mp.objects}
    broken: list[Finding] = []
    counted: Counter[str] = Counter()
    for uscc, team in mp.teams.items():
        where = f"matching.teams[{uscc}]"
        if len(team) != len(mp.slots):
            broken.append(Finding(where, f"has {len(team)} members for {len(mp.slots)} slots"))
        members = [x for x in team if x is not None]
        counted.update(members)
        for member, c in Counter(members).items():
            if c > 1:
                broken.append(Finding(where, f"{member} appears {c} times"))
        for i, x in enumerate(team[: len(mp.slots)]):
            if x is None:
                continue
            if x not in pools[i]:
                broken.append(
                    Finding(f"{where}[{i}]", f"{x} is not in the pool of slot {mp.slots[i].label!r}")
                )
            if x in excluded.get(uscc, ()):
                broken.append(Finding(f"{where}[{i}]", f"{x} is excluded for this enterprise (回避)"))
    over: dict[str, tuple[int, str]] = {}
    for team in mp.teams.values():
        for i, x in enumerate(team[: len(mp.slots)]):
            label = mp.slots[i].label
            # A member outside the slot's pool already has its own finding; its cap is another slot's.
            if x is not None and x in pools[i] and counted[x] > caps[label] and x not in over:
                over[x] = (caps[label], label)
    for x, (cap, label) in over.items():
        broken.append(
            Finding(f"matching.loads[{x}]", f"{counted[x]} assignments, over the cap {cap} of slot {label!r}")
        )
    for x in sorted(set(counted) | set(mp.loads)):
        if counted[x] != mp.loads.get(x, 0):
            broken.append(
                Finding(
                    f"matching.loads[{x}]", f"proof says {mp.loads.get(x, 0)}, the teams give {counted[x]}"
                )
            )
    _append_limited(out, broken, "matching.teams")


def _compare(expected: MatchResult, mp: MatchingProof, out: list[Finding]) -> None:
    for label in sorted(set(expected.caps) | set(mp.caps)):
        want, got = expected.caps.get(label), mp.caps.get(label)
        if want != got:
            out.append(Finding(f"matching.caps[{label}]", f"expected {want}, proof says {got}"))
    diffs: list[Finding] = []
    for uscc in [*expected.teams, *(u for u in mp.teams if u not in expected.teams)]:
        want_team, got_team = expected.teams.get(uscc), mp.teams.get(uscc)
        if want_team is None or got_team is None:
            diffs.append(
                Finding(
                    f"matching.teams[{uscc}]", "missing" if got_team is None else "not a drawn enterprise"
                )
            )
            continue
        for i in range(max(len(want_team), len(got_team))):
            want, got = _at(want_team, i), _at(got_team, i)
            if want != got:
                diffs.append(
                    Finding(
                        f"matching.teams[{uscc}][{i}]",
                        f"expected {want or 'nobody'}, proof says {got or 'nobody'}",
                    )
                )
    _append_limited(out, diffs, "matching.teams")
    diffs = [
        Finding(f"matching.loads[{x}]", f"expected {expected.loads.get(x)}, proof says {mp.loads.get(x)}")
        for x in sorted(set(expected.loads) | set(mp.loads))
        if expected.loads.get(x) != mp.loads.get(x)
    ]
    _append_limited(out, diffs, "matching.loads")
    want_u, got_u = expected.unfilled, mp.unfilled
    if len(want_u) != len(got_u):
        out.append(Finding("matching.unfilled", f"expected {len(want_u)} entries, proof has {len(got_u)}"))
    diffs = [
        Finding(
            f"matching.unfilled[{k}]",
            f"expected {_describe(_at(want_u, k))}, proof says {_describe(_at(got_u, k))}",
        )
        for k in range(max(len(want_u), len(got_u)))
        if _at(want_u, k) != _at(got_u, k)
    ]
    _append_limited(out, diffs, "matching.unfilled")


def _describe(u: Unfilled | None) -> str:
    return "nothing" if u is None else u.reason


def _append_limited(out: list[Finding], findings: list[Finding], where: str) -> None:
    # A wholesale substitution would print thousands of lines; the count is still given.
    out += findings[:MAX_POSITION_FINDINGS]
    if len(findings) > MAX_POSITION_FINDINGS:
        out.append(Finding(where, f"{len(findings) - MAX_POSITION_FINDINGS} more differences"))


def _at(items: Sequence[Any], k: int) -> Any:
    return items[k] if k < len(items) else None


def describe_matching(proof: DrawProof) -> str:
    """One line for the VALID report of a proof whose matching section verified."""
    mp = msgspec.convert(proof.matching, MatchingProof)
    caps = ", ".join(f"{s.label} {mp.caps.get(s.label)}" for s in mp.slots)
    state = "all slots filled" if not mp.unfilled else f"INFEASIBLE, {len(mp.unfilled)} slots unfilled"
    return f"matching {mp.version}: {len(mp.teams)} teams of {len(mp.slots)}, caps {caps}; {state}"
