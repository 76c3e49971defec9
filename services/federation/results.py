"""One record per enterprise (一企一表) for joint tasks, and referrals across departments (抄告/移送).

Reading other departments' parts: there is no cross-tenant policy on the result tables. The lead reads a partner's
part here, acting for the partner (``acting_for``) only after checking that the current department leads the task
and that the partner accepted the plan, and the query itself returns only submitted parts (待审核 / 已通过 / 已公示).
A partner reads its own part only (plain RLS), so it can never see the lead's or another partner's findings.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import msgspec

from services.disclosure import service as disclosure
from services.disclosure.schemas import DepartmentPart, PublicRecord
from services.federation import repository as frepo
from services.inspection import records as inspection
from services.registry import service as registry
from shared import audit, notifications
from shared.context import Ctx
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.tenancy import acting_for

REVIEWERS = ("reviewer", "dept-admin")
REFERRAL_ACTIONS = ("抄告相关部门", "移送办案机构")
REFERRAL_STEPS = ("待受理", "已受理", "处理中", "已办结")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _plain_dict(value: dict[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = _plain(value)
    return plain


def _plain_list(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    plain: list[dict[str, Any]] = _plain(value)
    return plain


def _json(value: Any) -> Any:
    """jsonb read through text() arrives as a string."""
    return json.loads(value) if isinstance(value, str) else value


async def _joint_or_404(ctx: Ctx, task_id: uuid.UUID) -> dict[str, Any]:
    joint = await frepo.joint_task(ctx.session, task_id)
    if joint is None or not (joint["is_lead"] or joint["my_status"] == "已接受"):
        raise NotFound("部门联合抽查任务不存在", field="task_id")
    return joint


async def _part(
    ctx: Ctx,
    department: dict[str, Any],
    task_id: uuid.UUID,
    uscc: str,
    items: list[str],
    *,
    submitted_only: bool,
    lock: bool = False,
) -> dict[str, Any]:
    """One department's part, read in the current scope (the caller switches scope with acting_for)."""
    part = await frepo.part_result(ctx.session, task_id, uscc, submitted_only=submitted_only, lock=lock)
    out: dict[str, Any] = {
        "department_code": department["code"],
        "department_name": department["name"],
        "items": items,
        "status": part["status"] if part else "未提交",
        "result_id": None,
    }
    if part is None:
        return out
    out.update(
        {
            "result_id": part["id"],
            "object_id": part["object_id"],
            "check_date": part["check_date"],
            "categories": list(part["categories"]),
            "summary": part["summary"],
            "entered_by": part["entered_by_name"],
            "reviewed_by": part["reviewed_by_name"],
            "points": await frepo.part_points(ctx.session, part["id"]),
            "hazards": await inspection.hazards(ctx, part["id"]),
            "follow_ups": await inspection.followups(ctx, part["id"]),
            "attachments": [
                {k: a[k] for k in ("id", "filename", "content_type", "size", "sha256")}
                for a in await inspection.attachments(ctx, part["id"])
            ],
        }
    )
    return out


async def _participants(ctx: Ctx, joint: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in await frepo.participants(ctx.session, joint["plan_id"]) if p["status"] == "已接受"]


async def _parts(
    ctx: Ctx, task_id: uuid.UUID, uscc: str, *, lock: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    joint = await _joint_or_404(ctx, task_id)
    if uscc not in await frepo.joint_team_usccs(ctx.session, task_id):
        raise NotFound("该企业不在本联合任务的检查分组中", field="uscc")
    me = {"code": ctx.department.code, "name": ctx.department.name}
    if not joint["is_lead"]:
        # A partner sees its own part only.
        items = await frepo.item_names(ctx.session, list(joint["my_item_ids"]))
        return joint, [await _part(ctx, me, task_id, uscc, items, submitted_only=False)]
    items = await frepo.item_names(ctx.session, list(joint["lead_item_ids"]))
    parts = [await _part(ctx, me, task_id, uscc, items, submitted_only=False, lock=lock)]
    for p in await _participants(ctx, joint):
        # Checked above: we lead this task and the partner accepted; only its submitted part is read.
        async with acting_for(ctx.session, p["tenant_id"]):
            parts.append(
                await _part(
                    ctx,
                    {"code": p["department_code"], "name": p["department_name"]},
                    task_id,
                    uscc,
                    list(p["item_names"]),
                    submitted_only=True,
                    lock=lock,
                )
            )
        parts[-1]["tenant_id"] = p["tenant_id"]
    return joint, parts


async def unified_record(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> dict[str, Any]:
    joint, parts = await _parts(ctx, task_id, uscc)
    published = await frepo.public_joint_record(ctx.session, task_id, uscc)
    ready = joint["is_lead"] and all(p["status"] == "已通过" for p in parts)
    return _plain_dict(
        {
            "task_id": task_id,
            "uscc": uscc,
            "is_lead": joint["is_lead"],
            "departments": [p["department_name"] for p in parts] if joint["is_lead"] else None,
            "parts": [{k: v for k, v in p.items() if k not in ("tenant_id", "object_id")} for p in parts],
            "ready_to_publish": ready and published is None,
            "public_record": {**published, "departments": _json(published["departments"])}
            if published
            else None,
        }
    )


def _merge_categories(parts: list[dict[str, Any]]) -> list[str]:
    merged = list(dict.fromkeys(c for p in parts for c in p["categories"]))
    if len(merged) > 1 and "未发现问题" in merged:
        merged.remove("未发现问题")
    return merged


async def publish_unified(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> dict[str, Any]:
    """The lead publishes ONE public record for the enterprise once every department's part is approved."""
    if not ctx.principal.has_any_role(*REVIEWERS):
        raise Forbidden("只有审核人员或部门管理员可以公示检查结果")
    joint = await _joint_or_404(ctx, task_id)
    if not joint["is_lead"]:
        raise Forbidden("部门联合抽查的统一记录由牵头部门公示", field="task_id")
    _, parts = await _parts(ctx, task_id, uscc, lock=True)
    waiting = [p["department_name"] for p in parts if p["status"] != "已通过"]
    if waiting:
        raise Conflict(f"以下部门的检查结果尚未审核通过：{'、'.join(waiting)}", field="parts")
    if await frepo.public_joint_record(ctx.session, task_id, uscc) is not None:
        raise Conflict("该企业的联合检查记录已公示", field="uscc")
    lead = parts[0]
    result = await inspection.result(ctx, lead["result_id"])
    assert result is not None
    task = await inspection.task_info(ctx, task_id)
    assert task is not None
    now = dt.datetime.now(dt.UTC)
    await disclosure.publish(
        ctx.session,
        PublicRecord(
            id=lead["result_id"],
            task_id=task_id,
            draw_id=task["draw_id"],
            department_code=ctx.department.code,
            department_name="、".join(p["department_name"] for p in parts),
            region_code=ctx.department.region_code,
            plan_number=result["plan_number"],
            plan_name=result["plan_name"],
            task_number=result["task_number"],
            task_name=result["task_name"],
            uscc=uscc,
            enterprise_name=result["object_name"],
            address=result["address"],
            items="；".join(dict.fromkeys(i for p in parts for i in p["items"])),
            check_date=min(p["check_date"] for p in parts),
            categories=_merge_categories(parts),
            hazard_count=sum(len(p["hazards"]) for p in parts),
            follow_up="、".join(dict.fromkeys(f["action"] for p in parts for f in p["follow_ups"])),
            published_at=now,
            departments=[
                DepartmentPart(
                    department_code=p["department_code"],
                    department_name=p["department_name"],
                    items=p["items"],
                    check_date=p["check_date"].isoformat(),
                    categories=p["categories"],
                    hazard_count=len(p["hazards"]),
                    follow_up="、".join(f["action"] for f in p["follow_ups"]),
                )
                for p in parts
            ],
        ),
    )
    for p in parts:
        scope = acting_for(ctx.session, p["tenant_id"]) if "tenant_id" in p else None
        if scope is None:
            await inspection.set_part_published(ctx, p["result_id"], now)
            await registry.mark_checked(ctx.session, p["object_id"], p["check_date"])
            continue
        async with scope:
            await inspection.set_part_published(ctx, p["result_id"], now)
            await registry.mark_checked(ctx.session, p["object_id"], p["check_date"])
            await notifications.create(
                ctx.session,
                p["tenant_id"],
                "result",
                f"部门联合检查记录已由{ctx.department.name}统一公示：{result['object_name']}",
                link=f"/results/{p['result_id']}",
                dedupe_key=f"joint-publish:{p['result_id']}",
            )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "joint_result.publish",
        "task",
        task_id,
        {"uscc": uscc, "departments": [p["department_code"] for p in parts], "published_at": now.isoformat()},
    )
    return await unified_record(ctx, task_id, uscc)


async def my_joint_assignments(ctx: Ctx) -> list[dict[str, Any]]:
    """Joint teams the current user sits on for the current department (谁检查、谁录入)."""
    return _plain_list(await frepo.joint_assignments_for_user(ctx.session, ctx.principal.user_id))


# ---- referrals (抄告 / 移送) -----------------------------------------------------------------------------------------


class ReferralCreate(msgspec.Struct, forbid_unknown_fields=True):
    result_id: uuid.UUID
    followup_id: uuid.UUID
    department: str
    note: str = ""


class ReferralHandle(msgspec.Struct, forbid_unknown_fields=True):
    status: str
    note: str = ""


async def create_referral(ctx: Ctx, data: ReferralCreate) -> dict[str, Any]:
    result = await inspection.result(ctx, data.result_id)
    if result is None:
        raise NotFound("检查结果不存在", field="result_id")
    if result["status"] in ("草稿", "退回"):
        raise Conflict("检查结果提交审核后才能抄告或移送", field="result_id")
    followup = next(
        (f for f in await inspection.followups(ctx, data.result_id) if f["id"] == data.followup_id), None
    )
    if followup is None:
        raise NotFound("后续处置不存在", field="followup_id")
    if followup["action"] not in REFERRAL_ACTIONS:
        raise InvalidInput("只有“抄告相关部门”或“移送办案机构”的后续处置可以抄告或移送", field="followup_id")
    if data.department == ctx.department.code:
        raise InvalidInput("不能抄告或移送本部门", field="department")
    county = await frepo.departments_in_region(ctx.session, ctx.department.region_code)
    target = county.get(data.department)
    if target is None:
        raise InvalidInput(f"本县没有编码为 {data.department} 的部门", field="department")
    points = [p for p in await frepo.part_points(ctx.session, data.result_id) if p["outcome"] == "不符合"]
    hazards = await inspection.hazards(ctx, data.result_id)
    evidence = "\n".join(
        [f"检查结论：{'、'.join(result['categories'])}", f"情况说明：{result['summary']}"]
        + [f"不符合：{p['item_name']} {p['content']}（{p['note']}）" for p in points]
        + [f"隐患：{h['description']}（{h['severity']}）" for h in hazards]
        + ([f"处置说明：{followup['note']}"] if followup["note"] else [])
        + ([f"附言：{data.note.strip()}"] if data.note.strip() else [])
    )
    attachments = [
        {
            "id": str(a["id"]),
            "filename": a["filename"],
            "content_type": a["content_type"],
            "size": a["size"],
            "sha256": a["sha256"],
        }
        for a in await inspection.attachments(ctx, data.result_id)
        if a["followup_id"] in (None, data.followup_id)
    ]
    referral_id = uuid.uuid4()
    async with acting_for(ctx.session, target["id"]):
        # Validated above: the target is an active department of our own county. The row is the target's.
        exists = await frepo.referral_for(ctx.session, data.followup_id)
        if exists is not None:
            raise Conflict("该后续处置已抄告或移送该部门", field="followup_id")
        await frepo.insert_referral(
            ctx.session,
            {
                "id": referral_id,
                "tenant_id": target["id"],
                "from_tenant_id": ctx.tenant_id,
                "from_department_name": ctx.department.name,
                "to_department_name": target["name"],
                "result_id": data.result_id,
                "followup_id": data.followup_id,
                "task_id": result["task_id"],
                "uscc": result["uscc"],
                "enterprise_name": result["object_name"],
                "action": followup["action"],
                "evidence": evidence,
                "attachments": json.dumps(attachments, ensure_ascii=False),
                "created_by": ctx.principal.name,
            },
        )
        await notifications.create(
            ctx.session,
            target["id"],
            "referral",
            f"{ctx.department.name}{followup['action'].replace('相关部门', '')}：{result['object_name']}",
            link=f"/api/federation/referrals/{referral_id}",
        )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "referral.send",
        "result",
        data.result_id,
        {"referral_id": str(referral_id), "to": data.department, "action": followup["action"]},
    )
    return await referral(ctx, referral_id)


async def referral(ctx: Ctx, referral_id: uuid.UUID) -> dict[str, Any]:
    found = await frepo.get_referral(ctx.session, referral_id)
    if found is None:
        raise NotFound("抄告/移送记录不存在", field="referral_id")
    return _plain_dict(_referral_out(ctx, found))


def _referral_out(ctx: Ctx, row: dict[str, Any]) -> dict[str, Any]:
    out = {
        **row,
        "attachments": _json(row["attachments"]),
        "history": _json(row["history"]),
        "direction": "in" if row["tenant_id"] == ctx.tenant_id else "out",
    }
    for key in ("tenant_id", "from_tenant_id"):
        out.pop(key)
    return out


async def referrals(ctx: Ctx, direction: str | None = None) -> list[dict[str, Any]]:
    if direction not in (None, "in", "out"):
        raise InvalidInput("direction 应为 in 或 out", field="direction")
    out = [_referral_out(ctx, r) for r in await frepo.list_referrals(ctx.session)]
    return _plain_list([r for r in out if direction is None or r["direction"] == direction])


async def handle_referral(ctx: Ctx, referral_id: uuid.UUID, data: ReferralHandle) -> dict[str, Any]:
    if data.status not in REFERRAL_STEPS[1:]:
        raise InvalidInput("办理状态应为 已受理、处理中 或 已办结", field="status")
    found = await frepo.get_referral(ctx.session, referral_id)
    if found is None:
        raise NotFound("抄告/移送记录不存在", field="referral_id")
    if found["tenant_id"] != ctx.tenant_id:
        raise Forbidden("只有接收部门可以办理抄告/移送", field="referral_id")
    found = await frepo.get_referral(ctx.session, referral_id, lock=True)
    assert found is not None
    if REFERRAL_STEPS.index(data.status) <= REFERRAL_STEPS.index(found["status"]):
        raise Conflict(f"当前状态为“{found['status']}”，不能改为“{data.status}”", field="status")
    if data.status == "已办结" and not data.note.strip():
        raise InvalidInput("办结须填写办理结果", field="note")
    entry = {
        "status": data.status,
        "note": data.note.strip(),
        "by": ctx.principal.name,
        "at": dt.datetime.now(dt.UTC).isoformat(),
    }
    await frepo.update_referral(
        ctx.session, referral_id, data.status, json.dumps([entry], ensure_ascii=False)
    )
    async with acting_for(ctx.session, found["from_tenant_id"]):
        await notifications.create(
            ctx.session,
            found["from_tenant_id"],
            "referral",
            f"{ctx.department.name}{data.status}：{found['enterprise_name']}",
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
