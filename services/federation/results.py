"""One record per enterprise (一企一表) for joint tasks (referrals across departments are in referrals.py).

Reading other departments' parts: there is no cross-tenant policy on the result tables. The lead reads a partner's
part here, acting for the partner (``acting_for``) only after checking that the current department leads the task
and that the partner accepted the plan, and the query itself returns only submitted parts (待审核 / 已通过 / 已公示).
A partner reads its own part only (plain RLS), so it can never see the lead's or another partner's findings.
"""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from services.disclosure import service as disclosure
from services.disclosure.schemas import DepartmentPart, PublicRecord
from services.federation import repository as frepo
from services.federation.rows import JointTask, PartResult, PublicJointRecord
from services.federation.schemas import (
    AttachmentOut,
    JointAssignmentOut,
    PartFollowUpOut,
    ParticipationStatus,
    PartOut,
    PointOut,
    PublicJointRecordOut,
    RecordOut,
)
from services.inspection import records as inspection
from services.inspection.schemas import FollowUpRow, HazardRow, ResultStatus
from services.planning import records as planning_records
from services.registry import service as registry
from shared import audit, notifications
from shared.context import Ctx
from shared.errors import Conflict, Forbidden, NotFound
from shared.tenancy import acting_for

REVIEWERS = ("reviewer", "dept-admin")


class Part(msgspec.Struct):
    """One department's part as the rules see it (the API shows it as PartOut, without the ids of rows)."""

    department_code: str
    department_name: str
    items: list[str]
    result: PartResult | None
    points: list[PointOut] = []
    hazards: list[HazardRow] = []
    follow_ups: list[FollowUpRow] = []
    attachments: list[AttachmentOut] = []
    tenant_id: uuid.UUID | None = None  # a partner's department, read acting for it

    @property
    def status(self) -> str:
        return self.result.status if self.result else "未提交"

    def out(self) -> PartOut:
        out = PartOut(
            department_code=self.department_code,
            department_name=self.department_name,
            items=self.items,
            status=self.status,
            result_id=self.result.id if self.result else None,
        )
        if self.result is None:
            return out
        return msgspec.structs.replace(
            out,
            check_date=self.result.check_date,
            categories=list(self.result.categories),
            summary=self.result.summary,
            entered_by=self.result.entered_by_name,
            reviewed_by=self.result.reviewed_by_name,
            points=self.points,
            hazards=self.hazards,
            follow_ups=[_follow_up_out(f) for f in self.follow_ups],
            attachments=self.attachments,
        )


def _follow_up_out(row: FollowUpRow) -> PartFollowUpOut:
    return PartFollowUpOut(
        id=row.id,
        action=row.action,
        target=row.target,
        note=row.note,
        status=row.status,
        closed_at=row.closed_at.isoformat() if row.closed_at else None,
        closed_by=row.closed_by,
    )


async def _joint_or_404(ctx: Ctx, task_id: uuid.UUID) -> JointTask:
    joint = await frepo.joint_task(ctx.session, task_id)
    if joint is None or not (joint.is_lead or joint.my_status == ParticipationStatus.ACCEPTED):
        raise NotFound("部门联合抽查任务不存在", field="task_id")
    return joint


async def _part(
    ctx: Ctx,
    code: str,
    name: str,
    task_id: uuid.UUID,
    uscc: str,
    items: list[str],
    *,
    submitted_only: bool,
    lock: bool = False,
) -> Part:
    """One department's part, read in the current scope (the caller switches scope with acting_for)."""
    found = await frepo.part_result(ctx.session, task_id, uscc, submitted_only=submitted_only, lock=lock)
    if found is None:
        return Part(code, name, items, None)
    return Part(
        code,
        name,
        items,
        found,
        points=await frepo.part_points(ctx.session, found.id),
        hazards=await inspection.hazards(ctx, found.id),
        follow_ups=await inspection.followups(ctx, found.id),
        attachments=[
            AttachmentOut(a.id, a.filename, a.content_type, a.size, a.sha256)
            for a in await inspection.attachments(ctx, found.id)
        ],
    )


async def _parts(
    ctx: Ctx, task_id: uuid.UUID, uscc: str, *, lock: bool = False
) -> tuple[JointTask, list[Part]]:
    joint = await _joint_or_404(ctx, task_id)
    if uscc not in await planning_records.joint_team_usccs(ctx, task_id):
        raise NotFound("该企业不在本联合任务的检查分组中", field="uscc")
    me = (ctx.department.code, ctx.department.name)
    if not joint.is_lead:
        # A partner sees its own part only.
        items = await frepo.item_names(ctx.session, list(joint.my_item_ids or []))
        return joint, [await _part(ctx, *me, task_id, uscc, items, submitted_only=False)]
    items = await frepo.item_names(ctx.session, list(joint.lead_item_ids))
    parts = [await _part(ctx, *me, task_id, uscc, items, submitted_only=False, lock=lock)]
    for p in await frepo.participants(ctx.session, joint.plan_id):
        if p.status != ParticipationStatus.ACCEPTED:
            continue
        # Checked above: we lead this task and the partner accepted; only its submitted part is read.
        async with acting_for(ctx.session, p.tenant_id):
            part = await _part(
                ctx,
                p.department_code,
                p.department_name,
                task_id,
                uscc,
                list(p.item_names),
                submitted_only=True,
                lock=lock,
            )
        parts.append(msgspec.structs.replace(part, tenant_id=p.tenant_id))
    return joint, parts


def _public_record(found: PublicJointRecord) -> PublicJointRecordOut:
    return PublicJointRecordOut(
        id=found.id,
        department_name=found.department_name,
        items=found.items,
        check_date=found.check_date,
        categories=list(found.categories),
        hazard_count=found.hazard_count,
        follow_up=found.follow_up,
        departments=msgspec.convert(frepo.jsonb(found.departments), list[DepartmentPart]),
        published_at=found.published_at.isoformat(),
    )


async def unified_record(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> RecordOut:
    joint, parts = await _parts(ctx, task_id, uscc)
    published = await frepo.public_joint_record(ctx.session, task_id, uscc)
    ready = joint.is_lead and all(p.status == ResultStatus.APPROVED for p in parts)
    return RecordOut(
        task_id=task_id,
        uscc=uscc,
        is_lead=joint.is_lead,
        departments=[p.department_name for p in parts] if joint.is_lead else None,
        parts=[p.out() for p in parts],
        ready_to_publish=ready and published is None,
        public_record=_public_record(published) if published else None,
    )


def _merge_categories(parts: list[Part]) -> list[str]:
    merged = list(dict.fromkeys(c for p in parts if p.result for c in p.result.categories))
    if len(merged) > 1 and "未发现问题" in merged:
        merged.remove("未发现问题")
    return merged


async def publish_unified(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> RecordOut:
    """The lead publishes ONE public record for the enterprise once every department's part is approved."""
    if not ctx.principal.has_any_role(*REVIEWERS):
        raise Forbidden("只有审核人员或部门管理员可以公示检查结果")
    joint = await _joint_or_404(ctx, task_id)
    if not joint.is_lead:
        raise Forbidden("部门联合抽查的统一记录由牵头部门公示", field="task_id")
    _, parts = await _parts(ctx, task_id, uscc, lock=True)
    # Published parts are 已公示, no longer 已通过: answer a second publish with what it is, first.
    if await frepo.public_joint_record(ctx.session, task_id, uscc) is not None:
        raise Conflict("该企业的联合检查记录已公示，无需再次公示", field="uscc", code="already_published")
    waiting = [p.department_name for p in parts if p.status != ResultStatus.APPROVED]
    if waiting:
        raise Conflict(f"以下部门的检查结果尚未审核通过：{'、'.join(waiting)}", field="parts")
    # Every part is approved, so every part has its result (with a check date).
    results = [p.result for p in parts if p.result is not None]
    assert len(results) == len(parts) and all(r.check_date is not None for r in results)
    lead = results[0]
    result = await inspection.result(ctx, lead.id)
    assert result is not None
    task = await inspection.task_info(ctx, task_id)
    assert task is not None
    now = dt.datetime.now(dt.UTC)
    check_dates = [r.check_date for r in results if r.check_date is not None]
    await disclosure.publish(
        ctx.session,
        PublicRecord(
            id=lead.id,
            task_id=task_id,
            draw_id=task.draw_id,
            department_code=ctx.department.code,
            department_name="、".join(p.department_name for p in parts),
            region_code=ctx.department.region_code,
            plan_number=result.plan_number,
            plan_name=result.plan_name,
            task_number=result.task_number,
            task_name=result.task_name,
            uscc=uscc,
            enterprise_name=result.object_name,
            address=result.address,
            items="；".join(dict.fromkeys(i for p in parts for i in p.items)),
            check_date=min(check_dates),
            categories=_merge_categories(parts),
            hazard_count=sum(len(p.hazards) for p in parts),
            follow_up="、".join(dict.fromkeys(f.action for p in parts for f in p.follow_ups)),
            published_at=now,
            back_entry=result.back_entry,
            departments=[
                DepartmentPart(
                    department_code=p.department_code,
                    department_name=p.department_name,
                    items=p.items,
                    check_date=check_date.isoformat(),
                    categories=list(r.categories),
                    hazard_count=len(p.hazards),
                    follow_up="、".join(f.action for f in p.follow_ups),
                )
                for p, r, check_date in zip(parts, results, check_dates, strict=True)
            ],
        ),
    )
    for p, r, check_date in zip(parts, results, check_dates, strict=True):
        if p.tenant_id is None:
            await inspection.set_part_published(ctx, r.id, now)
            await registry.mark_checked(ctx.session, r.object_id, check_date)
            continue
        async with acting_for(ctx.session, p.tenant_id):
            await inspection.set_part_published(ctx, r.id, now)
            await registry.mark_checked(ctx.session, r.object_id, check_date)
            await notifications.create(
                ctx.session,
                p.tenant_id,
                "result",
                f"部门联合检查记录已由{ctx.department.name}统一公示：{result.object_name}",
                link=f"/results/{r.id}",
                dedupe_key=f"joint-publish:{r.id}",
            )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "joint_result.publish",
        "task",
        task_id,
        {"uscc": uscc, "departments": [p.department_code for p in parts], "published_at": now.isoformat()},
    )
    return await unified_record(ctx, task_id, uscc)


async def my_joint_assignments(ctx: Ctx) -> list[JointAssignmentOut]:
    """Joint teams the current user sits on for the current department (谁检查、谁录入)."""
    return await frepo.joint_assignments_for_user(ctx.session, ctx.principal.user_id)
