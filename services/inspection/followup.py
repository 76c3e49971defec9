"""After publication: rechecks of hazards (整改复查) and closing follow-ups (办结), by the team or a reviewer."""

from __future__ import annotations

import datetime as dt
import uuid

from services.inspection import repository as repo
from services.inspection.common import load_result, require_team_or_reviewer
from services.inspection.schemas import (
    CloseRequest,
    FollowUpStatus,
    HazardStatus,
    RecheckRequest,
    ResultDetail,
    ResultStatus,
)
from services.inspection.views import result_detail
from shared import audit
from shared.context import Ctx
from shared.errors import Conflict, InvalidInput, NotFound

RECTIFY = "责令改正并跟踪"  # the follow-up that closes only once every hazard is rectified


async def recheck(ctx: Ctx, result_id: uuid.UUID, hazard_id: uuid.UUID, data: RecheckRequest) -> ResultDetail:
    result = await load_result(ctx, result_id, lock=True)
    await require_team_or_reviewer(ctx, result)
    if result.status != ResultStatus.PUBLISHED:
        raise Conflict("检查结果公示后才能登记隐患复查", field="status")
    hazard = await repo.get_hazard(ctx.session, result_id, hazard_id)
    if hazard is None:
        raise NotFound("隐患不存在", field="hazard_id")
    if hazard.status == HazardStatus.RECTIFIED:
        raise Conflict("该隐患已整改完毕", field="status")
    if data.rechecked_on > dt.date.today() or (result.check_date and data.rechecked_on < result.check_date):
        raise InvalidInput("复查日期应在检查日期与今天之间", field="rechecked_on")
    if data.rectified:
        status = HazardStatus.RECTIFIED
    elif hazard.rectify_by is not None and data.rechecked_on > hazard.rectify_by:
        status = HazardStatus.OVERDUE
    else:
        status = HazardStatus.OPEN
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
        {"hazard_id": str(hazard_id), "status": str(status), "on": data.rechecked_on.isoformat()},
    )
    return await result_detail(ctx, result_id)


async def close_followup(
    ctx: Ctx, result_id: uuid.UUID, followup_id: uuid.UUID, data: CloseRequest
) -> ResultDetail:
    result = await load_result(ctx, result_id, lock=True)
    await require_team_or_reviewer(ctx, result)
    if result.status != ResultStatus.PUBLISHED:
        raise Conflict("检查结果公示后才能办结后续处置", field="status")
    followup = await repo.get_followup(ctx.session, result_id, followup_id)
    if followup is None:
        raise NotFound("后续处置不存在", field="followup_id")
    if followup.status == FollowUpStatus.CLOSED:
        raise Conflict("该后续处置已办结", field="status")
    if followup.action == RECTIFY:
        open_ = [h for h in await repo.hazards(ctx.session, result_id) if h.status != HazardStatus.RECTIFIED]
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
        {"followup_id": str(followup_id), "action": followup.action},
    )
    return await result_detail(ctx, result_id)
