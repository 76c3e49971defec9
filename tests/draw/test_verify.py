"""Proof files and the verifier: every kind of tampering is caught with the right finding."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from services.draw.proof import DrawProof, ProofFormatError, build_proof, encode_proof, load_proof
from services.draw.protocol import DrawInputError, EligibleEntry, draw
from services.draw.verify import Finding, main, verify_proof

SECRET = bytes(range(100, 132))
RATIOS = {"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.2"}


def make_eligible(n: int = 500) -> list[EligibleEntry]:
    rng = random.Random(5)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    usccs = {"91320582" + "".join(rng.choices(alphabet, k=10)) for _ in range(n)}
    return [EligibleEntry(u, rng.choice("ABCD")) for u in sorted(usccs, reverse=True)]


@pytest.fixture(scope="module")
def eligible() -> list[EligibleEntry]:
    return make_eligible()


@pytest.fixture(scope="module")
def proof(eligible: list[EligibleEntry]) -> DrawProof:
    result = draw(eligible, RATIOS, SECRET, "SJ-2025-0042", "08,15,23,42")
    return build_proof(result, eligible, SECRET)


def wheres(p: DrawProof) -> set[str]:
    report = verify_proof(p)
    assert not report.ok
    return {f.where for f in report.findings}


def replace(p: DrawProof, **changes: object) -> DrawProof:
    return msgspec.structs.replace(p, **changes)


def unselected(p: DrawProof, stratum: str) -> str:
    chosen = set(p.selected[stratum])
    return next(e.uscc for e in p.eligible if e.stratum == stratum and e.uscc not in chosen)


# --- a genuine proof ----------------------------------------------------------------------------


def test_genuine_proof_verifies(proof: DrawProof) -> None:
    report = verify_proof(proof)
    assert report.ok, report.findings
    assert [len(v) for v in proof.selected.values()] == [
        len(v) for v in draw(proof.eligible, RATIOS, SECRET, "SJ-2025-0042", "08,15,23,42").selected.values()
    ]


def test_proof_is_canonical_and_round_trips(proof: DrawProof, eligible: list[EligibleEntry]) -> None:
    data = encode_proof(proof)
    assert load_proof(data) == proof
    assert encode_proof(load_proof(data)) == data
    assert list(json.loads(data)) == [
        "version",
        "task_number",
        "ratios",
        "eligible",
        "population_hash",
        "commitment",
        "secret",
        "public_entropy",
        "seed",
        "selected",
    ]
    assert [e.uscc for e in proof.eligible] == sorted(e.uscc for e in eligible)
    assert json.loads(data)["eligible"][0] == {
        "uscc": proof.eligible[0].uscc,
        "stratum": proof.eligible[0].stratum,
    }


def test_matching_section_round_trips(proof: DrawProof) -> None:
    with_matching = replace(proof, matching={"version": "spotcheck-match-v1", "teams": {"X": ["I1", "I2"]}})
    assert load_proof(encode_proof(with_matching)) == with_matching
    assert verify_proof(with_matching).ok
    assert (
        load_proof(encode_proof(proof).replace(b'"selected"', b'"matching":null,"selected"')).matching is None
    )


def test_build_proof_refuses_other_inputs(eligible: list[EligibleEntry]) -> None:
    result = draw(eligible, RATIOS, SECRET, "SJ-1", "")
    with pytest.raises(DrawInputError, match="population_hash"):
        build_proof(result, eligible[1:], SECRET)
    with pytest.raises(DrawInputError, match="commitment"):
        build_proof(result, eligible, bytes(32))


# --- tampering ----------------------------------------------------------------------------------


def test_tampered_secret(proof: DrawProof) -> None:
    assert {"commitment", "seed"} <= wheres(replace(proof, secret="00" * 32))
    assert wheres(replace(proof, secret="zz")) == {"secret"}
    assert wheres(replace(proof, secret=proof.secret.upper())) == {"secret"}


def test_tampered_commitment_seed_and_population_hash(proof: DrawProof) -> None:
    assert wheres(replace(proof, commitment="0" * 64)) == {"commitment"}
    assert wheres(replace(proof, seed="0" * 64)) == {"seed"}
    assert wheres(replace(proof, population_hash="0" * 64)) == {"population_hash"}
    report = verify_proof(replace(proof, commitment="0" * 64))
    assert str(report.findings[0]).startswith("commitment: does not match SHA-256(secret)")


def test_tampered_task_number_or_entropy_changes_the_seed(proof: DrawProof) -> None:
    assert "seed" in wheres(replace(proof, task_number="SJ-2025-0043"))
    assert "seed" in wheres(replace(proof, public_entropy="08,15,23,43"))
    assert "task_number" in wheres(replace(proof, task_number="SJ|1"))


def test_eligible_entry_added_removed_or_restratified(proof: DrawProof) -> None:
    added = [*proof.eligible, EligibleEntry("99999999MA1ZZZZZZZ", "B")]
    assert "population_hash" in wheres(replace(proof, eligible=added))
    assert "population_hash" in wheres(replace(proof, eligible=proof.eligible[1:]))
    first = proof.eligible[0]
    moved = EligibleEntry(first.uscc, "D" if first.stratum != "D" else "A")
    assert "population_hash" in wheres(replace(proof, eligible=[moved, *proof.eligible[1:]]))


def test_eligible_in_any_order_is_valid(proof: DrawProof) -> None:
    """SPEC §4: independent code may write `eligible` in any order; the verifier builds the canonical list."""
    shuffled = list(proof.eligible)
    random.Random(17).shuffle(shuffled)
    assert shuffled != list(proof.eligible)
    report = verify_proof(replace(proof, eligible=shuffled))
    assert report.ok, report.findings
    swapped = [proof.eligible[1], proof.eligible[0], *proof.eligible[2:]]
    assert verify_proof(replace(proof, eligible=swapped)).ok
    # The order does not rescue a changed list: the hash and the selection are still recomputed.
    moved = EligibleEntry(shuffled[0].uscc, "D" if shuffled[0].stratum != "D" else "A")
    assert "population_hash" in wheres(replace(proof, eligible=[moved, *shuffled[1:]]))


def test_shuffled_proof_file_verifies_with_the_cli(proof: DrawProof, tmp_path: Path, capsys: Any) -> None:
    data = json.loads(encode_proof(proof))
    random.Random(3).shuffle(data["eligible"])
    path = tmp_path / "shuffled.json"
    path.write_text(json.dumps(data))
    assert main([str(path)]) == 0
    assert capsys.readouterr().out.startswith("VALID")
    data["eligible"].append(dict(data["eligible"][0]))
    path.write_text(json.dumps(data))
    assert main([str(path)]) == 1
    assert "listed more than once" in capsys.readouterr().out


def test_eligible_duplicated_or_invalid(proof: DrawProof) -> None:
    duplicated = [proof.eligible[0], *proof.eligible]
    assert wheres(replace(proof, eligible=duplicated)) == {"eligible"}
    shuffled_duplicate = [*proof.eligible[1:], proof.eligible[5], proof.eligible[0]]
    assert wheres(replace(proof, eligible=shuffled_duplicate)) == {"eligible"}
    bad_stratum = [EligibleEntry(proof.eligible[0].uscc, "E"), *proof.eligible[1:]]
    assert wheres(replace(proof, eligible=bad_stratum)) == {"eligible"}


def test_selected_swapped_reordered_replaced(proof: DrawProof) -> None:
    b = proof.selected["B"]
    assert len(b) >= 3
    swapped = {**proof.selected, "B": [b[1], b[0], *b[2:]]}
    report = verify_proof(replace(proof, selected=swapped))
    assert [str(f) for f in report.findings] == [
        f"selected[B][0]: expected {b[0]}, proof says {b[1]}",
        f"selected[B][1]: expected {b[1]}, proof says {b[0]}",
    ]
    reordered = {**proof.selected, "D": list(reversed(proof.selected["D"]))}
    assert all(w.startswith("selected[D]") for w in wheres(replace(proof, selected=reordered)))
    outsider = unselected(proof, "B")
    replaced = {**proof.selected, "B": [*b[:-1], outsider]}
    report = verify_proof(replace(proof, selected=replaced))
    assert [str(f) for f in report.findings] == [
        f"selected[B][{len(b) - 1}]: expected {b[-1]}, proof says {outsider}"
    ]


def test_selected_dropped_added_or_missing(proof: DrawProof) -> None:
    c = proof.selected["C"]
    report = verify_proof(replace(proof, selected={**proof.selected, "C": c[:-1]}))
    assert [str(f) for f in report.findings] == [
        f"selected[C]: expected {len(c)} entries, proof has {len(c) - 1}",
        f"selected[C][{len(c) - 1}]: expected {c[-1]}, proof says nothing",
    ]
    extra = unselected(proof, "C")
    assert "selected[C]" in wheres(replace(proof, selected={**proof.selected, "C": [*c, extra]}))
    without_a = {s: v for s, v in proof.selected.items() if s != "A"}
    assert wheres(replace(proof, selected=without_a)) == {"selected[A]"}
    assert wheres(replace(proof, selected={**proof.selected, "ALL": []})) == {"selected[ALL]"}


def test_wholesale_substitution_is_summarised(proof: DrawProof) -> None:
    d = proof.selected["D"]
    assert len(d) > 20
    report = verify_proof(replace(proof, selected={**proof.selected, "D": d[1:] + d[:1]}))
    assert len(report.findings) == 21
    assert str(report.findings[-1]) == f"selected[D]: {len(d) - 20} more positions differ"


def test_ratio_changed_or_invalid(proof: DrawProof) -> None:
    assert "selected[D]" in wheres(replace(proof, ratios={**proof.ratios, "D": "0.25"}))
    # The ratio only enters through k, so an equal value written differently changes nothing.
    assert verify_proof(replace(proof, ratios={**proof.ratios, "D": "0.2000"})).ok
    assert wheres(replace(proof, ratios={**proof.ratios, "D": "2"})) == {"ratios"}
    assert wheres(replace(proof, ratios={"A": "0.03"})) == {"ratios"}


def test_unknown_version_stops_verification(proof: DrawProof) -> None:
    report = verify_proof(replace(proof, version="spotcheck-draw-v2", seed="x"))
    assert [str(f) for f in report.findings] == [
        "version: unknown protocol 'spotcheck-draw-v2' (expected 'spotcheck-draw-v1')"
    ]


def test_extra_checks_plug_in(proof: DrawProof) -> None:
    seen: list[DrawProof] = []

    def matching_check(p: DrawProof) -> Iterable[Finding]:
        seen.append(p)
        return [Finding("matching", "team for X has one inspector")] if p.matching else []

    assert verify_proof(proof, [matching_check]).ok
    report = verify_proof(replace(proof, matching={"teams": {}}), [matching_check])
    assert [str(f) for f in report.findings] == ["matching: team for X has one inspector"]
    assert len(seen) == 2


# --- malformed files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"{not json", "not valid JSON"),
        (lambda d: d[: len(d) // 2], "not valid JSON"),
        (lambda d: b"[]", "not a spotcheck-draw-v1 proof"),
        (lambda d: d.replace(b'"version"', b'"extra":1,"version"'), "unknown field `extra`"),
        (lambda d: d.replace(b'"task_number":"SJ-2025-0042"', b'"task_number":42'), r"\$\.task_number"),
        (lambda d: d.replace(b'"stratum":"', b'"stratum":7,"x":"', 1), r"\$\.eligible\[0\]"),
        (
            lambda d: b'{"version":"spotcheck-draw-v9","other":1}',
            "unsupported proof version 'spotcheck-draw-v9'",
        ),
    ],
)
def test_malformed_files_raise_format_errors(proof: DrawProof, mutate: object, message: str) -> None:
    with pytest.raises(ProofFormatError, match=message):
        load_proof(mutate(encode_proof(proof)))  # type: ignore[operator]


# --- command line -------------------------------------------------------------------------------


def test_cli_valid(proof: DrawProof, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "proof.json"
    path.write_bytes(encode_proof(proof))
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "VALID"
    assert proof.population_hash in out


def test_cli_invalid_lists_findings(
    proof: DrawProof, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "proof.json"
    path.write_bytes(encode_proof(replace(proof, seed="0" * 64)))
    assert main([str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "INVALID"
    assert lines[1].startswith("  seed: does not match HMAC-SHA256")


def test_cli_unreadable_or_malformed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not valid JSON" in err and "Traceback" not in err


# --- the published specification stays true -----------------------------------------------------

PROTOCOL_MD = Path(__file__).parents[2] / "services" / "draw" / "PROTOCOL.md"


def test_protocol_md_snippet_verifies_a_real_proof(proof: DrawProof, tmp_path: Path) -> None:
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(.*?)```", text, re.S)
    assert snippet is not None
    namespace: dict[str, object] = {}
    exec(snippet.group(1), namespace)
    path = tmp_path / "proof.json"
    path.write_bytes(encode_proof(proof))
    namespace["verify"](str(path))  # type: ignore[operator]
    path.write_bytes(
        encode_proof(replace(proof, selected={**proof.selected, "A": proof.selected["A"][::-1]}))
    )
    with pytest.raises(AssertionError):
        namespace["verify"](str(path))  # type: ignore[operator]


def test_protocol_md_worked_example_matches_vector() -> None:
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    vector = json.loads((Path(__file__).parent / "vectors" / "tiny.json").read_text(encoding="utf-8"))
    for key in ("population_hash", "commitment", "seed", "secret"):
        assert vector[key] in text
    for uscc, score in vector["scores"].items():
        assert f"| {uscc} | `{score[:16]}…`" in text
