"""Spreadsheet cells that cannot attack: every CSV and XLSX the product writes goes through here.

A text value starting with ``=``, ``+``, ``-``, ``@``, tab or CR is read by Excel, WPS and LibreOffice as a formula
("CSV injection", OWASP). The product writes such values so that they stay text:

- **CSV**: OWASP's advice, a leading apostrophe (``'=1+2``). Spreadsheet programs show the value as text; the
  registry import takes the apostrophe off again (:func:`from_csv_text`), so export → import is an identity. A value
  that already starts with apostrophes followed by a trigger gets one more, so that undoing is never ambiguous.
- **XLSX**: the cell is written with the string type, which a spreadsheet never evaluates; the value is unchanged.
  Characters XML cannot carry (C0 controls other than tab, CR, LF) are dropped instead of failing the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# The characters XML 1.0 forbids (openpyxl raises IllegalCharacterError on them).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _is_dangerous(text: str) -> bool:
    return text.lstrip("'").startswith(TRIGGERS)


def csv_text(value: Any) -> Any:
    """A CSV field value: text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value and _is_dangerous(value):
        return "'" + value
    return value


def from_csv_text(text: str) -> str:
    """Undo :func:`csv_text` on a value read from a CSV the product (or a person copying it) wrote."""
    if text.startswith("'") and _is_dangerous(text[1:]):
        return text[1:]
    return text


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_text(v) for v in values]


def xml_safe(text: str) -> str:
    return _ILLEGAL_XML.sub("", text)


def xlsx_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """A row for ``sheet.append`` (write-only or not): text is always a string cell, never a formula."""
    from openpyxl.cell import WriteOnlyCell

    row: list[Any] = []
    for value in values:
        if isinstance(value, str):
            text = xml_safe(value)
            if text.startswith(TRIGGERS):
                cell = WriteOnlyCell(sheet, value=text)
                cell.data_type = "s"  # openpyxl would store "=…" as a formula
                row.append(cell)
                continue
            row.append(text)
        else:
            row.append(value)
    return row


def defuse(workbook: Any) -> None:
    """Make every text cell of a (not write-only) workbook a string cell, never a formula, and XML-safe."""
    for sheet in workbook.worksheets:
        for line in sheet.iter_rows():
            for cell in line:
                if cell.data_type == "f" or isinstance(cell.value, str):
                    value = cell.value
                    if isinstance(value, str):
                        cell.value = xml_safe(value)
                        cell.data_type = "s"
