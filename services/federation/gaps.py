"""Partners' registry gaps (SPEC §6): a joint draw is made from the lead's registry scope; when it is not
intersected with the partners' registries, a drawn enterprise may be missing from a partner's registry, and that
partner's inspectors could not enter their part. The gaps are shown from the announcement on (the lead sees every
partner's, a partner its own), and a partner adds the missing enterprises to its registry in one step, from what
the joint check shares with it: the enterprises of the frozen list (their USCCs are public in the proof) with the
lead's name, address, region, industry and type of each — nothing else of the lead's registry.
"""

from __future__ import annotations

import uuid

import msgspec

from services.federation import repository as frepo
from services.federation.schemas import ParticipationStatus
from services.federation.service import accepted_partners
from services.planning import records
from services.planning.schemas import PartnerGap
from services.planning.service import plan_row, task_row
from services.registry import service as registry
from services.registry.schemas import ObjectIn
from shared.context import Ctx
from shared.errors import DomainError, Forbidden, InvalidInput
from shared.tenancy import acting_for

__all__ = ["GapsAdded", "add_missing", "registry_gaps"]

SHOWN = 500


class SkippedObject(msgspec.Struct):
    uscc: str
    reason: str


class GapsAdded(msgspec.Struct):
    """What one step added to the partner's registry, what it could not add and why, and the gaps left."""

    added: list[str]
    skipped: list[SkippedObject]
    gaps: list[PartnerGap]


async def _frozen(ctx: Ctx, task_id: uuid.UUID) -> tuple[list[str], list[str]]:
    """The frozen list's USCCs and the drawn ones (empty before the draw); nothing for a task not yet announced."""
    task = await task_row(ctx, task_id)
    if task.draw_id is None:
        return [], []
    lines = await records.eligible_list(ctx, task.draw_id)
    eligible = [line.split(b"\t", 1)[0].decode() for line in lines.splitlines() if line]
    drawn = [u for us in (await records.selected_by_stratum(ctx, task.draw_id)).values() for u in us]
    return eligible, drawn


def _gap(code: str, name: str, eligible: list[str], drawn: list[str], theirs: set[str]) -> PartnerGap:
    drawn_missing = [u for u in drawn if u not in theirs]
    first = set(drawn_missing)
    missing = drawn_missing + [u for u in eligible if u not in theirs and u not in first]
    return PartnerGap(code, name, len(missing), missing[:SHOWN], drawn_missing)


async def registry_gaps(ctx: Ctx, task_id: uuid.UUID) -> list[PartnerGap]:
    task = await task_row(ctx, task_id)
    plan = await plan_row(ctx, task.plan_id)
    eligible, drawn = await _frozen(ctx, task_id)
    if not eligible:
        return []
    partners = [
        p for p in await frepo.participants(ctx.session, plan.id) if p.status == ParticipationStatus.ACCEPTED
    ]
    mine = next((p for p in partners if p.tenant_id == ctx.tenant_id), None)
    if mine is not None:  # a partner sees its own gap only
        return [
            _gap(mine.department_code, mine.department_name, eligible, drawn, await frepo.usccs(ctx.session))
        ]
    gaps = []
    for partner in partners:
        async with acting_for(ctx.session, partner.tenant_id):
            theirs = await frepo.usccs(ctx.session)
        gaps.append(_gap(partner.department_code, partner.department_name, eligible, drawn, theirs))
    return gaps


async def add_missing(ctx: Ctx, task_id: uuid.UUID) -> GapsAdded:
    """The partner's one step: every enterprise of the frozen list its registry lacks (drawn ones first, at most
    500 at a time) becomes a registry object of its own, from the lead's data of the joint check."""
    ctx.require_writer()
    task = await task_row(ctx, task_id)
    plan = await plan_row(ctx, task.plan_id)
    if plan.kind != "部门联合":
        raise InvalidInput("不是部门联合抽查任务", field="task_id")
    mine = await frepo.my_participation(ctx.session, plan.id, ctx.tenant_id)
    if mine is None or mine.status != ParticipationStatus.ACCEPTED:
        raise Forbidden("只有已接受邀请的联合部门可以把抽查对象加入本部门名录库", field="task_id")
    await accepted_partners(ctx, plan.id)
    eligible, drawn = await _frozen(ctx, task_id)
    if not eligible:
        raise InvalidInput("任务尚未公告抽取，没有冻结的对象名单", field="task_id")
    gap = _gap(mine.department_code, mine.department_name, eligible, drawn, await frepo.usccs(ctx.session))
    present = await frepo.all_usccs(
        ctx.session, gap.usccs
    )  # inactive rows stay as they are (reactivate by hand)
    wanted = [u for u in gap.usccs if u not in present]
    async with acting_for(ctx.session, mine.lead_tenant_id):
        sources = {o.uscc: o for o in await frepo.objects_to_share(ctx.session, wanted)}
    added: list[str] = []
    skipped = [
        SkippedObject(u, "本部门名录库中已有该企业，但已停用；请在名录库中启用")
        for u in gap.usccs
        if u in present
    ]
    for uscc in wanted:
        source = sources.get(uscc)
        if source is None:
            skipped.append(SkippedObject(uscc, "牵头部门名录库中已没有该企业"))
            continue
        data = ObjectIn(
            uscc=source.uscc,
            name=source.name,
            industry=source.industry,
            address=source.address,
            region_code=source.region_code,
            object_type=source.object_type,
        )
        try:
            await registry.save_object(ctx.session, ctx.principal, data)
        except (
            DomainError
        ) as exc:  # e.g. an industry outside this department's vocabulary: named, not guessed
            skipped.append(SkippedObject(uscc, exc.message))
            continue
        added.append(uscc)
    return GapsAdded(added=added, skipped=skipped, gaps=await registry_gaps(ctx, task_id))
