"""Referrals across departments (抄告 / 移送): a follow-up of a submitted result sent, with its evidence, to another
department of the county, which accepts, handles and closes it. The row is the receiving department's; the sender
reads it through the ``sender_read`` policy."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import msgspec

from services.federation import repository as frepo
from services.federation.rows import NewReferral, ReferralRow
from services.federation.schemas import (
    AttachmentOut,
    HistoryEntry,
    ReferralCreate,
    ReferralHandle,
    ReferralOut,
    ReferralStatus,
)
from services.inspection import records as inspection
from services.inspection.schemas import ResultStatus
from shared import audit, notifications
from shared.context import Ctx
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.tenancy import acting_for

__all__ = [
    "REFERRAL_STEPS",
    "ReferralCreate",
    "ReferralHandle",
    "create_referral",
    "handle_referral",
    "referral",
]

REFERRAL_ACTIONS = ("抄告相关部门", "移送办案机构")
REFERRAL_STEPS = tuple(ReferralStatus)  # in order: 待受理, 已受理, 处理中, 已办结


async def create_referral(ctx: Ctx, data: ReferralCreate) -> ReferralOut:
    result = await inspection.result(ctx, data.result_id)
    if result is None:
        raise NotFound("检查结果不存在", field="result_id")
    if result.status in (ResultStatus.DRAFT, ResultStatus.RETURNED):
        raise Conflict("检查结果提交审核后才能抄告或移送", field="result_id")
    followup = next(
        (f for f in await inspection.followups(ctx, data.result_id) if f.id == data.followup_id), None
    )
    if followup is None:
        raise NotFound("后续处置不存在", field="followup_id")
    if followup.action not in REFERRAL_ACTIONS:
        raise InvalidInput("只有“抄告相关部门”或“移送办案机构”的后续处置可以抄告或移送", field="followup_id")
    if data.department == ctx.department.code:
        raise InvalidInput("不能抄告或移送本部门", field="department")
    county = await frepo.departments_in_region(ctx.session, ctx.department.region_code)
    target = county.get(data.department)
    if target is None:
        raise InvalidInput(f"本县没有编码为 {data.department} 的部门", field="department")
    points = [p for p in await frepo.part_points(ctx.session, data.result_id) if p.outcome == "不符合"]
    hazards = await inspection.hazards(ctx, data.result_id)
    evidence = "\n".join(
        [f"检查结论：{'、'.join(result.categories)}", f"情况说明：{result.summary}"]
        + [f"不符合：{p.item_name} {p.content}（{p.note}）" for p in points]
        + [f"隐患：{h.description}（{h.severity}）" for h in hazards]
        + ([f"处置说明：{followup.note}"] if followup.note else [])
        + ([f"附言：{data.note.strip()}"] if data.note.strip() else [])
    )
    attachments = [
        AttachmentOut(a.id, a.filename, a.content_type, a.size, a.sha256)
        for a in await inspection.attachments(ctx, data.result_id)
        if a.followup_id in (None, data.followup_id)
    ]
    referral_id = uuid.uuid4()
    async with acting_for(ctx.session, target.id):
        # Validated above: the target is an active department of our own county. The row is the target's.
        if await frepo.referral_exists(ctx.session, data.followup_id):
            raise Conflict("该后续处置已抄告或移送该部门", field="followup_id")
        await frepo.insert_referral(
            ctx.session,
            NewReferral(
                id=referral_id,
                tenant_id=target.id,
                from_tenant_id=ctx.tenant_id,
                from_department_name=ctx.department.name,
                to_department_name=target.name,
                result_id=data.result_id,
                followup_id=data.followup_id,
                task_id=result.task_id,
                uscc=result.uscc,
                enterprise_name=result.object_name,
                action=followup.action,
                evidence=evidence,
                attachments=msgspec.json.encode(attachments).decode(),
                created_by=ctx.principal.name,
            ),
        )
        await notifications.create(
            ctx.session,
            target.id,
            "referral",
            f"{ctx.department.name}{followup.action.replace('相关部门', '')}：{result.object_name}",
            link=f"/api/federation/referrals/{referral_id}",
        )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "referral.send",
        "result",
        data.result_id,
        {"referral_id": str(referral_id), "to": data.department, "action": followup.action},
    )
    return await referral(ctx, referral_id)


async def referral(ctx: Ctx, referral_id: uuid.UUID) -> ReferralOut:
    found = await frepo.get_referral(ctx.session, referral_id)
    if found is None:
        raise NotFound("抄告/移送记录不存在", field="referral_id")
    return _referral_out(ctx, found)


def _referral_out(ctx: Ctx, row: ReferralRow) -> ReferralOut:
    return ReferralOut(
        id=row.id,
        from_department_name=row.from_department_name,
        to_department_name=row.to_department_name,
        result_id=row.result_id,
        followup_id=row.followup_id,
        task_id=row.task_id,
        uscc=row.uscc,
        enterprise_name=row.enterprise_name,
        action=row.action,
        evidence=row.evidence,
        attachments=msgspec.convert(frepo.jsonb(row.attachments), list[AttachmentOut]),
        status=row.status,
        history=msgspec.convert(frepo.jsonb(row.history), list[HistoryEntry]),
        created_by=row.created_by,
        created_at=row.created_at.isoformat(),
        updated_at=row.updated_at.isoformat(),
        direction="in" if row.tenant_id == ctx.tenant_id else "out",
    )


async def referrals(ctx: Ctx, direction: str | None = None) -> list[ReferralOut]:
    if direction not in (None, "in", "out"):
        raise InvalidInput("direction 应为 in 或 out", field="direction")
    out = [_referral_out(ctx, r) for r in await frepo.list_referrals(ctx.session)]
    return [r for r in out if direction is None or r.direction == direction]


async def handle_referral(ctx: Ctx, referral_id: uuid.UUID, data: ReferralHandle) -> ReferralOut:
    if data.status not in REFERRAL_STEPS[1:]:
        raise InvalidInput("办理状态应为 已受理、处理中 或 已办结", field="status")
    status = ReferralStatus(data.status)
    found = await frepo.get_referral(ctx.session, referral_id)
    if found is None:
        raise NotFound("抄告/移送记录不存在", field="referral_id")
    if found.tenant_id != ctx.tenant_id:
        raise Forbidden("只有接收部门可以办理抄告/移送", field="referral_id")
    found = await frepo.get_referral(ctx.session, referral_id, lock=True)
    assert found is not None
    if REFERRAL_STEPS.index(status) <= REFERRAL_STEPS.index(found.status):
        raise Conflict(f"当前状态为“{found.status}”，不能改为“{status}”", field="status")
    if status == ReferralStatus.CLOSED and not data.note.strip():
        raise InvalidInput("办结须填写办理结果", field="note")
    entry = HistoryEntry(
        status=status, note=data.note.strip(), by=ctx.principal.name, at=dt.datetime.now(dt.UTC).isoformat()
    )
    await frepo.update_referral(
        ctx.session, referral_id, status, json.dumps([msgspec.to_builtins(entry)], ensure_ascii=False)
    )
    async with acting_for(ctx.session, found.from_tenant_id):
        await notifications.create(
            ctx.session,
            found.from_tenant_id,
            "referral",
            f"{ctx.department.name}{status}：{found.enterprise_name}",
            body=data.note.strip(),
            link=f"/api/federation/referrals/{referral_id}",
        )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "referral.handle",
        "referral",
        referral_id,
        {"status": data.status},
    )
    return await referral(ctx, referral_id)
