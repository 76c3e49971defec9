"""The county's settings of the enterprise's side, set by operators (``spotcheck county-enterprise``): burden
thresholds (visits per enterprise and day / week / month before an alert), the optional cool-down applied by draws,
the 信用修复 guidance shown with negative results, and the 执法监督 telephone printed on notices."""

from __future__ import annotations

from typing import Any

import msgspec

from services.enterprise import repository as repo
from services.enterprise.schemas import CountySettings

LIMITS = {"day": ("day_limit", 1, 50), "week": ("week_limit", 1, 100), "month": ("month_limit", 1, 200)}
TEXTS = {
    "repair_office": "repair_office",
    "repair_steps": "repair_steps",
    "repair_contact": "repair_contact",
    "supervision_phone": "supervision_phone",
}


def apply(current: CountySettings, options: dict[str, Any]) -> CountySettings:
    """``current`` with the options given (None: unchanged); refuses values out of range."""
    changes: dict[str, Any] = {}
    for option, (field, low, high) in LIMITS.items():
        value = options.get(option)
        if value is not None:
            if not low <= value <= high:
                raise ValueError(f"--{option} must be between {low} and {high}")
            changes[field] = value
    if options.get("no_cooldown"):
        changes["cooldown_months"] = None
    elif options.get("cooldown") is not None:
        if not 1 <= options["cooldown"] <= 36:
            raise ValueError("--cooldown must be between 1 and 36 months")
        changes["cooldown_months"] = options["cooldown"]
    for option, field in TEXTS.items():
        value = options.get(option)
        if value is not None:
            if len(value) > 2000:
                raise ValueError(f"--{option.replace('_', '-')} is longer than 2000 characters")
            changes[field] = value.replace("\\n", "\n").strip()
    return msgspec.structs.replace(current, **changes)


async def configure(admin_url: str, region: str, options: dict[str, Any]) -> str:
    """Operator command: change (or, without options, show) a county's settings; answers them as JSON."""
    import asyncpg

    from shared.db import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        current = await repo.read_county_settings(conn, region)
        updated = apply(current, options)
        if updated != current:
            await repo.save_county_settings(conn, updated)
        return msgspec.json.encode(updated).decode()
    finally:
        await conn.close()
