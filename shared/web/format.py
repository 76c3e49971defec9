"""One way to show ratios, dates, times and numbers on every page (Jinja filters registered by the app).

Pages used to disagree ("0.05" here, "5.0%" there, 2023-05-01 beside 2023年5月1日); templates now format through
these filters only: ``{{ 0.05 | ratio }}`` → 5%, ``{{ task.ratios | ratios }}`` → A类 5%、B类 3%,
``{{ d | date }}`` → 2023-05-01, ``{{ t | datetime }}`` → 2023-05-01 14:03, ``{{ 1234 | num }}`` → 1,234.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

EMPTY = "—"
# Risk classes as people name them; "ALL" (one ratio for every class) is never shown.
CLASS_WORDS = {"A": "A类", "B": "B类", "C": "C类", "D": "D类"}


def ratio(value: Any) -> str:
    """A share (0.05, "0.05", Decimal) as a percentage without trailing zeros: 5%, 2.5%, 100%."""
    if value is None or value == "":
        return EMPTY
    try:
        share = Decimal(str(value).strip().rstrip("%"))
    except InvalidOperation:
        return str(value)
    if str(value).strip().endswith("%"):
        share = share / 100
    percent = (share * 100).quantize(Decimal("0.01")).normalize()
    text = format(percent, "f")
    return f"{text}%"


def ratios(value: Any) -> str:
    """A task's ratios ({"ALL": "0.05"} or per risk class) in words: 5% or A类 5%、B类 3%."""
    if not value:
        return EMPTY
    items = dict(value)
    if set(items) == {"ALL"}:
        return ratio(items["ALL"])
    shown = [ratio(v) for v in items.values()]
    if len(set(shown)) == 1 and len(items) == 4:
        return f"各风险等级均为 {shown[0]}"
    return "、".join(f"{CLASS_WORDS.get(k, k)} {ratio(v)}" for k, v in items.items())


def date(value: Any) -> str:
    """2023-05-01 for a date, a datetime or an ISO text; — for nothing."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text[:10] if len(text) >= 10 and text[4] == "-" else text


def datetime(value: Any) -> str:
    """2023-05-01 14:03 for a datetime or an ISO text (its own offset kept as written)."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return text[:16].replace("T", " ") if len(text) >= 16 else text


def num(value: Any) -> str:
    """1,234 (thousands separated); — for nothing."""
    if value is None or value == "":
        return EMPTY
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def orblank(value: Any) -> Any:
    """The value, or — when there is none (never the word None)."""
    return EMPTY if value is None or value == "" or value == [] else value


FILTERS = {
    "ratio": ratio,
    "ratios": ratios,
    "date": date,
    "datetime": datetime,
    "num": num,
    "orblank": orblank,
}


def install(engine: Any) -> None:
    """Register the filters on Litestar's Jinja engine (``TemplateConfig.engine_callback``)."""
    engine.engine.filters.update(FILTERS)
