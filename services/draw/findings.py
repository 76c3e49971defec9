"""What a verifier reports: one finding per reason a proof is invalid (the draw's and the matching's checks)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_POSITION_FINDINGS = 20


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason a proof is invalid; `where` names the proof field, e.g. `selected[B][3]`."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"
