"""Registry pages (``/registry/…``): server-rendered Chinese UI over the same service layer as the API."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import repository as repo
from services.registry import repository_tags as tags_repo
from services.registry import service
from services.registry.columns import KINDS
from services.registry.pages_io import batch_annotated, batch_page, io_pages
from services.registry.pages_support import (
    PAGE_SIZE,
    Context,
    active_param,
    page_links,
    page_number,
    read_form,
    registry_context,
    render,
    require_read,
    require_write,
)
from services.registry.schemas import InspectorFilter, ItemFilter, ObjectFilter
from services.registry.service import Row
from services.registry.validation import LABELS, Raw
from services.registry.web import parse_id
from shared.context import Principal
from shared.errors import DomainError, InvalidInput, NotFound, Unauthenticated
from shared.web.fielderrors import FormErrors
from shared.web.guards import current_principal, provide_db_session
from shared.web.params import PathId, PathUscc


@get("/")
async def index() -> Redirect:
    return Redirect("/registry/objects")


# ---- lists ------------------------------------------------------------------------------------------------------
@get("/objects")
async def objects_page(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
    require_read(request)
    q = request.query_params
    filters = ObjectFilter(
        q=q.get("q"),
        uscc=(q.get("uscc") or "").upper() or None,
        industry=q.get("industry"),
        tag=q.get("tag"),
        risk_class=q.get("risk_class"),
        status=q.get("status"),
        active=active_param(q.get("active")),
        department=q.get("department"),
    )
    page = page_number(q.get("page"))
    rows, total = await repo.list_objects(db, filters, page, PAGE_SIZE)
    return render(
        "objects.html",
        await registry_context(
            request, db, rows=rows, f=q, paging=page_links(request, page, total), tab="objects"
        ),
    )


@get("/inspectors")
async def inspectors_page(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
    require_read(request)
    q = request.query_params
    filters = InspectorFilter(
        q=q.get("q"),
        section=q.get("section"),
        specialty=q.get("specialty"),
        qualification=q.get("qualification"),
        licence=q.get("licence"),
        is_expert=True if q.get("is_expert") == "1" else None,
        is_team_leader=True if q.get("is_team_leader") == "1" else None,
        active=active_param(q.get("active")),
        department=q.get("department"),
    )
    page = page_number(q.get("page"))
    rows, total = await repo.list_inspectors(db, filters, page, PAGE_SIZE)
    return render(
        "inspectors.html",
        await registry_context(
            request,
            db,
            rows=rows,
            f=q,
            paging=page_links(request, page, total),
            sections=await repo.sections(db),
            tab="inspectors",
        ),
    )


@get("/items")
async def items_page(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
    require_read(request)
    q = request.query_params
    filters = ItemFilter(
        q=q.get("q"),
        category=q.get("category"),
        active=active_param(q.get("active")),
        department=q.get("department"),
    )
    page = page_number(q.get("page"))
    rows, total = await repo.list_items(db, filters, page, PAGE_SIZE)
    return render(
        "items.html",
        await registry_context(
            request, db, rows=rows, f=q, paging=page_links(request, page, total), tab="items"
        ),
    )


@get("/tags")
async def tags_page(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
    require_read(request)
    rows = await tags_repo.list_tags(db, None, None)
    return render("tags.html", await registry_context(request, db, rows=rows, tab="tags"))


# ---- forms ------------------------------------------------------------------------------------------------------
Saver = Callable[[AsyncSession, Principal, Raw, uuid.UUID | None], Awaitable[Row]]
GETTERS = service.GETTERS
SAVERS: dict[str, Saver] = {
    "objects": service.save_object,
    "inspectors": service.save_inspector,
    "items": service.save_item,
}
FORMS = {"objects": "object_form.html", "inspectors": "inspector_form.html", "items": "item_form.html"}


async def _form_context(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    kind: str,
    row: Row | Mapping[str, object] | None,
    **extra: Any,
) -> Context:
    """``row`` is the stored record, or what the user typed (a mapping) when the form comes back with an error."""
    context = await registry_context(request, db, row=row or {}, tab=kind, **extra)
    if kind == "inspectors":
        context["sections"] = await repo.sections(db)
        row_id = row.get("id") if isinstance(row, Mapping) else row.id if row else None
        if row_id:
            context["conflicts"] = await repo.conflicts(db, parse_id(str(row_id)))
    return context


def _form_pages(kind: str) -> list[Any]:
    @get(f"/{kind}/new", name=f"page-{kind}-new")
    async def new(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
        require_write(request)
        return render(FORMS[kind], await _form_context(request, db, kind, None))

    @get(f"/{kind}/{{row_id:str}}", name=f"page-{kind}-show")
    async def show(request: Request[Any, Any, Any], db: AsyncSession, row_id: PathId) -> Template:
        require_read(request)
        row = await GETTERS[kind](db, parse_id(row_id))
        if row is None:
            raise NotFound(service.NOT_FOUND[kind], field="id")
        return render(FORMS[kind], await _form_context(request, db, kind, row))

    @post(f"/{kind}", name=f"page-{kind}-create")
    async def create(request: Request[Any, Any, Any], db: AsyncSession) -> Template | Redirect:
        return await _save(request, db, kind, None)

    @post(f"/{kind}/{{row_id:str}}", name=f"page-{kind}-update")
    async def update(
        request: Request[Any, Any, Any], db: AsyncSession, row_id: PathId
    ) -> Template | Redirect:
        return await _save(request, db, kind, parse_id(row_id))

    @post(f"/{kind}/{{row_id:str}}/active", name=f"page-{kind}-active")
    async def toggle(request: Request[Any, Any, Any], db: AsyncSession, row_id: PathId) -> Redirect:
        require_write(request)
        form = await read_form(request)
        await service.set_active(
            db, current_principal(request), kind, parse_id(row_id), form.get("active") == "1"
        )
        return Redirect(f"/registry/{kind}/{row_id}")

    return [new, show, create, update, toggle]


def form_errors(exc: DomainError) -> FormErrors:
    """Each refused field beside its input (the label is beside it already, so only the reason is repeated)."""
    errors = FormErrors()
    for error in getattr(exc, "errors", None) or [exc]:
        label = LABELS.get(error.field or "", "")
        message = error.message.removeprefix(f"{label}：") if label else error.message
        errors.add(error.field, message)
    return errors


async def _save(
    request: Request[Any, Any, Any], db: AsyncSession, kind: str, row_id: uuid.UUID | None
) -> Template | Redirect:
    require_write(request)
    form = await read_form(request)
    form.pop("_csrf_token", None)
    try:
        async with db.begin_nested():
            row = await SAVERS[kind](db, current_principal(request), form, row_id)
    except (InvalidInput, DomainError) as exc:
        if isinstance(exc, NotFound):
            raise
        current = await GETTERS[kind](db, row_id) if row_id else None
        shown: dict[str, object] = {**(msgspec.structs.asdict(current) if current else {}), **form}
        if row_id:
            shown["id"] = row_id
        context = await _form_context(
            request, db, kind, shown, error=exc, errors=form_errors(exc), labels=LABELS
        )
        return render(FORMS[kind], context, status=exc.status_code)
    return Redirect(f"/registry/{kind}/{row.id}?saved=1")


@post("/inspectors/{row_id:str}/conflicts")
async def add_conflict(
    request: Request[Any, Any, Any], db: AsyncSession, row_id: PathId
) -> Template | Redirect:
    require_write(request)
    form = await read_form(request)
    target = parse_id(row_id)
    try:
        async with db.begin_nested():
            await service.declare_conflict(
                db, current_principal(request), target, form.get("uscc"), form.get("reason")
            )
    except InvalidInput as exc:
        row = await repo.get_inspector(db, target)
        return render(
            "inspector_form.html",
            await _form_context(request, db, "inspectors", row, conflict_error=exc),
            status=exc.status_code,
        )
    return Redirect(f"/registry/inspectors/{row_id}#conflicts")


@post("/inspectors/{row_id:str}/conflicts/{uscc:str}/withdraw")
async def remove_conflict(
    request: Request[Any, Any, Any], db: AsyncSession, row_id: PathId, uscc: PathUscc
) -> Redirect:
    require_write(request)
    await service.withdraw_conflict(db, current_principal(request), parse_id(row_id), uscc)
    return Redirect(f"/registry/inspectors/{row_id}#conflicts")


@post("/tags")
async def create_tag(request: Request[Any, Any, Any], db: AsyncSession) -> Template | Redirect:
    require_write(request)
    form = await read_form(request)
    try:
        async with db.begin_nested():
            await service.create_tag(db, current_principal(request), form)
    except InvalidInput as exc:
        return render(
            "tags.html",
            await registry_context(
                request, db, rows=await tags_repo.list_tags(db, None, None), tab="tags", error=exc, form=form
            ),
            status=exc.status_code,
        )
    except DomainError as exc:
        return render(
            "tags.html",
            await registry_context(
                request, db, rows=await tags_repo.list_tags(db, None, None), tab="tags", error=exc, form=form
            ),
            status=exc.status_code,
        )
    return Redirect("/registry/tags")


@post("/tags/{row_id:str}")
async def update_tag(
    request: Request[Any, Any, Any], db: AsyncSession, row_id: PathId
) -> Template | Redirect:
    require_write(request)
    form = await read_form(request)
    try:
        async with db.begin_nested():
            if "active" in form:
                await service.set_active(
                    db, current_principal(request), "tags", parse_id(row_id), form["active"] == "1"
                )
            else:
                await service.update_tag(
                    db,
                    current_principal(request),
                    parse_id(row_id),
                    {"name": form.get("name"), "description": form.get("description", "")},
                )
    except (InvalidInput, DomainError) as exc:
        if isinstance(exc, NotFound):
            raise
        return render(
            "tags.html",
            await registry_context(
                request, db, rows=await tags_repo.list_tags(db, None, None), tab="tags", error=exc
            ),
            status=exc.status_code,
        )
    return Redirect("/registry/tags")


def login_redirect(request: Request[Any, Any, Any], _: Unauthenticated) -> Redirect:
    return Redirect("/login?" + urlencode({"next": request.url.path}))


def error_page(request: Request[Any, Any, Any], exc: DomainError) -> Template:
    return Template(
        "registry/error.html",
        context={"user": request.scope.get("user"), "error": exc},
        status_code=exc.status_code,
    )


router = Router(
    path="/registry",
    route_handlers=[
        index,
        objects_page,
        inspectors_page,
        items_page,
        tags_page,
        create_tag,
        update_tag,
        add_conflict,
        remove_conflict,
        batch_page,
        batch_annotated,
        *[h for kind in KINDS for h in (*io_pages(kind), *_form_pages(kind))],
    ],
    dependencies={"db": Provide(provide_db_session)},
    exception_handlers={Unauthenticated: login_redirect, DomainError: error_page},
    include_in_schema=False,
)
