"""Search keys for the public register: character unigrams and bigrams of a normalised enterprise name.

A GIN index over ``name_grams`` answers ``name_grams @> grams(query)`` for any query of one or more characters
(a Chinese name query is typically 2–6 characters, where trigrams would not apply); the exact substring is then
checked with ``LIKE`` on the candidate rows.

Which index serves a name query depends on how many rows match, and the planner cannot know that for a
multi-character query: it multiplies the frequencies of the grams as if they were independent, while the grams of a
real name fragment travel together (“羊绒制品” is three bigrams found in the same 3 % of names). So the choice is made
here, from the planner's own statistics of ``name_grams`` (``pg_stats.most_common_elems``): a match must contain
every gram of the query, so the rarest gram bounds the number of matches (``GramStats.matches_at_most``).

* Few matches (at most ``sqrt(limit × rows)``): fetch them through the GIN index, sort by publication, keep a page.
* Many matches: walk the publication-time index from the newest row and stop at a page of matches; with at least
  ``sqrt(limit × rows)`` matches that takes at most as many rows as the GIN path would fetch. The walk is bounded
  (``window``); a query whose matches turn out rarer than the statistics said falls back to the GIN path.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
_SPACE = re.compile(r"\s+")


def normalise(name: str) -> str:
    # NFKC folds full-width letters and digits (Ａ１ → A1) and the two kinds of parentheses in company names.
    return _SPACE.sub("", unicodedata.normalize("NFKC", name)).lower()


def name_grams(name: str) -> list[str]:
    value = normalise(name)
    grams = set(value)
    grams.update(value[i : i + 2] for i in range(len(value) - 1))
    return sorted(grams)


def query_grams(query: str) -> list[str]:
    """The grams a match must contain: bigrams when there are any (more selective), else the single character."""
    value = normalise(query)
    if len(value) == 1:
        return [value]
    return sorted({value[i : i + 2] for i in range(len(value) - 1)})


def like_pattern(query: str) -> str:
    escaped = normalise(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def is_uscc(query: str) -> bool:
    return bool(USCC.match(query.strip().upper()))


@dataclass(frozen=True)
class GramStats:
    """What ANALYZE knows about ``name_grams``: the row count and the most common grams with their frequencies.

    A gram missing from the list is rarer than the rarest listed one (``floor``). No statistics yet (a new or small
    register) means ``rows == 0``: every query then takes the GIN path, which is right for a small table."""

    rows: float = 0.0
    freqs: dict[str, float] = field(default_factory=dict)
    floor: float = 0.0

    def matches_at_most(self, grams: list[str]) -> float:
        if self.rows <= 0 or not grams:
            return 0.0
        return self.rows * min(self.freqs.get(g, self.floor) for g in grams)


@dataclass(frozen=True)
class NamePlan:
    by_recency: bool  # walk the publication-time index (many matches) instead of the GIN index (few matches)
    window: int = 0  # how many of the newest rows the walk may look at before falling back to the GIN path


def plan_name_query(stats: GramStats, grams: list[str], limit: int) -> NamePlan:
    estimate = stats.matches_at_most(grams)
    if estimate <= math.sqrt(limit * max(stats.rows, 1.0)):
        return NamePlan(by_recency=False)
    # Expected walk: limit × rows / estimate rows; allow eight times that before deciding the statistics were wrong.
    window = int(min(stats.rows, max(1000.0, 8 * limit * stats.rows / estimate)))
    return NamePlan(by_recency=True, window=window)
