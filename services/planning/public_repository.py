"""The public read path: only the ``public_draws`` register, never tenant tables (no scope is set)."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.planning.rows import row, rows
from services.planning.schemas import PublicDrawOut, PublicSelected

COLUMNS = (
    "draw_id, task_id, department_code, department_name, region_code, plan_number, plan_name, task_number, task_name,"
    " status, ratios, population_hash, eligible_count, commitment, entropy_source, announced_at, drawn_at,"
    " selected_count, voided_at, void_reason, seed IS NOT NULL AS has_proof, matching IS NOT NULL AS has_matching,"
    " adjustments, departments, exclusions"
)
PROOF_COLUMNS = "protocol_task_number, ratios, population_hash, commitment, secret, seed, public_entropy, selected, matching"


class ProofParts(msgspec.Struct, frozen=True):
    """The published parts of a drawn draw from which its proof file is assembled."""

    draw_id: uuid.UUID
    protocol_task_number: str
    ratios: dict[str, str]
    population_hash: str
    commitment: str
    secret: str
    seed: str
    public_entropy: str | None
    selected: dict[str, list[str]]
    matching: dict[str, object] | None  # the matching proof as published (jsonb), checked by the verifier
    eligible_list: bytes


async def list_draws(session: AsyncSession, region_code: str | None, limit: int = 200) -> list[PublicDrawOut]:
    sql = f"SELECT {COLUMNS} FROM public_draws"
    params: dict[str, object] = {"limit": limit}
    if region_code:
        sql += " WHERE region_code = :r"
        params["r"] = region_code
    found = await session.execute(text(sql + " ORDER BY announced_at DESC LIMIT :limit"), params)
    return rows(found, PublicDrawOut)


async def get_draw(session: AsyncSession, draw_or_task_id: uuid.UUID) -> PublicDrawOut | None:
    found = (
        await session.execute(
            text(
                f"SELECT {COLUMNS} FROM public_draws WHERE draw_id = :id OR task_id = :id"
                " ORDER BY announced_at DESC LIMIT 1"
            ),
            {"id": draw_or_task_id},
        )
    ).first()
    return row(found, PublicDrawOut)


async def get_proof_parts(session: AsyncSession, draw_or_task_id: uuid.UUID) -> ProofParts | None:
    # The frozen list is stored once, in the department's `draws` row; `public_eligible_list` hands it out after
    # the draw (migration 0051). Rows published before that kept a copy in `public_draws.eligible_list`.
    found = (
        await session.execute(
            text(
                f"SELECT p.*, coalesce(l.eligible_list, public_eligible_list(p.draw_id)) AS eligible_list FROM"
                f" (SELECT draw_id, {PROOF_COLUMNS} FROM public_draws WHERE (draw_id = :id OR task_id = :id)"
                " AND seed IS NOT NULL ORDER BY announced_at DESC LIMIT 1) p"
                " JOIN public_draws l ON l.draw_id = p.draw_id"
            ),
            {"id": draw_or_task_id},
        )
    ).first()
    return row(found, ProofParts)


async def selected_objects(session: AsyncSession, draw_id: uuid.UUID) -> list[PublicSelected]:
    found = await session.execute(
        text("SELECT selected_objects FROM public_draws WHERE draw_id = :id"), {"id": draw_id}
    )
    return msgspec.convert(found.scalar_one_or_none() or [], list[PublicSelected])
