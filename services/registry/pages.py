"""Registry pages (``/registry/…``): server-rendered Chinese UI over the same service layer as the API."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import exporter, imports, service
from services.registry import repository as repo
from services.registry import repository_imports as batches_repo
from services.registry import values as v
from services.registry.columns import COLUMNS, KIND_LABELS, KINDS, Kind
from services.registry.schemas import InspectorFilter, ItemFilter, ObjectFilter
from services.registry.service import Row
from services.registry.validation import Raw
from services.registry.web import (
    MAX_UPLOAD,
    READ_ROLES,
    export_response,
    parse_id,
    read_upload,
    template_response,
)
from shared.context import Principal
from shared.errors import DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated
from shared.web.guards import current_principal, provide_db_session
from shared.web.pages import page_context

PAGE_SIZE = 20
# A page's form as posted: one text per field, a list for the multi-valued ones (tags, specialties …).
Form = dict[str, str | list[str]]


async def _context(request: Request[Any, Any, Any], db: AsyncSession, **extra: Any) -> dict[str, Any]:
    """The Jinja context of a registry page (a template context is a dict of whatever the templates read)."""
    context = await page_context(request)
    user = context["user"]
    context.update(
        can_write=user is not None and user.has_any_role("dept-admin") and user.active_department is not None,
        is_overseer=user is not None and user.is_overseer and user.active_department is None,
        vocab={k: sorted(s) for k, s in (await repo.vocabulary(db)).items()},
        kind_labels=KIND_LABELS,
        values=v,
        **extra,
    )
    if context["is_overseer"]:
        context["county_departments"] = [
            d for d in await request.app.state.departments.in_region(user.region_code) if d.active
        ]
    return context


def _render(name: str, context: dict[str, Any], status: int = 200) -> Template:
    return Template(f"registry/{name}", context=context, status_code=status)


def _page_links(
    request: Request[Any, Any, Any], page: int, total: int
) -> dict[str, object]:  # for the template
    params = {k: val for k, val in request.query_params.items() if k != "page" and val}
    last = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)

    def link(n: int) -> str:
        return request.url.path + "?" + urlencode({**params, "page": n})

    return {
        "page": page,
        "last": last,
        "total": total,
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < last else None,
        "query": urlencode(params),
    }


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def _active(raw: str | None) -> bool | None:
    return {"true": True, "false": False, "all": None}.get(raw or "true", True)


def _require_write(request: Request[Any, Any, Any]) -> None:
    principal = current_principal(request)
    if not principal.has_any_role("dept-admin") or principal.active_department is None:
        raise Forbidden("只有部门管理员可以维护名录库")


def _require_read(request: Request[Any, Any, Any]) -> None:
    principal = current_principal(request)
    if not principal.has_any_role(*READ_ROLES):
        raise Forbidden("您的角色无权查看名录库")
    if principal.active_department is None and not principal.is_overseer:
        raise Forbidden("请先在页面右上角选择部门")


async def _form(request: Request[Any, Any, Any]) -> Form:
    form = await request.form()
    data: Form = {}
    for key in form:
        values: list[str] = form.getall(key)
        data[key] = (
            values
            if len(values) > 1 or key in ("tags", "specialties", "qualifications", "check_methods")
            else values[0]
        )
    return data


@get("/")
async def index() -> Redirect:
    return Redirect("/registry/objects")


# ---- lists ------------------------------------------------------------------------------------------------------
@get("/objects")
async def objects_page(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
    _require_read(request)
    q = request.query_params
    filters = ObjectFilter(
        q=q.get("q"),
        uscc=(q.get("uscc") or "").upper() or None,
        industry=q.get("industry"),
        tag=q.get("tag"),
        risk_class=q.get("risk_class"),
        status=q.get("status"),
        active=_active(q.get("active")),
        department=q.get("department"),
    )
    page = _page_number(q.get("page"))
    rows, total = await repo.list_objects(db, filters, page, PAGE_SIZE)
    return _render(
        "objects.html",
        await _context(request, db, rows=rows, f=q, paging=_page_links(request, page, total), tab="objects"),
    )


@get("/inspectors")
async def inspectors_page(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
    _require_read(request)
    q = request.query_params
    filters = InspectorFilter(
        q=q.get("q"),
        section=q.get("section"),
        specialty=q.get("specialty"),
        qualification=q.get("qualification"),
        licence=q.get("licence"),
        is_expert=True if q.get("is_expert") == "1" else None,
        is_team_leader=True if q.get("is_team_leader") == "1" else None,
        active=_active(q.get("active")),
        department=q.get("department"),
    )
    page = _page_number(q.get("page"))
    rows, total = await repo.list_inspectors(db, filters, page, PAGE_SIZE)
    return _render(
        "inspectors.html",
        await _context(
            request,
            db,
            rows=rows,
            f=q,
            paging=_page_links(request, page, total),
            sections=await repo.sections(db),
            tab="inspectors",
        ),
    )


@get("/items")
async def items_page(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
    _require_read(request)
    q = request.query_params
    filters = ItemFilter(
        q=q.get("q"),
        category=q.get("category"),
        active=_active(q.get("active")),
        department=q.get("department"),
    )
    page = _page_number(q.get("page"))
    rows, total = await repo.list_items(db, filters, page, PAGE_SIZE)
    return _render(
        "items.html",
        await _context(request, db, rows=rows, f=q, paging=_page_links(request, page, total), tab="items"),
    )


@get("/tags")
async def tags_page(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
    _require_read(request)
    rows = await repo.list_tags(db, None, None)
    return _render("tags.html", await _context(request, db, rows=rows, tab="tags"))


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
) -> dict[str, Any]:
    """``row`` is the stored record, or what the user typed (a mapping) when the form comes back with an error."""
    context = await _context(request, db, row=row or {}, tab=kind, **extra)
    if kind == "inspectors":
        context["sections"] = await repo.sections(db)
        row_id = row.get("id") if isinstance(row, Mapping) else row.id if row else None
        if row_id:
            context["conflicts"] = await repo.conflicts(db, parse_id(str(row_id)))
    return context


def _form_pages(kind: str) -> list[Any]:
    @get(f"/{kind}/new", name=f"page-{kind}-new")
    async def new(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
        _require_write(request)
        return _render(FORMS[kind], await _form_context(request, db, kind, None))

    @get(f"/{kind}/{{row_id:str}}", name=f"page-{kind}-show")
    async def show(request: Request[Any, Any, Any], db: AsyncSession, row_id: str) -> Template:
        _require_read(request)
        row = await GETTERS[kind](db, parse_id(row_id))
        if row is None:
            raise NotFound(service.NOT_FOUND[kind], field="id")
        return _render(FORMS[kind], await _form_context(request, db, kind, row))

    @post(f"/{kind}", name=f"page-{kind}-create")
    async def create(request: Request[Any, Any, Any], db: AsyncSession) -> Template | Redirect:
        return await _save(request, db, kind, None)

    @post(f"/{kind}/{{row_id:str}}", name=f"page-{kind}-update")
    async def update(request: Request[Any, Any, Any], db: AsyncSession, row_id: str) -> Template | Redirect:
        return await _save(request, db, kind, parse_id(row_id))

    @post(f"/{kind}/{{row_id:str}}/active", name=f"page-{kind}-active")
    async def toggle(request: Request[Any, Any, Any], db: AsyncSession, row_id: str) -> Redirect:
        _require_write(request)
        form = await _form(request)
        await service.set_active(
            db, current_principal(request), kind, parse_id(row_id), form.get("active") == "1"
        )
        return Redirect(f"/registry/{kind}/{row_id}")

    return [new, show, create, update, toggle]


async def _save(
    request: Request[Any, Any, Any], db: AsyncSession, kind: str, row_id: uuid.UUID | None
) -> Template | Redirect:
    _require_write(request)
    form = await _form(request)
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
        return _render(
            FORMS[kind], await _form_context(request, db, kind, shown, error=exc), status=exc.status_code
        )
    return Redirect(f"/registry/{kind}/{row.id}?saved=1")


@post("/inspectors/{row_id:str}/conflicts")
async def add_conflict(request: Request[Any, Any, Any], db: AsyncSession, row_id: str) -> Template | Redirect:
    _require_write(request)
    form = await _form(request)
    target = parse_id(row_id)
    try:
        async with db.begin_nested():
            await service.declare_conflict(
                db, current_principal(request), target, form.get("uscc"), form.get("reason")
            )
    except InvalidInput as exc:
        row = await repo.get_inspector(db, target)
        return _render(
            "inspector_form.html",
            await _form_context(request, db, "inspectors", row, conflict_error=exc),
            status=exc.status_code,
        )
    return Redirect(f"/registry/inspectors/{row_id}#conflicts")


@post("/inspectors/{row_id:str}/conflicts/{uscc:str}/withdraw")
async def remove_conflict(
    request: Request[Any, Any, Any], db: AsyncSession, row_id: str, uscc: str
) -> Redirect:
    _require_write(request)
    await service.withdraw_conflict(db, current_principal(request), parse_id(row_id), uscc)
    return Redirect(f"/registry/inspectors/{row_id}#conflicts")


@post("/tags")
async def create_tag(request: Request[Any, Any, Any], db: AsyncSession) -> Template | Redirect:
    _require_write(request)
    form = await _form(request)
    try:
        async with db.begin_nested():
            await service.create_tag(db, current_principal(request), form)
    except InvalidInput as exc:
        return _render(
            "tags.html",
            await _context(
                request, db, rows=await repo.list_tags(db, None, None), tab="tags", error=exc, form=form
            ),
            status=exc.status_code,
        )
    except DomainError as exc:
        return _render(
            "tags.html",
            await _context(
                request, db, rows=await repo.list_tags(db, None, None), tab="tags", error=exc, form=form
            ),
            status=exc.status_code,
        )
    return Redirect("/registry/tags")


@post("/tags/{row_id:str}")
async def update_tag(request: Request[Any, Any, Any], db: AsyncSession, row_id: str) -> Template | Redirect:
    _require_write(request)
    form = await _form(request)
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
        return _render(
            "tags.html",
            await _context(request, db, rows=await repo.list_tags(db, None, None), tab="tags", error=exc),
            status=exc.status_code,
        )
    return Redirect("/registry/tags")


# ---- import / export ----------------------------------------------------------------------------------------------
# Static paths per kind: "/objects/import" must not be taken for "/objects/{row_id}".
def _io_pages(kind: Kind) -> list[Any]:
    @get(f"/{kind}/import", name=f"page-{kind}-import")
    async def import_page(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
        _require_write(request)
        return _render("import.html", await _import_context(request, db, kind))

    @post(f"/{kind}/import", request_max_body_size=MAX_UPLOAD, name=f"page-{kind}-upload")
    async def import_upload(request: Request[Any, Any, Any], db: AsyncSession) -> Template | Redirect:
        _require_write(request)
        try:
            actor = service.actor_of(current_principal(request))
            outcome = await imports.start_import(db, actor, kind, await read_upload(request))
        except InvalidInput as exc:
            return _render(
                "import.html", await _import_context(request, db, kind, error=exc), status=exc.status_code
            )
        if outcome.status_code == 202:
            return Redirect(f"/registry/imports/{outcome.batch.id}")
        return _render(
            "import.html",
            await _import_context(request, db, kind, result=outcome.batch),
            status=outcome.status_code,
        )

    @get(f"/{kind}/export", name=f"page-{kind}-export")
    async def export_download(request: Request[Any, Any, Any]) -> Response[Any]:
        _require_read(request)
        q = request.query_params
        fmt = "csv" if q.get("format") == "csv" else "xlsx"
        query = {k: val for k, val in q.items() if val}
        return await export_response(
            request, kind, fmt, exporter.export_filter(kind, query, _active(q.get("active")))
        )

    @get(f"/{kind}/template", name=f"page-{kind}-template")
    async def template_download(request: Request[Any, Any, Any], db: AsyncSession) -> Response[bytes]:
        _require_read(request)
        fmt = "csv" if request.query_params.get("format") == "csv" else "xlsx"
        return template_response(await exporter.template(db, kind, fmt), kind, fmt)

    return [import_page, import_upload, export_download, template_download]


async def _import_context(
    request: Request[Any, Any, Any], db: AsyncSession, kind: Kind, **extra: Any
) -> dict[str, Any]:
    return await _context(
        request,
        db,
        kind=kind,
        columns=COLUMNS[kind],
        tab=kind,
        batches=await batches_repo.recent_batches(db, kind, 10),
        **extra,
    )


@get("/imports/{batch_id:str}")
async def batch_page(request: Request[Any, Any, Any], db: AsyncSession, batch_id: str) -> Template:
    _require_read(request)
    batch = await batches_repo.get_batch(db, parse_id(batch_id))
    if batch is None:
        raise NotFound("导入记录不存在", field="id")
    return _render("batch.html", await _context(request, db, batch=batch, tab=batch.kind))


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
        *[h for kind in KINDS for h in (*_io_pages(kind), *_form_pages(kind))],
    ],
    dependencies={"db": Provide(provide_db_session)},
    exception_handlers={Unauthenticated: login_redirect, DomainError: error_page},
    include_in_schema=False,
)
