"""Photos and documents of a result (by its team while editable) and of a follow-up (while it is open).

The type of a file is told by its content (magic bytes), never by the client's declared type or file name."""

from __future__ import annotations

import hashlib
import os
import uuid

from services.inspection import repository as repo
from services.inspection.common import (
    EDITABLE,
    load_result,
    load_task,
    require_team,
    require_team_or_reviewer,
)
from services.inspection.schemas import (
    AttachmentAdded,
    AttachmentFile,
    AttachmentRemoved,
    FollowUpStatus,
    NewAttachment,
)
from shared import audit
from shared.context import Ctx
from shared.errors import Conflict, DomainError, InvalidInput, NotFound
from shared.settings import attachment_max_bytes


class UnsupportedMedia(DomainError):
    status_code = 415
    code = "unsupported_media_type"


class TooLarge(DomainError):
    status_code = 413
    code = "too_large"


def max_attachment_bytes() -> int:
    return attachment_max_bytes()


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


async def add_attachment(
    ctx: Ctx,
    result_id: uuid.UUID,
    filename: str,
    content: bytes,
    followup_id: uuid.UUID | None = None,
    *,
    check_point_id: uuid.UUID | None = None,
    hazard_id: uuid.UUID | None = None,
) -> AttachmentAdded:
    """``check_point_id`` / ``hazard_id``: the photo was taken at that check point or hazard of the result."""
    result = await load_result(ctx, result_id, lock=True)
    if followup_id is None:
        await require_team(ctx, result.task_id, result.uscc)
        if result.status not in EDITABLE:
            raise Conflict(f"检查结果当前状态为“{result.status}”，不能再添加附件", field="status")
        await _check_anchor(ctx, result.task_id, result_id, check_point_id, hazard_id)
    elif check_point_id or hazard_id:
        raise InvalidInput("后续处置的文书不属于某个检查要点或隐患", field="followup_id")
    else:
        await require_team_or_reviewer(ctx, result)
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
        NewAttachment(
            id=attachment_id,
            tenant_id=ctx.tenant_id,
            result_id=result_id,
            followup_id=followup_id,
            filename=name,
            content_type=mime,
            size=len(content),
            sha256=digest,
            data=content,
            uploaded_by=ctx.principal.name,
            check_point_id=check_point_id,
            hazard_id=hazard_id,
        ),
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
    return AttachmentAdded(
        id=attachment_id,
        filename=name,
        content_type=mime,
        size=len(content),
        sha256=digest,
        check_point_id=check_point_id,
        hazard_id=hazard_id,
    )


async def _check_anchor(
    ctx: Ctx,
    task_id: uuid.UUID,
    result_id: uuid.UUID,
    check_point_id: uuid.UUID | None,
    hazard_id: uuid.UUID | None,
) -> None:
    if check_point_id is not None and hazard_id is not None:
        raise InvalidInput("一张照片只能属于一个检查要点或一条隐患", field="hazard_id")
    if check_point_id is not None:
        task = await load_task(ctx, task_id)
        if check_point_id not in {p.id for p in await repo.check_points(ctx.session, list(task.item_ids))}:
            raise InvalidInput("该检查要点不属于本任务的检查事项", field="check_point_id")
    if hazard_id is not None and await repo.get_hazard(ctx.session, result_id, hazard_id) is None:
        raise InvalidInput("请先填写该隐患的描述并保存，再为它拍照", field="hazard_id")


async def remove_attachment(ctx: Ctx, result_id: uuid.UUID, attachment_id: uuid.UUID) -> AttachmentRemoved:
    """A photo or document of the result itself: by its team while the result is a draft or returned (after
    submission it is evidence under review, after publication part of the record). A follow-up document: by the
    team or a reviewer while that follow-up is still open."""
    result = await load_result(ctx, result_id, lock=True)
    found = await repo.attachment_meta(ctx.session, result_id, attachment_id)
    if found is None:
        raise NotFound("附件不存在", field="attachment_id")
    if found.followup_id is None:
        await require_team(ctx, result.task_id, result.uscc)
        if result.status not in EDITABLE:
            raise Conflict(f"检查结果当前状态为“{result.status}”，不能删除附件", field="status")
    else:
        await require_team_or_reviewer(ctx, result)
        if found.followup_status == FollowUpStatus.CLOSED:
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
            "filename": found.filename,
            "sha256": found.sha256,
            "type": found.content_type,
            "size": found.size,
        },
    )
    return AttachmentRemoved(id=attachment_id, deleted=True)


async def attachment(ctx: Ctx, attachment_id: uuid.UUID) -> AttachmentFile:
    found = await repo.attachment_data(ctx.session, attachment_id)
    if found is None:
        raise NotFound("附件不存在", field="attachment_id")
    return found
