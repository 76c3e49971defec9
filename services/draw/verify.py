"""Standalone verifier for `spotcheck-draw-v1` proof files (`spotcheck verify-draw FILE`).

It trusts nothing in the proof except the inputs a citizen can check independently (secret, public
entropy, task number, ratios, eligible list) and recomputes every derived value from them. Further
checks (e.g. inspector matching `spotcheck-match-v1`) plug in via `extra_checks`.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.draw.findings import MAX_POSITION_FINDINGS, Finding
from services.draw.matching_verify import describe_matching, verify_matching
from services.draw.proof import DrawProof, ProofFormatError, load_proof
from services.draw.protocol import (
    SECRET_BYTES,
    VERSION,
    DrawInputError,
    Population,
    check_task_number,
    commitment,
    compute_quotas,
    derive_seed,
    prepare_population,
    select,
)

_HEX_SECRET_RE = re.compile(f"[0-9a-f]{{{2 * SECRET_BYTES}}}")


# A wholesale substitution would otherwise print thousands of lines; the count is still given.
@dataclass(slots=True)
class VerifyReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


ExtraCheck = Callable[[DrawProof], Iterable[Finding]]


def standard_checks() -> tuple[ExtraCheck, ...]:
    """The checks `spotcheck verify-draw` always runs besides the draw itself."""
    return (verify_matching,)


def verify_proof(proof: DrawProof, extra_checks: Sequence[ExtraCheck] = ()) -> VerifyReport:
    """Recompute the draw from the proof's inputs and list every disagreement."""
    report = VerifyReport()
    if proof.version != VERSION:
        # Under another version every other rule may differ, so nothing else is meaningful.
        report.findings.append(
            Finding("version", f"unknown protocol {proof.version!r} (expected {VERSION!r})")
        )
        return report
    out = report.findings
    secret = _check_secret(proof, out)
    try:
        check_task_number(proof.task_number)
    except DrawInputError as exc:
        out.append(Finding("task_number", str(exc)))
    population = _check_eligible(proof, out)
    quotas = None
    if population is not None:
        try:
            quotas = compute_quotas(proof.ratios, population.sizes)
        except DrawInputError as exc:
            out.append(Finding("ratios", str(exc)))
    if secret is not None and population is not None:
        seed = derive_seed(secret, proof.task_number, population.population_hash, proof.public_entropy)
        if proof.seed != seed.hex():
            out.append(
                Finding(
                    "seed",
                    f"does not match HMAC-SHA256(secret, message): expected {seed.hex()}, "
                    f"proof says {proof.seed}",
                )
            )
        if quotas is not None:
            _compare_selected(select(population, seed, quotas), proof.selected, out)
    for check in extra_checks:
        out.extend(check(proof))
    return report


def _check_secret(proof: DrawProof, out: list[Finding]) -> bytes | None:
    if not _HEX_SECRET_RE.fullmatch(proof.secret):
        out.append(
            Finding(
                "secret",
                f"must be {2 * SECRET_BYTES} lowercase hex digits ({SECRET_BYTES} bytes); "
                "commitment, seed and selection cannot be recomputed",
            )
        )
        return None
    secret = bytes.fromhex(proof.secret)
    expected = commitment(secret)
    if proof.commitment != expected:
        out.append(
            Finding(
                "commitment",
                f"does not match SHA-256(secret): expected {expected}, proof says {proof.commitment}",
            )
        )
    return secret


def _check_eligible(proof: DrawProof, out: list[Finding]) -> Population | None:
    try:
        population = prepare_population(proof.eligible)
    except DrawInputError as exc:
        out.append(Finding("eligible", str(exc)))
        return None
    # The product writes `eligible` in canonical order, but any order is a valid proof (SPEC §4): the canonical
    # list is built here (prepare_population sorts it and refuses a duplicated USCC).
    if proof.population_hash != population.population_hash:
        out.append(
            Finding(
                "population_hash",
                f"does not match the eligible list: expected "
                f"{population.population_hash}, proof says {proof.population_hash}",
            )
        )
    return population


def _compare_selected(
    expected: dict[str, list[str]], actual: dict[str, list[str]], out: list[Finding]
) -> None:
    for stratum in sorted(set(actual) - set(expected)):
        out.append(Finding(f"selected[{stratum}]", "present but the ratios name no such stratum"))
    for stratum, want in expected.items():
        where = f"selected[{stratum}]"
        if stratum not in actual:
            out.append(Finding(where, f"missing; expected {len(want)} entries"))
            continue
        got = actual[stratum]
        if len(got) != len(want):
            out.append(Finding(where, f"expected {len(want)} entries, proof has {len(got)}"))
        differing = [i for i in range(max(len(want), len(got))) if _at(want, i) != _at(got, i)]
        for i in differing[:MAX_POSITION_FINDINGS]:
            out.append(
                Finding(
                    f"{where}[{i}]",
                    f"expected {_at(want, i) or 'nothing'}, proof says {_at(got, i) or 'nothing'}",
                )
            )
        if len(differing) > MAX_POSITION_FINDINGS:
            out.append(Finding(where, f"{len(differing) - MAX_POSITION_FINDINGS} more positions differ"))


def _at(items: list[str], i: int) -> str | None:
    return items[i] if i < len(items) else None


# --- command line -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, extra_checks: Sequence[ExtraCheck] = ()) -> int:
    """`spotcheck verify-draw FILE`: exit 0 VALID, 1 INVALID (with findings), 2 unreadable/malformed.

    Runs `standard_checks()` (inspector matching, when the proof has a `matching` section), then
    `extra_checks`.
    """
    parser = argparse.ArgumentParser(
        prog="spotcheck verify-draw",
        description=f"Recompute a {VERSION} draw from its proof file and check every published value.",
    )
    parser.add_argument("file", help="proof file (JSON), or - to read standard input")
    args = parser.parse_args(argv)
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        print(f"ERROR: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        proof = load_proof(data)
    except ProofFormatError as exc:
        print(f"ERROR: {args.file}: {exc}", file=sys.stderr)
        return 2
    report = verify_proof(proof, (*standard_checks(), *extra_checks))
    if not report.ok:
        print("INVALID")
        for finding in report.findings:
            print(f"  {finding}")
        return 1
    print("VALID")
    counts = ", ".join(f"{s} {len(v)}" for s, v in proof.selected.items())
    print(f"  task {proof.task_number}: {len(proof.eligible)} eligible, selected {counts}")
    print(f"  population_hash {proof.population_hash}")
    if proof.matching is not None:
        print(f"  {describe_matching(proof)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
