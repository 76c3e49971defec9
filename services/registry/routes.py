"""Registry API (``/api/registry/…``): thin handlers over ``service``, ``repository``, ``imports`` and ``exporter``.

Roles: department admins write; planners, reviewers and inspectors read their department; the county overseer
reads every department of the county (RLS ``overseer_read``, read-only transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Parameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import exporter, imports, jobs, schemas, service
from services.registry import repository as repo
from services.registry.columns import Kind
from services.registry.importer_source import open_table
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.runtime import Runtime
from shared.web.guards import current_principal, provide_db_session, requires_department, scope_for_principal

READ_ROLES = ("dept-admin", "planner", "reviewer", "inspector", "county-overseer")
MAX_UPLOAD = 1 << 30
Active = Literal["true", "false", "all"]


def can_read(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal = current_principal(connection)
    if not principal.has_any_role(*READ_ROLES):
        raise Forbidden("您的角色无权查看名录库")
    if principal.active_department is None and not principal.is_overseer:
        raise Forbidden("请先选择部门（X-Department）", field="X-Department")


def can_write(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    principal = current_principal(connection)
    if not principal.has_any_role("dept-admin"):
        raise Forbidden("只有部门管理员可以维护名录库")
    requires_department(connection, handler)


def active_filter(active: str) -> bool | None:
    return {"true": True, "false": False}.get(active)


def _uuid(value: str, field: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("记录不存在", field=field) from None


# ---- tags -------------------------------------------------------------------------------------------------------
@get("/tags", guards=[can_read])
async def list_tags(
    db: AsyncSession, category: str | None = None, active: Active = "all"
) -> list[schemas.TagOut]:
    return [schemas.TagOut(**r) for r in await repo.list_tags(db, category, active_filter(active))]


@post("/tags", guards=[can_write], status_code=201)
async def create_tag(
    request: Request[Any, Any, Any], db: AsyncSession, data: schemas.TagIn
) -> schemas.TagOut:
    return schemas.TagOut(**await service.create_tag(db, current_principal(request), data))


@patch("/tags/{tag_id:str}", guards=[can_write])
async def update_tag(
    request: Request[Any, Any, Any], db: AsyncSession, tag_id: str, data: schemas.TagPatch
) -> schemas.TagOut:
    return schemas.TagOut(**await service.update_tag(db, current_principal(request), _uuid(tag_id), data))


# ---- objects ----------------------------------------------------------------------------------------------------
@get("/objects", guards=[can_read])
async def list_objects(
    db: AsyncSession,
    q: str | None = None,
    uscc: str | None = None,
    industry: str | None = None,
    tag: str | None = None,
    risk_class: str | None = None,
    status: str | None = None,
    active: Active = "true",
    department: str | None = None,
    page: int = Parameter(default=1, ge=1),
    page_size: int = Parameter(default=50, ge=1, le=500),
) -> schemas.ObjectPage:
    filters = {
        "q": q,
        "uscc": uscc.upper() if uscc else None,
        "industry": industry,
        "tag": tag,
        "risk_class": risk_class,
        "status": status,
        "active": active_filter(active),
        "department": department,
    }
    rows, total = await repo.list_objects(db, filters, page, page_size)
    return schemas.ObjectPage([schemas.ObjectOut(**r) for r in rows], total, page, page_size)


@get("/objects/{object_id:str}", guards=[can_read])
async def get_object(db: AsyncSession, object_id: str) -> schemas.ObjectOut:
    row = await repo.get_object(db, _uuid(object_id))
    if row is None:
        raise NotFound(service.NOT_FOUND["objects"], field="id")
    return schemas.ObjectOut(**row)


@post("/objects", guards=[can_write], status_code=201)
async def create_object(
    request: Request[Any, Any, Any], db: AsyncSession, data: schemas.ObjectIn
) -> schemas.ObjectOut:
    return schemas.ObjectOut(**await service.save_object(db, current_principal(request), data))


@patch("/objects/{object_id:str}", guards=[can_write])
async def update_object(
    request: Request[Any, Any, Any], db: AsyncSession, object_id: str, data: schemas.ObjectPatch
) -> schemas.ObjectOut:
    return schemas.ObjectOut(
        **await service.save_object(db, current_principal(request), data, _uuid(object_id))
    )


# ---- inspectors -------------------------------------------------------------------------------------------------
def _inspector(row: dict[str, Any], conflicts: list[dict[str, Any]] | None = None) -> schemas.InspectorOut:
    return schemas.InspectorOut(**row, conflicts=[schemas.ConflictOut(**c) for c in conflicts or []])


@get("/inspectors", guards=[can_read])
async def list_inspectors(
    db: AsyncSession,
    q: str | None = None,
    section: str | None = None,
    specialty: str | None = None,
    qualification: str | None = None,
    is_expert: bool | None = None,
    is_team_leader: bool | None = None,
    licence: Literal["valid", "expiring", "expired"] | None = None,
    active: Active = "true",
    department: str | None = None,
    page: int = Parameter(default=1, ge=1),
    page_size: int = Parameter(default=50, ge=1, le=500),
) -> schemas.InspectorPage:
    filters = {
        "q": q,
        "section": section,
        "specialty": specialty,
        "qualification": qualification,
        "is_expert": is_expert,
        "is_team_leader": is_team_leader,
        "licence": licence,
        "active": active_filter(active),
        "department": department,
    }
    rows, total = await repo.list_inspectors(db, filters, page, page_size)
    return schemas.InspectorPage([_inspector(r) for r in rows], total, page, page_size)


@get("/inspectors/{inspector_id:str}", guards=[can_read])
async def get_inspector(db: AsyncSession, inspector_id: str) -> schemas.InspectorOut:
    row = await repo.get_inspector(db, _uuid(inspector_id))
    if row is None:
        raise NotFound(service.NOT_FOUND["inspectors"], field="id")
    return _inspector(row, await repo.conflicts(db, row["id"]))


@post("/inspectors", guards=[can_write], status_code=201)
async def create_inspector(
    request: Request[Any, Any, Any], db: AsyncSession, data: schemas.InspectorIn
) -> schemas.InspectorOut:
    return _inspector(await service.save_inspector(db, current_principal(request), data))


@patch("/inspectors/{inspector_id:str}", guards=[can_write])
async def update_inspector(
    request: Request[Any, Any, Any], db: AsyncSession, inspector_id: str, data: schemas.InspectorPatch
) -> schemas.InspectorOut:
    row = await service.save_inspector(db, current_principal(request), data, _uuid(inspector_id))
    return _inspector(row, await repo.conflicts(db, row["id"]))


@post("/inspectors/{inspector_id:str}/conflicts", guards=[can_write], status_code=201)
async def declare_conflict(
    request: Request[Any, Any, Any], db: AsyncSession, inspector_id: str, data: schemas.ConflictIn
) -> schemas.InspectorOut:
    target = _uuid(inspector_id)
    await service.declare_conflict(db, current_principal(request), target, data.uscc, data.reason)
    row = await repo.get_inspector(db, target) or {}
    return _inspector(row, await repo.conflicts(db, target))


@delete("/inspectors/{inspector_id:str}/conflicts/{uscc:str}", guards=[can_write], status_code=200)
async def withdraw_conflict(
    request: Request[Any, Any, Any], db: AsyncSession, inspector_id: str, uscc: str
) -> schemas.InspectorOut:
    target = _uuid(inspector_id)
    await service.withdraw_conflict(db, current_principal(request), target, uscc.upper())
    row = await repo.get_inspector(db, target) or {}
    return _inspector(row, await repo.conflicts(db, target))


# ---- items ------------------------------------------------------------------------------------------------------
@get("/items", guards=[can_read])
async def list_items(
    db: AsyncSession,
    q: str | None = None,
    category: str | None = None,
    active: Active = "true",
    department: str | None = None,
    page: int = Parameter(default=1, ge=1),
    page_size: int = Parameter(default=50, ge=1, le=500),
) -> schemas.ItemPage:
    filters = {"q": q, "category": category, "active": active_filter(active), "department": department}
    rows, total = await repo.list_items(db, filters, page, page_size)
    return schemas.ItemPage([schemas.ItemOut(**r) for r in rows], total, page, page_size)


@get("/items/{item_id:str}", guards=[can_read])
async def get_item(db: AsyncSession, item_id: str) -> schemas.ItemOut:
    row = await repo.get_item(db, _uuid(item_id))
    if row is None:
        raise NotFound(service.NOT_FOUND["items"], field="id")
    return schemas.ItemOut(**row)


@post("/items", guards=[can_write], status_code=201)
async def create_item(
    request: Request[Any, Any, Any], db: AsyncSession, data: schemas.ItemIn
) -> schemas.ItemOut:
    return schemas.ItemOut(**await service.save_item(db, current_principal(request), data))


@patch("/items/{item_id:str}", guards=[can_write])
async def update_item(
    request: Request[Any, Any, Any], db: AsyncSession, item_id: str, data: schemas.ItemPatch
) -> schemas.ItemOut:
    return schemas.ItemOut(**await service.save_item(db, current_principal(request), data, _uuid(item_id)))


# ---- activation, import, export, template (per kind) ----------------------------------------------------------------
OUT = {"objects": schemas.ObjectOut, "items": schemas.ItemOut, "tags": schemas.TagOut}


def _activation(kind: str, active: bool) -> Any:
    verb = "activate" if active else "deactivate"

    @post(f"/{kind}/{{row_id:str}}/{verb}", guards=[can_write], status_code=200, name=f"{kind}-{verb}")
    async def handler(request: Request[Any, Any, Any], db: AsyncSession, row_id: str) -> Any:
        row = await service.set_active(db, current_principal(request), kind, _uuid(row_id), active)
        return _inspector(row) if kind == "inspectors" else OUT[kind](**row)

    return handler


async def read_upload(request: Request[Any, Any, Any]) -> tuple[UploadFile, int, bool]:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("请选择要导入的文件（.xlsx 或 .csv）", field="file")
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    replace = str(form.get("replace", "")).lower() in ("1", "true", "on", "yes")
    return upload, size, replace


async def start_import(
    request: Request[Any, Any, Any], db: AsyncSession, kind: Kind
) -> tuple[int, dict[str, Any] | None, imports.ImportRejected | None]:
    """Small files are imported now (200, or 422 with the bad rows); large ones are queued (202)."""
    principal = current_principal(request)
    actor = service.actor_of(principal)
    upload, size, replace = await read_upload(request)
    tenant = await repo.scope_tenant(db)
    if tenant is None:
        raise Forbidden("请先选择部门（X-Department）", field="X-Department")
    open_table(
        kind, upload.file, size
    )  # refuses a non-spreadsheet or a wrong header before anything is stored
    if size > imports.JOB_THRESHOLD_BYTES:
        batch_id = await jobs.enqueue_import(
            db, tenant, actor, kind, upload.file, size, upload.filename, replace
        )
        return 202, await jobs.get_batch(db, batch_id), None
    batch_id = await jobs.create_batch(db, actor, kind, upload.filename, size, replace, "running")
    rejected = None
    report = None
    try:
        async with db.begin_nested():
            report = await imports.import_file(
                db,
                tenant,
                actor,
                kind,
                upload.file,
                size,
                filename=upload.filename,
                replace=replace,
                batch_id=batch_id,
            )
    except imports.ImportRejected as exc:
        rejected, report = exc, exc.report
    except InvalidInput as exc:
        await jobs.finish_batch(db, batch_id, None, exc.message)
        raise
    await jobs.finish_batch(db, batch_id, report)
    return (422 if rejected else 200), await jobs.get_batch(db, batch_id), rejected


def _import_handler(kind: Kind) -> Any:
    @post(
        f"/{kind}/imports",
        guards=[can_write],
        request_max_body_size=MAX_UPLOAD,
        name=f"{kind}-import",
        status_code=200,
    )
    async def handler(request: Request[Any, Any, Any], db: AsyncSession) -> Response[Any]:
        status, batch, rejected = await start_import(request, db, kind)
        if rejected is not None:
            body = rejected.body()
            body["error"]["batch_id"] = str(batch["id"]) if batch else None
            return Response(body, status_code=422)
        return Response(schemas.ImportBatchOut(**_batch(batch or {})), status_code=status)

    return handler


def _batch(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "errors": [schemas.RowErrorOut(**e) for e in row.get("errors") or []]}


def _export_handler(kind: Kind) -> Any:
    @get(f"/{kind}/export", guards=[can_read], name=f"{kind}-export")
    async def handler(
        request: Request[Any, Any, Any], format: Literal["csv", "xlsx"] = "xlsx", active: Active = "true"
    ) -> Response[Any]:
        filters = dict(request.query_params)
        filters["active"] = active_filter(active)
        return await export_response(request, kind, format, filters)

    return handler


async def export_response(
    request: Request[Any, Any, Any], kind: Kind, fmt: str, filters: dict[str, Any]
) -> Response[Any]:
    """Streams from its own read transaction (the response body outlives the handler's unit of work)."""
    runtime: Runtime = request.app.state.runtime
    principal = current_principal(request)
    scope = await scope_for_principal(principal, request.app.state.departments)
    headers = {"Content-Disposition": exporter.disposition(kind, fmt)}
    if fmt == "csv":

        async def body() -> AsyncIterator[bytes]:
            async with runtime.unit_of_work(scope) as session:
                async for chunk in exporter.csv_chunks(session, kind, filters):
                    yield chunk

        return Stream(body(), media_type=exporter.MEDIA["csv"], headers=headers)
    async with runtime.unit_of_work(scope) as session:
        file = await exporter.xlsx_file(session, kind, filters)

    async def xlsx_body() -> AsyncIterator[bytes]:
        with file:
            while chunk := file.read(1 << 20):
                yield chunk

    return Stream(xlsx_body(), media_type=exporter.MEDIA["xlsx"], headers=headers)


async def template_bytes(db: AsyncSession, kind: Kind, fmt: str) -> bytes:
    if fmt == "csv":
        return exporter.csv_template(kind)
    sections = [s["name"] for s in await repo.sections(db)]
    return exporter.xlsx_template(kind, await repo.vocabulary(db), sections)


def _template_handler(kind: Kind) -> Any:
    @get(f"/{kind}/template", guards=[can_read], name=f"{kind}-template")
    async def handler(db: AsyncSession, format: Literal["csv", "xlsx"] = "xlsx") -> Response[bytes]:
        return Response(
            await template_bytes(db, kind, format),
            media_type=exporter.MEDIA[format],
            headers={"Content-Disposition": exporter.disposition(kind, format, template=True)},
        )

    return handler


@get("/imports", guards=[can_read])
async def list_imports(db: AsyncSession, kind: Kind | None = None) -> list[schemas.ImportBatchOut]:
    return [schemas.ImportBatchOut(**_batch(r)) for r in await jobs.recent_batches(db, kind)]


@get("/imports/{batch_id:str}", guards=[can_read])
async def get_import(db: AsyncSession, batch_id: str) -> schemas.ImportBatchOut:
    row = await jobs.get_batch(db, _uuid(batch_id))
    if row is None:
        raise NotFound("导入记录不存在", field="id")
    return schemas.ImportBatchOut(**_batch(row))


KIND_HANDLERS = [
    handler
    for kind in ("objects", "inspectors", "items")
    for handler in (_import_handler(kind), _export_handler(kind), _template_handler(kind))
] + [_activation(kind, flag) for kind in ("objects", "inspectors", "items", "tags") for flag in (True, False)]

router = Router(
    path="/api/registry",
    route_handlers=[
        list_tags,
        create_tag,
        update_tag,
        list_objects,
        get_object,
        create_object,
        update_object,
        list_inspectors,
        get_inspector,
        create_inspector,
        update_inspector,
        declare_conflict,
        withdraw_conflict,
        list_items,
        get_item,
        create_item,
        update_item,
        list_imports,
        get_import,
        *KIND_HANDLERS,
    ],
    dependencies={"db": Provide(provide_db_session)},
    tags=["registry"],
)
