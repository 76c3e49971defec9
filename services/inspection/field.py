"""The inspector's field app (phone first): the worklist, the entry form, its JSON save and photo upload for the
page's script, and the service worker that keeps drafts on the phone while offline.

Everything lives under ``/field`` so that one service worker (``/field/sw.js``, scope ``/field``) covers it. The
server stays the source of truth: a draft kept on the phone is sent with the time of the server copy it started
from (``base``), and a server copy changed since is a conflict shown to the inspector, never overwritten silently.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.inspection import form as entry_form
from services.inspection import service
from services.inspection.form import OTHER, FormState, Values
from services.inspection.routes import form_id
from services.inspection.schemas import ACTIONS, CATEGORIES, AttachmentView, EntryView, ResultOut
from services.inspection.worklist import worklist
from shared.boundary import Input, Summary, Text40, Text200
from shared.context import Ctx
from shared.errors import DomainError, InvalidInput
from shared.web.pages import page_context
from shared.web.params import PathUscc

STATIC = Path(__file__).resolve().parents[2] / "shared" / "web" / "static" / "field"
ENTRY = "/field/entry/{task_id}/{uscc}"


class Outcome(msgspec.Struct):
    """What became of one 保存草稿 or 提交审核 from the form."""

    state: FormState
    errors: dict[str, str] = msgspec.field(default_factory=dict)
    saved: ResultOut | None = None
    submitted: bool = False
    conflict: bool = False  # the server copy changed since the form was loaded …
    server: ResultOut | None = None  # … and this is it


class FieldSave(Input):
    """The field app's save: the form's fields by name (as a posted form), and the server copy it started from."""

    values: dict[Text200, list[Summary]]
    base: Text40 = ""
    action: Text40 = "save"
    force: bool = False


def stamp(result: ResultOut | None) -> str:
    return result.updated_at.isoformat() if result else ""


async def _render(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    return Template(f"inspection/{template}", context={**await page_context(request), **context})


@get("/field")
async def field_home(request: Request[Any, Any, Any], ctx: Ctx) -> Template:
    return await _render(request, "field_home.html", ctx=ctx, work=await worklist(ctx))


@get("/field/sw.js")
async def service_worker() -> Response[bytes]:
    return Response(
        (STATIC / "sw.js").read_bytes(),
        media_type="text/javascript; charset=utf-8",
        headers={"Service-Worker-Allowed": "/field", "Cache-Control": "no-cache"},
    )


async def entry_template(
    request: Request[Any, Any, Any],
    ctx: Ctx,
    view: EntryView,
    state: FormState | None = None,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Template:
    state = state or entry_form.state_of_view(view)
    if not state.hazards or any(h.description for h in state.hazards[-1:]):
        state.hazards.append(entry_form.new_hazard())  # always one empty hazard to fill in
    # Photos taken at a check point or a hazard show there; the rest (and those of a hazard since removed) below.
    anchors = {str(p.id) for p in view.points} | {h.id for h in state.hazards}
    shots: dict[str, list[AttachmentView]] = {}
    general: list[AttachmentView] = []
    for a in view.attachments:
        anchor = str(a.check_point_id or a.hazard_id or "")
        if anchor in anchors:
            shots.setdefault(anchor, []).append(a)
        else:
            general.append(a)
    template = await _render(
        request,
        "entry.html",
        ctx=ctx,
        v=view,
        f=state,
        shots=shots,
        general=general,
        editable=view.on_team and (view.result is None or view.result.status in service.EDITABLE),
        today=dt.date.today().isoformat(),
        base=stamp(view.result),
        categories=CATEGORIES,
        actions=ACTIONS,
        **{"errors": {}, **extra},
    )
    template.status_code = status_code
    return template


async def save_entry(
    ctx: Ctx,
    db: AsyncSession,
    task_id: uuid.UUID,
    uscc: str,
    values: Values,
    action: str,
    base: str,
    force: bool,
) -> Outcome:
    """Save the draft (incomplete is fine) and, for 提交审核, submit it; a refused submission keeps the saved draft.
    Every refusal is placed beside its field; nothing typed is lost either way."""
    view = await service.entry_view(ctx, task_id, uscc)
    state = entry_form.state_of_values(values, view.points)
    if not force and base != stamp(view.result):
        return Outcome(state=state, conflict=True, server=view.result)
    draft, errors = entry_form.draft_of(state, view.points, view.follow_ups)
    if errors:  # the service's own checks of what could be read, so that every refusal is shown at once
        try:
            service.validate(draft, {p.id for p in view.points})
        except DomainError as exc:
            errors = entry_form.place(exc, state, draft, view.points) | errors
        return Outcome(state=state, errors=entry_form.in_page_order(errors, view.points, state))
    savepoint = await db.begin_nested()
    try:
        saved = await service.save_draft(ctx, task_id, uscc, draft)
    except DomainError as exc:
        await savepoint.rollback()
        placed = entry_form.place(exc, state, draft, view.points)
        return Outcome(state=state, errors=entry_form.in_page_order(placed, view.points, state))
    if action != "submit":
        return Outcome(state=state, saved=saved)
    savepoint = await db.begin_nested()
    try:
        submitted = await service.submit(ctx, saved.id)
    except DomainError as exc:
        await savepoint.rollback()
        hazards = [h.id for h in (await service.entry_view(ctx, task_id, uscc)).hazards]
        placed = entry_form.place(exc, state, draft, view.points, hazards)
        return Outcome(state=state, errors=entry_form.in_page_order(placed, view.points, state), saved=saved)
    return Outcome(state=state, saved=submitted, submitted=True)


@get("/field/entry/{task_id:uuid}/{uscc:str}")
async def entry_page(
    request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID, uscc: PathUscc, attached: int = 0
) -> Template:
    view = await service.entry_view(ctx, task_id, uscc)
    return await entry_template(request, ctx, view, attached=attached)


@post("/field/entry/{task_id:uuid}/{uscc:str}")
async def entry_post(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID, uscc: PathUscc
) -> Template | Redirect:
    """The form posted without the page's script (it saves by ``entry_save`` otherwise)."""
    form = await request.form()
    values = entry_form.values_of_form(form)
    action = str(form.get("action") or "save")
    base, force = str(form.get("base") or ""), form.get("force") == "1"
    outcome = await save_entry(ctx, db, task_id, uscc, values, action, base, force)
    if outcome.submitted and outcome.saved:
        return Redirect(f"/results/{outcome.saved.id}")
    view = await service.entry_view(ctx, task_id, uscc)
    return await entry_template(
        request,
        ctx,
        view,
        outcome.state,
        status_code=422 if outcome.errors else 409 if outcome.conflict else 200,
        errors=outcome.errors,
        conflict=outcome.conflict,
        server=outcome.server,
        saved=outcome.saved is not None,
        action=action,
        warning=outcome.saved.warning if outcome.saved and outcome.saved.warning else None,
    )


@post("/field/entry/{task_id:uuid}/{uscc:str}/save")
async def entry_save(
    ctx: Ctx, db: AsyncSession, task_id: uuid.UUID, uscc: PathUscc, data: FieldSave
) -> Response[dict[str, Any]]:
    """The page's script saves here (autosave, 保存草稿, 提交审核, and drafts kept while offline)."""
    outcome = await save_entry(ctx, db, task_id, uscc, data.values, data.action, data.base, data.force)
    body: dict[str, Any] = {"errors": outcome.errors, "submitted": outcome.submitted}
    if outcome.saved:
        body |= {
            "base": stamp(outcome.saved),
            "result_id": str(outcome.saved.id),
            "status": str(outcome.saved.status),
            "due_on": outcome.saved.due_on.isoformat(),
            "warning": outcome.saved.warning or None,
        }
    if outcome.submitted and outcome.saved:
        body["redirect"] = f"/results/{outcome.saved.id}"
    if outcome.conflict:
        server = outcome.server
        body["conflict"] = {
            "updated_at": server.updated_at.strftime("%Y-%m-%d %H:%M") if server else "",
            "by": server.entered_by_name if server else "",
            "status": str(server.status) if server else "",
        }
        return Response(body, status_code=409)
    return Response(body, status_code=422 if outcome.errors else 200)


@post("/field/photos/{result_id:uuid}", request_max_body_size=service.max_attachment_bytes() + 1024 * 1024)
async def photo_upload(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, result_id: uuid.UUID
) -> Response[dict[str, Any]]:
    """One photo (or PDF) from the page's camera buttons, without leaving the page; refusals as JSON in Chinese."""
    savepoint = await db.begin_nested()
    try:
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("请选择要上传的照片", field="file")
        added = await service.add_attachment(
            ctx,
            result_id,
            upload.filename,
            await upload.read(),
            check_point_id=form_id(form, "check_point_id", "检查要点编号"),
            hazard_id=form_id(form, "hazard_id", "隐患编号"),
        )
    except DomainError as exc:
        await savepoint.rollback()
        return Response({"error": exc.message, "field": exc.field or OTHER}, status_code=exc.status_code)
    return Response(
        {
            "id": str(added.id),
            "filename": added.filename,
            "content_type": added.content_type,
            "size": added.size,
            "url": f"/results/attachments/{added.id}",
        }
    )


handlers = [field_home, service_worker, entry_page, entry_post, entry_save, photo_upload]
