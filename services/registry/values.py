"""Value rules shared by forms, the API and bulk import: one definition of what a valid cell is.

Each ``parse_*`` takes the raw text of a cell (or form field) and returns the stored value, or raises
``ValueError`` with the Chinese reason shown to the user. Bulk import calls them once per *distinct* value of a
low-cardinality column (a million rows have a few hundred distinct dates), so their cost does not scale with rows.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import numpy as np
from stdnum.cn import uscc as uscc_lib
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError

from services.registry.schemas import ObjectStatus

# Spaces Excel users leave around values, including the ideographic space (全角空格). The SQL side trims the same set.
TRIM = " \t\r\n\u3000\u00a0"
LIST_SEPARATORS = re.compile(r"[；;、，,\n]+")
TAG_CATEGORIES = ("行业", "分类标注", "专业特长", "资质")
RISK_CLASSES = ("A", "B", "C", "D")
OBJECT_STATUSES: tuple[str, ...] = tuple(ObjectStatus)
ITEM_CATEGORIES = ("重点", "一般")
CHECK_METHODS = ("现场检查", "书面检查", "网络监测", "抽样检测", "信息核查")
INSPECTOR_STATUSES = ("在岗", "停用")
HAZARD_LEVELS = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "1": 1, "2": 2, "3": 3, "4": 4}
HAZARD_LABELS = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
YES = ("是", "Y", "YES", "TRUE", "1", "√")
NO = ("否", "N", "NO", "FALSE", "0", "×")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_REGION = re.compile(r"^\d{6}(\d{3}){0,2}$")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+\d+$", re.IGNORECASE)
SCIENTIFIC_SQL = r"'^[0-9](\.[0-9]+)?E\+[0-9]+$'"  # the same pattern for PostgreSQL (used with ~*)
SCIENTIFIC_REASON = "Excel 已将该号码转为科学计数法，请将该列设为文本后重新导出"


def clean(raw: str | None) -> str:
    return (raw or "").strip(TRIM)


def fold(raw: str | None) -> str:
    """Codes, numbers and identifiers as a person reads them: full-width forms (１３０５２８, ＡＢＣ, the
    ideographic space) become their ASCII forms (NFKC), then trimmed. Names are never folded: they keep their
    Chinese punctuation."""
    return clean(unicodedata.normalize("NFKC", raw or "")) if raw and not raw.isascii() else clean(raw)


def parse_identifier(raw: str | None, max_length: int = 50) -> str:
    """A business key typed or pasted by a person (执法证号, 事项编码): folded, never Excel's number damage."""
    value = fold(raw)
    if not value:
        raise ValueError("必填")
    if _SCIENTIFIC.match(value):
        raise ValueError(SCIENTIFIC_REASON)
    if len(value) > max_length:
        raise ValueError(f"不能超过{max_length}个字")
    return value


def parse_uscc(raw: str | None) -> str:
    value = fold(raw)
    if not value:
        raise ValueError("必填")
    if _SCIENTIFIC.match(value):
        raise ValueError(SCIENTIFIC_REASON)
    try:
        return str(uscc_lib.validate(value))
    except InvalidLength:
        raise ValueError(f"应为18位（当前{len(uscc_lib.compact(value))}位）") from None
    except InvalidChecksum:
        expected = uscc_lib.calc_check_digit(uscc_lib.compact(value))
        raise ValueError(f"校验位错误（第18位应为“{expected}”）") from None
    except ValidationError:
        raise ValueError("格式错误：前8位应为数字，其余为数字或大写字母（不含I、O、S、V、Z）") from None


def parse_required(raw: str | None, max_length: int = 200) -> str:
    value = clean(raw)
    if not value:
        raise ValueError("必填")
    if len(value) > max_length:
        raise ValueError(f"不能超过{max_length}个字")
    return value


def parse_optional_text(raw: str | None, max_length: int = 500) -> str:
    value = clean(raw)
    if len(value) > max_length:
        raise ValueError(f"不能超过{max_length}个字")
    return value


def parse_choice(raw: str | None, choices: tuple[str, ...], default: str | None = None) -> str | None:
    value = fold(raw).upper() if choices == RISK_CLASSES else fold(raw)
    if not value:
        return default
    if value not in choices:
        raise ValueError("应为" + "、".join(choices) + "之一")
    return value


def parse_bool(raw: str | None, default: bool) -> bool:
    value = fold(raw).upper()
    if not value:
        return default
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValueError("应为“是”或“否”")


def parse_date(raw: str | None, *, required: bool = False) -> date | None:
    value = fold(raw)
    if not value:
        if required:
            raise ValueError("必填")
        return None
    value = value.split(" ")[0].split("T")[0]  # XLSX date-times and "2027-05-01 00:00:00"
    match = _DATE.match(value) or _COMPACT_DATE.match(value)
    if not match:
        raise ValueError("日期格式应为 YYYY-MM-DD")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError("不是有效日期") from None


def parse_hazard_level(raw: str | None) -> int | None:
    value = fold(raw)
    if not value:
        return None
    if value not in HAZARD_LEVELS:
        raise ValueError("应为一级、二级、三级、四级或留空")
    return HAZARD_LEVELS[value]


def parse_region(raw: str | None) -> str | None:
    value = fold(raw)
    if not value:
        return None
    if _SCIENTIFIC.match(value):
        raise ValueError(SCIENTIFIC_REASON)
    if not _REGION.match(value):
        raise ValueError("应为6、9或12位数字的行政区划代码")
    return value


def split_list(raw: str | None) -> list[str]:
    """``危险化学品；重大危险源`` → ordered, de-duplicated list (any of ；;、，, or a line break separates)."""
    seen: dict[str, None] = {}
    for part in LIST_SEPARATORS.split(raw or ""):
        part = clean(part)
        if part:
            seen.setdefault(part, None)
    return list(seen)


def parse_tags(raw: str | None, vocabulary: set[str], label: str = "标签") -> list[str]:
    values = split_list(raw)
    unknown = [v for v in values if v not in vocabulary]
    if unknown:
        raise ValueError(f"{label}“{'、'.join(unknown)}”不在本部门标签字库中")
    return values


def split_points(raw: str) -> list[str]:
    """Check points: one per line in the cell (Alt+Enter in Excel); a point may itself contain ；."""
    lines = [clean(p) for p in (raw or "").splitlines()]
    points = [p for p in lines if p]
    if any(len(p) > 500 for p in points):
        raise ValueError("每条检查要点不能超过500个字")
    return points


def parse_methods(raw: str | None) -> list[str]:
    values = split_list(raw)
    bad = [v for v in values if v not in CHECK_METHODS]
    if bad:
        raise ValueError(f"检查方式“{'、'.join(bad)}”无效，应为" + "、".join(CHECK_METHODS))
    return values


def join_list(values: list[str] | None) -> str:
    return "；".join(values or [])


# ---- vectorised USCC check for bulk import ---------------------------------------------------------------------
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = np.array((1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28), dtype=np.int16)
_LOOKUP = np.full(256, -1, dtype=np.int16)
for _i, _c in enumerate(_ALPHABET):
    _LOOKUP[ord(_c)] = _i


def uscc_suspects(codes: list[str]) -> np.ndarray:
    """Indexes of codes that may be invalid, in one vectorised pass (a million codes in ~0.1 s).

    This is a pre-filter: stdnum (``parse_uscc``) makes the final decision and words the reason for every index
    returned, and a test checks that no code stdnum rejects passes this filter. It accepts exactly the canonical form
    (18 characters, first 8 digits, GB 32100 alphabet, correct check character); anything else — lower case, spaces,
    wrong length — is a suspect, so stdnum sees it.
    """
    if not codes:
        return np.zeros(0, dtype=np.int64)
    count = len(codes)
    lengths = np.fromiter(map(len, codes), dtype=np.int64, count=count)
    # UCS-4 code points, one row per code (longer codes are truncated here but already failed the length test).
    points = np.array(codes, dtype="U18").view(np.uint32).reshape(count, 18)
    values = np.take(_LOOKUP, points, mode="clip")  # code points above 255 clip to 255, which is invalid
    ok = (lengths == 18) & (values >= 0).all(axis=1)
    ok &= ((points[:, :8] >= ord("0")) & (points[:, :8] <= ord("9"))).all(axis=1)
    expected = (31 - (values[:, :17] @ _WEIGHTS) % 31) % 31  # at most 17·30·30, fits int16
    ok &= values[:, 17] == expected
    return np.nonzero(~ok)[0]
