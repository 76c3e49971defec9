"""Rules of results (谁检查、谁录入), review (待审核 → 退回 / 通过 → 已公示), hazards, follow-up and attachments."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from typing import Any

import msgspec

from services.disclosure import deadlines
from services.disclosure import service as disclosure
from services.disclosure.schemas import PublicRecord
from services.inspection import repository as repo
from services.inspection.extension import joint_parts
from services.inspection.schemas import (
    ACTIONS,
    CATEGORIES,
    OUTCOMES,
    SEVERITIES,
    CloseRequest,
    RecheckRequest,
    ResultDraft,
    ReturnRequest,
)
from services.planning import service as planning
from services.registry import service as registry
from shared import audit, notifications, workdays
from shared.context import Ctx
from shared.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound

REVIEWERS = ("reviewer", "dept-admin")
EDITABLE = ("草稿", "退回")
# The only legal moves; anything else is a 409 naming the current status.
TRANSITIONS = {"submit": ("草稿", "退回"), "approve": ("待审核",), "return": ("待审核",)}
EXCLUSIVE = "未发现问题"


class UnsupportedMedia(DomainError):
    status_code = 415
    code = "unsupported_media_type"


class TooLarge(DomainError):
    status_code = 413
    code = "too_large"


def max_attachment_bytes() -> int:
    return int(os.environ.get("SPOTCHECK_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))


# Magic bytes → canonical type. The client's declared type and file name are never trusted.
MAGIC: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", ".png"),
    (b"%PDF-", 0, "application/pdf", ".pdf"),
    (b"WEBP", 8, "image/webp", ".webp"),
)


def sniff(content: bytes) -> tuple[str, str] | None:
    for magic, offset, mime, ext in MAGIC:
        if content[offset : offset + len(magic)] == magic and (offset == 0 or content[:4] == b"RIFF"):
            return mime, ext
    return None


def is_overdue(result: dict[str, Any], today: dt.date) -> bool:
    if result["status"] == "已公示":
        published: dt.datetime | None = result["published_at"]
        return published is not None and published.date() > result["due_on"]
    due: dt.date = result["due_on"]
    return today > due


def _out(result: dict[str, Any], today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.date.today()
    left = workdays.workdays_between(today, result["due_on"]) if result["status"] != "已公示" else None
    return {**result, "overdue": is_overdue(result, today), "workdays_left": left}


def _is_reviewer(ctx: Ctx) -> bool:
    return ctx.principal.has_any_role(*REVIEWERS)


async def _team(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> list[dict[str, Any]]:
    members = await repo.team_members(ctx.session, task_id, uscc) or await _joint_members(ctx, task_id, uscc)
    if not members:
        raise NotFound("该企业不在本任务的检查分组中", field="uscc")
    return members


async def _require_team(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> None:
    members = await _team(ctx, task_id, uscc)
    if ctx.principal.user_id not in {m["user_id"] for m in members}:
        raise Forbidden("只有该企业检查组的检查人员可以录入检查结果（谁检查、谁录入）", field="uscc")


async def _task(ctx: Ctx, task_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any]:
    task = await repo.task_info(ctx.session, task_id, lock=lock)
    if task is None and lock:
        # A partner of a joint plan sees the lead's task read-only (joint_read): it cannot lock it.
        task = await repo.task_info(ctx.session, task_id)
    if task is None:
        raise NotFound("抽查任务不存在", field="task_id")
    return await _joint_task(ctx, task)


async def _result(ctx: Ctx, result_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any]:
    result = await repo.get_result(ctx.session, result_id, lock=lock)
    if result is None:
        raise NotFound("检查结果不存在", field="result_id")
    return result


# ---- reading --------------------------------------------------------------------------------------------------


async def entry_view(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> dict[str, Any]:
    task = await _task(ctx, task_id)
    team = await _team(ctx, task_id, uscc)
    obj = await _object(ctx, task_id, uscc)
    result = await repo.result_for(ctx.session, task_id, uscc)
    answered = await repo.points(ctx.session, result["id"]) if result else {}
    points = [
        {**p, **answered.get(p["id"], {"outcome": None, "note": ""})}
        for p in await repo.check_points(ctx.session, list(task["item_ids"]))
    ]
    end = workdays.month_end(task["end_month"])
    due = result["due_on"] if result else (await deadlines.deadline(ctx.session, end)).due
    on_team = ctx.principal.user_id in {m["user_id"] for m in team}
    follow_ups = await repo.followups(ctx.session, result["id"]) if result else []
    attachments = await repo.attachments(ctx.session, result["id"]) if result else []
    return {
        "task": task,
        "object": obj,
        "team": [{"name": m["name"], "licence_no": m["licence_no"]} for m in team],
        "on_team": on_team,
        "result": _out(result) if result else None,
        "points": points,
        "due_on": due,
        "hazards": await repo.hazards(ctx.session, result["id"]) if result else [],
        "follow_ups": follow_ups,
        "attachments": [
            {**a, "removable": _removable(a, result, on_team, _is_reviewer(ctx), follow_ups)}
            for a in attachments
        ],
        # Photos and documents of the result itself are added by its team while it is editable.
        "can_attach": result is not None and on_team and result["status"] in EDITABLE,
        "attachment_max_bytes": max_attachment_bytes(),
    }


async def entry_of(ctx: Ctx, result_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    """The task and enterprise of a result: where its phone entry page is."""
    result = await _result(ctx, result_id)
    return result["task_id"], result["uscc"]


async def result_detail(ctx: Ctx, result_id: uuid.UUID) -> dict[str, Any]:
    result = await _result(ctx, result_id)
    view = await entry_view(ctx, result["task_id"], result["uscc"])
    view["can_review"] = _is_reviewer(ctx) and result["status"] == "待审核"
    view["history"] = [
        msgspec.to_builtins(e)
        for e in await audit.events(
            ctx.session, ctx.tenant_id, entity_type="result", entity_id=str(result_id)
        )
    ]
    return view


async def list_results(
    ctx: Ctx, task_id: uuid.UUID | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    today = dt.date.today()
    return [_out(r, today) for r in await repo.list_results(ctx.session, task_id=task_id, status=status)]


# ---- entry ----------------------------------------------------------------------------------------------------


def _validate(data: ResultDraft, point_ids: set[uuid.UUID]) -> None:
    seen: set[uuid.UUID] = set()
    for i, p in enumerate(data.points):
        if p.check_point_id not in point_ids:
            raise InvalidInput("该检查要点不属于本任务的检查事项", field=f"points[{i}].check_point_id")
        if p.check_point_id in seen:
            raise InvalidInput("检查要点重复填写", field=f"points[{i}].check_point_id")
        seen.add(p.check_point_id)
        if p.outcome not in OUTCOMES:
            raise InvalidInput("检查结论应为 符合、不符合 或 不涉及", field=f"points[{i}].outcome")
        if p.outcome == "不符合" and not p.note.strip():
            raise InvalidInput("不符合的检查要点须说明问题", field=f"points[{i}].note")
    for i, c in enumerate(data.categories):
        if c not in CATEGORIES:
            raise InvalidInput(f"“{c}”不是全国平台的检查结果类别", field=f"categories[{i}]")
    if len(set(data.categories)) != len(data.categories):
        raise InvalidInput("检查结果类别重复", field="categories")
    for i, h in enumerate(data.hazards):
        if not h.description.strip():
            raise InvalidInput("请填写隐患描述", field=f"hazards[{i}].description")
        if h.severity not in SEVERITIES:
            raise InvalidInput("隐患等级应为 重大隐患 或 一般隐患", field=f"hazards[{i}].severity")
    for i, f in enumerate(data.follow_ups):
        if f.action not in ACTIONS:
            raise InvalidInput(f"“{f.action}”不是规定的后续处置方式", field=f"follow_ups[{i}].action")
    if len({f.action for f in data.follow_ups}) != len(data.follow_ups):
        raise InvalidInput("后续处置方式重复", field="follow_ups")
    if data.check_date is not None and data.check_date > dt.date.today():
        raise InvalidInput("检查日期不能晚于今天", field="check_date")


async def save_draft(ctx: Ctx, task_id: uuid.UUID, uscc: str, data: ResultDraft) -> dict[str, Any]:
    task = await _task(ctx, task_id, lock=True)
    await _require_team(ctx, task_id, uscc)
    if task["status"] not in ("已匹配", "实施中"):
        raise Conflict(f"任务当前状态为“{task['status']}”，不能录入检查结果", field="status")
    points = await repo.check_points(ctx.session, list(task["item_ids"]))
    _validate(data, {p["id"] for p in points})
    # The check ends on the check date entered, else at the end of the task's last month.
    end = data.check_date or workdays.month_end(task["end_month"])
    due = await deadlines.deadline(ctx.session, end)
    result = await repo.result_for(ctx.session, task_id, uscc, lock=True)
    values = {
        "check_end": end,
        "due_on": due.due,
        "due_uncertain": due.uncertain,
        "entered_by": str(ctx.principal.user_id),
        "entered_by_name": ctx.principal.name,
    }
    started = False
    if result is None:
        # A first entry locks the task row before inserting: the insert's foreign-key share lock on the task, taken
        # first, would deadlock two concurrent first entries when both then move the task to 实施中. Under that
        # lock, look again: a concurrent first save of the same enterprise may have committed meanwhile.
        started = await planning.start_implementation(ctx.session, task_id)
        result = await repo.result_for(ctx.session, task_id, uscc, lock=True)
    if started:
        await audit.record(ctx.session, ctx.tenant_id, ctx.actor, "task.start", "task", task_id, {})
    if result is None:
        obj = await _object(ctx, task_id, uscc)
        if obj is None:
            raise Conflict("该企业不在本部门的检查对象名录库中，请先在名录库中登记", field="uscc")
        result_id = uuid.uuid4()
        await repo.insert_result(
            ctx.session,
            {
                **values,
                "id": result_id,
                "tenant_id": ctx.tenant_id,
                "task_id": task_id,
                "uscc": uscc,
                "object_id": obj["object_id"],
            },
        )
        action = "result.create"
    else:
        result_id = result["id"]
        if result["status"] not in EDITABLE:
            raise Conflict(f"检查结果当前状态为“{result['status']}”，不能修改", field="status")
        action = "result.save"
    await repo.update_draft(
        ctx.session,
        result_id,
        {
            **values,
            "check_date": data.check_date,
            "categories": data.categories,
            "summary": data.summary.strip(),
        },
    )
    await repo.replace_points(
        ctx.session,
        ctx.tenant_id,
        result_id,
        [{"cp": p.check_point_id, "outcome": p.outcome, "note": p.note.strip()} for p in data.points],
    )
    await repo.replace_hazards(
        ctx.session,
        ctx.tenant_id,
        result_id,
        [
            {
                "id": h.id or uuid.uuid4(),
                "description": h.description.strip(),
                "severity": h.severity,
                "rectify_by": h.rectify_by,
            }
            for h in data.hazards
        ],
    )
    await repo.replace_followups(
        ctx.session,
        ctx.tenant_id,
        result_id,
        [
            {
                "id": f.id or uuid.uuid4(),
                "action": f.action,
                "target": f.target.strip(),
                "note": f.note.strip(),
                "status": "已办结" if f.action == "无需后续处置" else "办理中",
            }
            for f in data.follow_ups
        ],
    )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        action,
        "result",
        result_id,
        {
            "task_id": str(task_id),
            "uscc": uscc,
            "points": len(data.points),
            "categories": data.categories,
            "hazards": len(data.hazards),
            "follow_ups": [f.action for f in data.follow_ups],
            "due_on": due.due.isoformat(),
            "due_uncertain": due.uncertain,
        },
    )
    out = _out(await _result(ctx, result_id))
    if due.uncertain:
        out["warning"] = (
            f"{'、'.join(map(str, due.unknown_years))}年的法定节假日尚未公布，公示期限暂按周末计算，"
            "请管理员在国务院公布后导入当年安排"
        )
    return out


async def _check_complete(ctx: Ctx, result: dict[str, Any]) -> None:
    """A result goes to review only when it is complete and consistent."""
    task = await _task(ctx, result["task_id"])
    expected = {p["id"] for p in await repo.check_points(ctx.session, list(task["item_ids"]))}
    answered = await repo.points(ctx.session, result["id"])
    missing = expected - set(answered)
    if missing:
        raise InvalidInput(f"还有 {len(missing)} 个检查要点未填写结论", field="points")
    if result["check_date"] is None:
        raise InvalidInput("请填写检查日期", field="check_date")
    categories = list(result["categories"])
    if not categories:
        raise InvalidInput("请选择至少一个检查结果类别", field="categories")
    hazards = await repo.hazards(ctx.session, result["id"])
    problems = bool(hazards) or any(a["outcome"] == "不符合" for a in answered.values())
    if EXCLUSIVE in categories and (len(categories) > 1 or problems):
        raise InvalidInput("“未发现问题”不能与发现的问题或其他类别同时选择", field="categories")
    actions = {f["action"] for f in await repo.followups(ctx.session, result["id"])}
    if not actions:
        raise InvalidInput("请选择后续处置方式", field="follow_ups")
    if hazards and actions == {"无需后续处置"}:
        raise InvalidInput("发现隐患时须选择后续处置（如责令改正并跟踪）", field="follow_ups")
    if "责令改正并跟踪" in actions and any(h["rectify_by"] is None for h in hazards):
        raise InvalidInput("责令改正的隐患须填写整改期限", field="hazards")


def _transition(result: dict[str, Any], move: str) -> None:
    if result["status"] not in TRANSITIONS[move]:
        label = {"submit": "提交审核", "approve": "审核通过", "return": "退回"}[move]
        raise Conflict(f"检查结果当前状态为“{result['status']}”，不能{label}", field="status")


async def submit(ctx: Ctx, result_id: uuid.UUID) -> dict[str, Any]:
    result = await _result(ctx, result_id, lock=True)
    await _require_team(ctx, result["task_id"], result["uscc"])
    _transition(result, "submit")
    await _check_complete(ctx, result)
    await repo.set_status(ctx.session, result_id, "待审核", submitted_at=dt.datetime.now(dt.UTC))
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "result.submit",
        "result",
        result_id,
        {"from": result["status"]},
    )
    await notifications.create(
        ctx.session,
        ctx.tenant_id,
        "result",
        f"待审核：{result['object_name']}",
        link=f"/results/{result_id}",
        dedupe_key=f"submit:{result_id}:{dt.datetime.now(dt.UTC).isoformat()}",
    )
    return _out(await _result(ctx, result_id))


def _require_reviewer(ctx: Ctx) -> None:
    if not _is_reviewer(ctx):
        raise Forbidden("只有审核人员或部门管理员可以审核检查结果")


async def return_result(ctx: Ctx, result_id: uuid.UUID, data: ReturnRequest) -> dict[str, Any]:
    _require_reviewer(ctx)
    reason = data.reason.strip()
    if len(reason) < 2:
        raise InvalidInput("请填写退回理由", field="reason")
    result = await _result(ctx, result_id, lock=True)
    _transition(result, "return")
    now = dt.datetime.now(dt.UTC)
    await repo.set_status(
        ctx.session,
        result_id,
        "退回",
        return_reason=reason,
        reviewed_by=str(ctx.principal.user_id),
        reviewed_by_name=ctx.principal.name,
        reviewed_at=now,
    )
    await audit.record(
        ctx.session, ctx.tenant_id, ctx.actor, "result.return", "result", result_id, {"reason": reason}
    )
    await notifications.create(
        ctx.session,
        ctx.tenant_id,
        "result",
        f"检查结果被退回：{result['object_name']}",
        body=reason,
        link=f"/results/{result_id}",
        recipient_id=result["entered_by"],
        dedupe_key=f"return:{result_id}:{now.isoformat()}",
    )
    return _out(await _result(ctx, result_id))


async def approve(ctx: Ctx, result_id: uuid.UUID) -> dict[str, Any]:
    """通过 → 已公示: the public record is written in the same transaction, so publication is all or nothing."""
    _require_reviewer(ctx)
    result = await _result(ctx, result_id, lock=True)
    _transition(result, "approve")
    if (await _task(ctx, result["task_id"])).get("joint"):
        return await _approve_joint_part(ctx, result)
    now = dt.datetime.now(dt.UTC)
    await repo.set_status(
        ctx.session,
        result_id,
        "已公示",
        reviewed_by=str(ctx.principal.user_id),
        reviewed_by_name=ctx.principal.name,
        reviewed_at=now,
        published_at=now,
        return_reason=None,
    )
    task = await _task(ctx, result["task_id"])
    items = await planning_items(ctx, task)
    hazards = await repo.hazards(ctx.session, result_id)
    follow = [f["action"] for f in await repo.followups(ctx.session, result_id)]
    await disclosure.publish(
        ctx.session,
        PublicRecord(
            id=result_id,
            task_id=result["task_id"],
            draw_id=task["draw_id"],
            department_code=ctx.department.code,
            department_name=ctx.department.name,
            region_code=ctx.department.region_code,
            plan_number=result["plan_number"],
            plan_name=result["plan_name"],
            task_number=result["task_number"],
            task_name=result["task_name"],
            uscc=result["uscc"],
            enterprise_name=result["object_name"],
            address=result["address"],
            items=items,
            check_date=result["check_date"],
            categories=list(result["categories"]),
            hazard_count=len(hazards),
            follow_up="、".join(follow),
            published_at=now,
        ),
    )
    await registry.mark_checked(ctx.session, result["object_id"], result["check_date"])
    late = now.date() > result["due_on"]
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "result.approve",
        "result",
        result_id,
        {"published_at": now.isoformat(), "due_on": result["due_on"].isoformat(), "late": late},
    )
    await notifications.create(
        ctx.session,
        ctx.tenant_id,
        "result",
        f"检查结果已公示：{result['object_name']}",
        link=f"/results/{result_id}",
        recipient_id=result["entered_by"],
        dedupe_key=f"approve:{result_id}",
    )
    return _out(await _result(ctx, result_id))


async def planning_items(ctx: Ctx, task: dict[str, Any]) -> str:
    points = await repo.check_points(ctx.session, list(task["item_ids"]))
    names = dict.fromkeys(p["item_name"] for p in points)
    return "；".join(names)


# ---- after publication: rectification and follow-up ------------------------------------------------------------


async def _require_team_or_reviewer(ctx: Ctx, result: dict[str, Any]) -> None:
    if _is_reviewer(ctx):
        return
    await _require_team(ctx, result["task_id"], result["uscc"])


async def recheck(
    ctx: Ctx, result_id: uuid.UUID, hazard_id: uuid.UUID, data: RecheckRequest
) -> dict[str, Any]:
    result = await _result(ctx, result_id, lock=True)
    await _require_team_or_reviewer(ctx, result)
    if result["status"] != "已公示":
        raise Conflict("检查结果公示后才能登记隐患复查", field="status")
    hazard = await repo.get_hazard(ctx.session, result_id, hazard_id)
    if hazard is None:
        raise NotFound("隐患不存在", field="hazard_id")
    if hazard["status"] == "已整改":
        raise Conflict("该隐患已整改完毕", field="status")
    if data.rechecked_on > dt.date.today() or (
        result["check_date"] and data.rechecked_on < result["check_date"]
    ):
        raise InvalidInput("复查日期应在检查日期与今天之间", field="rechecked_on")
    if data.rectified:
        status = "已整改"
    elif hazard["rectify_by"] is not None and data.rechecked_on > hazard["rectify_by"]:
        status = "逾期未整改"
    else:
        status = "整改中"
    await repo.recheck_hazard(
        ctx.session, hazard_id, status, data.rechecked_on, data.note.strip(), ctx.principal.name
    )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "hazard.recheck",
        "result",
        result_id,
        {"hazard_id": str(hazard_id), "status": status, "on": data.rechecked_on.isoformat()},
    )
    return await result_detail(ctx, result_id)


async def close_followup(
    ctx: Ctx, result_id: uuid.UUID, followup_id: uuid.UUID, data: CloseRequest
) -> dict[str, Any]:
    result = await _result(ctx, result_id, lock=True)
    await _require_team_or_reviewer(ctx, result)
    if result["status"] != "已公示":
        raise Conflict("检查结果公示后才能办结后续处置", field="status")
    followup = await repo.get_followup(ctx.session, result_id, followup_id)
    if followup is None:
        raise NotFound("后续处置不存在", field="followup_id")
    if followup["status"] == "已办结":
        raise Conflict("该后续处置已办结", field="status")
    if followup["action"] == "责令改正并跟踪":
        open_ = [h for h in await repo.hazards(ctx.session, result_id) if h["status"] != "已整改"]
        if open_:
            raise Conflict(f"还有 {len(open_)} 项隐患未整改复查完毕，不能办结", field="hazards")
    await repo.close_followup(ctx.session, followup_id, data.note.strip(), ctx.principal.name)
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "followup.close",
        "result",
        result_id,
        {"followup_id": str(followup_id), "action": followup["action"]},
    )
    return await result_detail(ctx, result_id)


# ---- attachments ----------------------------------------------------------------------------------------------


async def add_attachment(
    ctx: Ctx, result_id: uuid.UUID, filename: str, content: bytes, followup_id: uuid.UUID | None = None
) -> dict[str, Any]:
    result = await _result(ctx, result_id, lock=True)
    if followup_id is None:
        await _require_team(ctx, result["task_id"], result["uscc"])
        if result["status"] not in EDITABLE:
            raise Conflict(f"检查结果当前状态为“{result['status']}”，不能再添加附件", field="status")
    else:
        await _require_team_or_reviewer(ctx, result)
        if await repo.get_followup(ctx.session, result_id, followup_id) is None:
            raise NotFound("后续处置不存在", field="followup_id")
    limit = max_attachment_bytes()
    if not content:
        raise InvalidInput("附件为空", field="file")
    if len(content) > limit:
        raise TooLarge(f"附件过大：最大 {limit // (1024 * 1024)} MB", field="file")
    kind = sniff(content)
    if kind is None:
        raise UnsupportedMedia("只接受 JPEG、PNG、WebP 照片或 PDF 文书（按文件内容识别）", field="file")
    mime, ext = kind
    name = os.path.basename(filename or "").strip()[:120] or f"附件{ext}"
    attachment_id = uuid.uuid4()
    digest = hashlib.sha256(content).hexdigest()
    await repo.insert_attachment(
        ctx.session,
        {
            "id": attachment_id,
            "tenant_id": ctx.tenant_id,
            "result_id": result_id,
            "followup_id": followup_id,
            "filename": name,
            "content_type": mime,
            "size": len(content),
            "sha256": digest,
            "data": content,
            "uploaded_by": ctx.principal.name,
        },
    )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "result.attach",
        "result",
        result_id,
        {"attachment_id": str(attachment_id), "sha256": digest, "type": mime, "size": len(content)},
    )
    return {
        "id": attachment_id,
        "filename": name,
        "content_type": mime,
        "size": len(content),
        "sha256": digest,
    }


async def remove_attachment(ctx: Ctx, result_id: uuid.UUID, attachment_id: uuid.UUID) -> dict[str, Any]:
    """A photo or document of the result itself: by its team while the result is a draft or returned (after
    submission it is evidence under review, after publication part of the record). A follow-up document: by the
    team or a reviewer while that follow-up is still open."""
    result = await _result(ctx, result_id, lock=True)
    found = await repo.attachment_meta(ctx.session, result_id, attachment_id)
    if found is None:
        raise NotFound("附件不存在", field="attachment_id")
    if found["followup_id"] is None:
        await _require_team(ctx, result["task_id"], result["uscc"])
        if result["status"] not in EDITABLE:
            raise Conflict(f"检查结果当前状态为“{result['status']}”，不能删除附件", field="status")
    else:
        await _require_team_or_reviewer(ctx, result)
        if found["followup_status"] == "已办结":
            raise Conflict("该后续处置已办结，不能删除其附件", field="status")
    await repo.delete_attachment(ctx.session, attachment_id)
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "result.detach",
        "result",
        result_id,
        {
            "attachment_id": str(attachment_id),
            "filename": found["filename"],
            "sha256": found["sha256"],
            "type": found["content_type"],
            "size": found["size"],
        },
    )
    return {"id": attachment_id, "deleted": True}


def _removable(
    attachment: dict[str, Any],
    result: dict[str, Any] | None,
    on_team: bool,
    reviewer: bool,
    followups: list[dict[str, Any]],
) -> bool:
    """The same rule as ``remove_attachment``, for showing the delete buttons."""
    if result is None:
        return False
    if attachment["followup_id"] is None:
        return on_team and result["status"] in EDITABLE
    open_ = {f["id"] for f in followups if f["status"] != "已办结"}
    return (on_team or reviewer) and attachment["followup_id"] in open_


async def attachment(ctx: Ctx, attachment_id: uuid.UUID) -> dict[str, Any]:
    found = await repo.attachment_data(ctx.session, attachment_id)
    if found is None:
        raise NotFound("附件不存在", field="attachment_id")
    return found


# ---- joint tasks (部门联合抽查, 一企一表) -----------------------------------------------------------------------------
# Each participating department enters its own part for its own items (its own tenant rows, keyed by the lead's task
# id and the USCC); the team is in ``joint_team_members``; a part approved by its department waits as 已通过 until the
# lead publishes the unified record (services/federation/results.py).


async def _joint_task(ctx: Ctx, task: dict[str, Any]) -> dict[str, Any]:
    joint = await joint_parts().joint_task(ctx.session, task["id"])
    if joint is None:
        return task
    if joint["is_lead"]:
        return {**task, "joint": joint}
    if joint["my_status"] != "已接受":
        raise NotFound("抽查任务不存在", field="task_id")
    if not joint["my_item_ids"]:
        raise Conflict("本部门尚未在联合抽查计划中添加本部门的检查事项", field="item_ids")
    # A partner checks (and enters) its own items only; the lead's items are not its to answer.
    return {**task, "item_ids": list(joint["my_item_ids"]), "joint": joint}


async def _joint_members(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> list[dict[str, Any]]:
    return await joint_parts().my_members(ctx.session, task_id, uscc)


async def _object(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> dict[str, Any] | None:
    """The enterprise in the department's own registry (a joint team row carries no object of ours)."""
    return await repo.team_object(ctx.session, task_id, uscc) or await joint_parts().own_object(
        ctx.session, uscc
    )


async def _approve_joint_part(ctx: Ctx, result: dict[str, Any]) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    await repo.set_status(
        ctx.session,
        result["id"],
        "已通过",
        reviewed_by=str(ctx.principal.user_id),
        reviewed_by_name=ctx.principal.name,
        reviewed_at=now,
        return_reason=None,
    )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "result.approve_part",
        "result",
        result["id"],
        {"task_id": str(result["task_id"]), "uscc": result["uscc"]},
    )
    await notifications.create(
        ctx.session,
        ctx.tenant_id,
        "result",
        f"联合检查本部门部分已审核通过，待牵头部门统一公示：{result['object_name']}",
        link=f"/results/{result['id']}",
        recipient_id=result["entered_by"],
        dedupe_key=f"approve:{result['id']}",
    )
    return _out(await _result(ctx, result["id"]))
