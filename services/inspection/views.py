"""Reading results: the entry page of an enterprise, a result with its review state and history, the lists."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from services.disclosure import deadlines
from services.inspection import repository as repo
from services.inspection.attachments import max_attachment_bytes
from services.inspection.common import (
    EDITABLE,
    is_reviewer,
    load_result,
    load_task,
    result_out,
    team,
    team_object,
)
from services.inspection.schemas import (
    Answer,
    AttachmentRow,
    AttachmentView,
    CheckPointRow,
    EntryView,
    FollowUpRow,
    FollowUpStatus,
    PointView,
    ResultDetail,
    ResultOut,
    ResultRow,
    ResultStatus,
    TeamMember,
)
from shared import audit, workdays
from shared.context import Ctx


async def entry_view(ctx: Ctx, task_id: uuid.UUID, uscc: str) -> EntryView:
    task = await load_task(ctx, task_id)
    members = await team(ctx, task_id, uscc)
    obj = await team_object(ctx, task_id, uscc)
    result = await repo.result_for(ctx.session, task_id, uscc)
    answered = await repo.points(ctx.session, result.id) if result else {}
    points = [
        _point(p, answered.get(p.id))
        for p in await repo.check_points(ctx.session, list(task.item_ids), task.check_point_ids)
    ]
    end = workdays.month_end(task.end_month)
    entered_on = dt.date.today() if task.back_entry else None
    due = result.due_on if result else (await deadlines.deadline(ctx.session, end, entered_on)).due
    on_team = ctx.principal.user_id in {m.user_id for m in members}
    follow_ups = await repo.followups(ctx.session, result.id) if result else []
    attachments = await repo.attachments(ctx.session, result.id) if result else []
    reviewer = is_reviewer(ctx)
    return EntryView(
        task=task,
        object=obj,
        team=[TeamMember(name=m.name, licence_no=m.licence_no) for m in members],
        on_team=on_team,
        result=result_out(result) if result else None,
        points=points,
        due_on=due,
        hazards=await repo.hazards(ctx.session, result.id) if result else [],
        follow_ups=follow_ups,
        attachments=[
            AttachmentView(
                **msgspec.structs.asdict(a), removable=removable(a, result, on_team, reviewer, follow_ups)
            )
            for a in attachments
        ],
        # Photos and documents of the result itself are added by its team while it is editable.
        can_attach=result is not None and on_team and result.status in EDITABLE,
        attachment_max_bytes=max_attachment_bytes(),
    )


def _point(point: CheckPointRow, answer: Answer | None) -> PointView:
    return PointView(
        **msgspec.structs.asdict(point),
        outcome=answer.outcome if answer else None,
        note=answer.note if answer else "",
    )


def removable(
    attachment: AttachmentRow,
    result: ResultRow | None,
    on_team: bool,
    reviewer: bool,
    followups: list[FollowUpRow],
) -> bool:
    """The same rule as ``attachments.remove_attachment``, for showing the delete buttons."""
    if result is None:
        return False
    if attachment.followup_id is None:
        return on_team and result.status in EDITABLE
    open_ = {f.id for f in followups if f.status != FollowUpStatus.CLOSED}
    return (on_team or reviewer) and attachment.followup_id in open_


async def entry_of(ctx: Ctx, result_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    """The task and enterprise of a result: where its phone entry page is."""
    result = await load_result(ctx, result_id)
    return result.task_id, result.uscc


async def result_detail(ctx: Ctx, result_id: uuid.UUID) -> ResultDetail:
    result = await load_result(ctx, result_id)
    view = await entry_view(ctx, result.task_id, result.uscc)
    return ResultDetail(
        **msgspec.structs.asdict(view),
        can_review=is_reviewer(ctx) and result.status == ResultStatus.SUBMITTED,
        history=await audit.events(
            ctx.session, ctx.tenant_id, entity_type="result", entity_id=str(result_id)
        ),
    )


async def list_results(
    ctx: Ctx, task_id: uuid.UUID | None = None, status: str | None = None
) -> list[ResultOut]:
    today = dt.date.today()
    return [
        result_out(r, today) for r in await repo.list_results(ctx.session, task_id=task_id, status=status)
    ]
