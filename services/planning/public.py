"""Public draw register: announcements before the draw, proofs after it, and the in-browser verifier. No login."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request, Response, Router, get
from litestar.di import Provide
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.draw import fast, protocol
from services.draw.proof import DrawProof, encode_proof
from services.planning import public_repository as repo
from services.planning.public_repository import ProofParts
from services.planning.schemas import PublicDrawOut
from shared.errors import NotFound
from shared.runtime import Runtime
from shared.tenancy import empty_scope
from shared.web.params import QueryText

_PROOFS: dict[tuple[uuid.UUID, bool], bytes] = {}


def proof_bytes(parts: ProofParts) -> bytes:
    """The proof file, assembled from the published parts; drawn proofs never change, so cache per draw."""
    key = (parts.draw_id, parts.matching is not None)
    cached = _PROOFS.get(key)
    if cached is not None:
        return cached
    canonical = fast.from_canonical(bytes(parts.eligible_list))
    proof = DrawProof(
        version=protocol.VERSION,
        task_number=parts.protocol_task_number,
        ratios=dict(parts.ratios),
        eligible=canonical.entries(),
        population_hash=parts.population_hash,
        commitment=parts.commitment,
        secret=parts.secret,
        public_entropy=parts.public_entropy or "",
        seed=parts.seed,
        selected={k: list(v) for k, v in parts.selected.items()},
        matching=parts.matching,
    )
    data = encode_proof(proof)
    if len(_PROOFS) >= 16:
        _PROOFS.pop(next(iter(_PROOFS)))
    _PROOFS[key] = data
    return data


async def proof_of(session: AsyncSession, draw_or_task_id: uuid.UUID) -> bytes | None:
    """The proof file of a draw (or of a task's current draw), None before the draw; read on the public path."""
    parts = await repo.get_proof_parts(session, draw_or_task_id)
    return proof_bytes(parts) if parts else None


async def public_draw(session: AsyncSession, draw_or_task_id: uuid.UUID) -> PublicDrawOut | None:
    """A draw as the public register shows it (for services above planning that show it on public pages)."""
    return await repo.get_draw(session, draw_or_task_id)


async def provide_public_session(request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    """Read-only, no tenant scope, on the read replica when one is configured."""
    runtime: Runtime = request.app.state.runtime
    async with runtime.unit_of_work(empty_scope(), read_replica=True) as session:
        yield session


@get("/public/draws", exclude_from_auth=True)
async def draws_page(public_db: AsyncSession, region: QueryText = None) -> Template:
    draws = await repo.list_draws(public_db, region)
    return Template("planning/public_draws.html", context={"draws": draws, "user": None})


@get("/public/draws/{draw_id:uuid}", exclude_from_auth=True)
async def draw_page(public_db: AsyncSession, draw_id: uuid.UUID) -> Template:
    draw = await repo.get_draw(public_db, draw_id)
    if draw is None:
        raise NotFound("抽取公告不存在", field="draw_id")
    selected = await repo.selected_objects(public_db, draw.draw_id)
    return Template("planning/public_draw.html", context={"d": draw, "selected": selected, "user": None})


@get("/public/draws/{draw_id:uuid}/proof.json", exclude_from_auth=True)
async def proof_file(public_db: AsyncSession, draw_id: uuid.UUID) -> Response[bytes]:
    proof = await proof_of(public_db, draw_id)
    if proof is None:
        raise NotFound("该抽取尚未完成或不存在，没有可下载的证明文件", field="draw_id")
    return Response(
        proof,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="draw-proof-{draw_id}.json"',
            "Cache-Control": "public, max-age=300",
        },
    )


@get("/api/public/draws/{draw_id:uuid}", exclude_from_auth=True)
async def draw_json(public_db: AsyncSession, draw_id: uuid.UUID) -> PublicDrawOut:
    draw = await repo.get_draw(public_db, draw_id)
    if draw is None:
        raise NotFound("抽取公告不存在", field="draw_id")
    return draw


@get("/public/verify", exclude_from_auth=True)
async def verify_page() -> Template:
    return Template("planning/public_verify.html", context={"user": None})


router = Router(
    path="/",
    route_handlers=[draws_page, draw_page, proof_file, draw_json, verify_page],
    dependencies={"public_db": Provide(provide_public_session)},
    tags=["public"],
)
