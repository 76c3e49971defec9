"""Search keys for the public register: character unigrams and bigrams of a normalised enterprise name.

A GIN index over ``name_grams`` answers ``name_grams @> grams(query)`` for any query of one or more characters
(a Chinese name query is typically 2–6 characters, where trigrams would not apply); the exact substring is then
checked with ``LIKE`` on the few candidate rows.
"""

from __future__ import annotations

import re
import unicodedata

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
