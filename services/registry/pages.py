"""Registry pages (``/registry/…``): server-rendered Chinese UI over the same service layer as the API."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import exporter, jobs, routes, service
from services.registry import repository as repo
from services.registry import values as v
from services.registry.columns import COLUMNS, KIND_LABELS, KINDS, Kind
from shared.errors import DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated
from shared.web.guards import current_principal, provide_db_session
from shared.web.pages import page_context

PAGE_SIZE = 20


async def _context(request: Request[Any, Any, Any], db: AsyncSession, **extra: Any) -> dict[str, Any]:
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


def _page_links(request: Request[Any, Any, Any], page: int, total: int) -> dict[str, Any]:
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
    if not principal.has_any_role(*routes.READ_ROLES):
        raise Forbidden("您的角色无权查看名录库")
    if principal.active_department is None and not principal.is_overseer:
        raise Forbidden("请先在页面右上角选择部门")


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form:
        values = form.getall(key)
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
    filters = {
        "q": q.get("q"),
        "uscc": (q.get("uscc") or "").upper() or None,
        "industry": q.get("industry"),
        "tag": q.get("tag"),
        "risk_class": q.get("risk_class"),
        "status": q.get("status"),
        "active": _active(q.get("active")),
        "department": q.get("department"),
    }
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
    filters = {
        "q": q.get("q"),
        "section": q.get("section"),
        "specialty": q.get("specialty"),
        "qualification": q.get("qualification"),
        "licence": q.get("licence"),
        "is_expert": True if q.get("is_expert") == "1" else None,
        "is_team_leader": True if q.get("is_team_leader") == "1" else None,
        "active": _active(q.get("active")),
        "department": q.get("department"),
    }
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
    filters = {
        "q": q.get("q"),
        "category": q.get("category"),
        "active": _active(q.get("active")),
        "department": q.get("department"),
    }
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
GETTERS = {"objects": repo.get_object, "inspectors": repo.get_inspector, "items": repo.get_item}
SAVERS = {"objects": service.save_object, "inspectors": service.save_inspector, "items": service.save_item}
FORMS = {"objects": "object_form.html", "inspectors": "inspector_form.html", "items": "item_form.html"}


async def _form_context(
    request: Request[Any, Any, Any], db: AsyncSession, kind: str, row: dict[str, Any] | None, **extra: Any
) -> dict[str, Any]:
    context = await _context(request, db, row=row or {}, tab=kind, **extra)
    if kind == "inspectors":
        context["sections"] = await repo.sections(db)
        if row and row.get("id"):
            context["conflicts"] = await repo.conflicts(db, row["id"])
    return context


def _form_pages(kind: str) -> list[Any]:
    @get(f"/{kind}/new", name=f"page-{kind}-new")
    async def new(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
        _require_write(request)
        return _render(FORMS[kind], await _form_context(request, db, kind, None))

    @get(f"/{kind}/{{row_id:str}}", name=f"page-{kind}-show")
    async def show(request: Request[Any, Any, Any], db: AsyncSession, row_id: str) -> Template:
        _require_read(request)
        row = await GETTERS[kind](db, routes._uuid(row_id))
        if row is None:
            raise NotFound(service.NOT_FOUND[kind], field="id")
        return _render(FORMS[kind], await _form_context(request, db, kind, row))

    @post(f"/{kind}", name=f"page-{kind}-create")
    async def create(request: Request[Any, Any, Any], db: AsyncSession) -> Template | Redirect:
        return await _save(request, db, kind, None)

    @post(f"/{kind}/{{row_id:str}}", name=f"page-{kind}-update")
    async def update(request: Request[Any, Any, Any], db: AsyncSession, row_id: str) -> Template | Redirect:
        return await _save(request, db, kind, routes._uuid(row_id))

    @post(f"/{kind}/{{row_id:str}}/active", name=f"page-{kind}-active")
    async def toggle(request: Request[Any, Any, Any], db: AsyncSession, row_id: str) -> Redirect:
        _require_write(request)
        form = await _form(request)
        await service.set_active(
            db, current_principal(request), kind, routes._uuid(row_id), form.get("active") == "1"
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
        current = (await GETTERS[kind](db, row_id) if row_id else None) or {}
        shown = {**current, **form}
        if row_id:
            shown["id"] = row_id
        return _render(
            FORMS[kind], await _form_context(request, db, kind, shown, error=exc), status=exc.status_code
        )
    return Redirect(f"/registry/{kind}/{row['id']}?saved=1")


@post("/inspectors/{row_id:str}/conflicts")
async def add_conflict(request: Request[Any, Any, Any], db: AsyncSession, row_id: str) -> Template | Redirect:
    _require_write(request)
    form = await _form(request)
    target = routes._uuid(row_id)
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
    await service.withdraw_conflict(db, current_principal(request), routes._uuid(row_id), uscc)
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
                    db, current_principal(request), "tags", routes._uuid(row_id), form["active"] == "1"
                )
            else:
                await service.update_tag(
                    db,
                    current_principal(request),
                    routes._uuid(row_id),
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

    @post(f"/{kind}/import", request_max_body_size=routes.MAX_UPLOAD, name=f"page-{kind}-upload")
    async def import_upload(request: Request[Any, Any, Any], db: AsyncSession) -> Template | Redirect:
        _require_write(request)
        try:
            status, batch, _ = await routes.start_import(request, db, kind)
        except InvalidInput as exc:
            return _render(
                "import.html", await _import_context(request, db, kind, error=exc), status=exc.status_code
            )
        if status == 202 and batch:
            return Redirect(f"/registry/imports/{batch['id']}")
        return _render("import.html", await _import_context(request, db, kind, result=batch), status=status)

    @get(f"/{kind}/export", name=f"page-{kind}-export")
    async def export_download(request: Request[Any, Any, Any]) -> Response[Any]:
        _require_read(request)
        q = request.query_params
        fmt = "csv" if q.get("format") == "csv" else "xlsx"
        filters: dict[str, Any] = {k: val for k, val in q.items() if val}
        filters["active"] = _active(q.get("active"))
        return await routes.export_response(request, kind, fmt, filters)

    @get(f"/{kind}/template", name=f"page-{kind}-template")
    async def template_download(request: Request[Any, Any, Any], db: AsyncSession) -> Response[bytes]:
        _require_read(request)
        fmt = "csv" if request.query_params.get("format") == "csv" else "xlsx"
        return Response(
            await routes.template_bytes(db, kind, fmt),
            media_type=exporter.MEDIA[fmt],
            headers={"Content-Disposition": exporter.disposition(kind, fmt, template=True)},
        )

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
        batches=await jobs.recent_batches(db, kind, 10),
        **extra,
    )


@get("/imports/{batch_id:str}")
async def batch_page(request: Request[Any, Any, Any], db: AsyncSession, batch_id: str) -> Template:
    _require_read(request)
    batch = await jobs.get_batch(db, routes._uuid(batch_id))
    if batch is None:
        raise NotFound("导入记录不存在", field="id")
    return _render("batch.html", await _context(request, db, batch=batch, tab=batch["kind"]))


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
