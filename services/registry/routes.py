"""Registry API (``/api/registry/…``): thin handlers over ``service``, ``repository``, ``imports`` and ``exporter``.

Roles: department admins write; planners, reviewers and inspectors read their department; the county overseer
reads every department of the county (RLS ``overseer_read``, read-only transaction).
"""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import exporter, imports, schemas, service
from services.registry import repository as repo
from services.registry import repository_imports as batches_repo
from services.registry import repository_tags as tags_repo
from services.registry.columns import Kind
from services.registry.web import (
    MAX_UPLOAD,
    READ_ROLES,
    annotated_response,
    export_response,
    parse_id,
    read_upload,
    template_response,
)
from shared.errors import Forbidden, NotFound
from shared.web.guards import current_principal, provide_db_session, requires_department
from shared.web.openapi import file_response
from shared.web.params import PageNumber, PageSize, PathId, PathUscc, QueryText

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


# ---- tags -------------------------------------------------------------------------------------------------------
@get("/tags", guards=[can_read])
async def list_tags(
    db: AsyncSession, category: QueryText = None, active: Active = "all"
) -> list[schemas.TagOut]:
    return await tags_repo.list_tags(db, category, active_filter(active))


@post("/tags", guards=[can_write], status_code=201)
async def create_tag(
    request: Request[Any, Any, Any], db: AsyncSession, data: schemas.TagIn
) -> schemas.TagOut:
    return await service.create_tag(db, current_principal(request), data)


@patch("/tags/{tag_id:str}", guards=[can_write])
async def update_tag(
    request: Request[Any, Any, Any], db: AsyncSession, tag_id: PathId, data: schemas.TagPatch
) -> schemas.TagOut:
    return await service.update_tag(db, current_principal(request), parse_id(tag_id), data)


# ---- objects ----------------------------------------------------------------------------------------------------
@get("/objects", guards=[can_read])
async def list_objects(
    db: AsyncSession,
    q: QueryText = None,
    uscc: QueryText = None,
    industry: QueryText = None,
    tag: QueryText = None,
    risk_class: QueryText = None,
    status: QueryText = None,
    active: Active = "true",
    department: QueryText = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> schemas.ObjectPage:
    filters = schemas.ObjectFilter(
        q=q,
        uscc=uscc.upper() if uscc else None,
        industry=industry,
        tag=tag,
        risk_class=risk_class,
        status=status,
        active=active_filter(active),
        department=department,
    )
    rows, total = await repo.list_objects(db, filters, page, page_size)
    return schemas.ObjectPage(rows, total, page, page_size)


@get("/objects/{object_id:str}", guards=[can_read])
async def get_object(db: AsyncSession, object_id: PathId) -> schemas.ObjectOut:
    return await service.get_object(db, parse_id(object_id))


@post("/objects", guards=[can_write], status_code=201)
async def create_object(
    request: Request[Any, Any, Any], db: AsyncSession, data: schemas.ObjectIn
) -> schemas.ObjectOut:
    return await service.save_object(db, current_principal(request), data)


@patch("/objects/{object_id:str}", guards=[can_write])
async def update_object(
    request: Request[Any, Any, Any], db: AsyncSession, object_id: PathId, data: schemas.ObjectPatch
) -> schemas.ObjectOut:
    return await service.save_object(db, current_principal(request), data, parse_id(object_id))


# ---- inspectors -------------------------------------------------------------------------------------------------
@get("/inspectors", guards=[can_read])
async def list_inspectors(
    db: AsyncSession,
    q: QueryText = None,
    section: QueryText = None,
    specialty: QueryText = None,
    qualification: QueryText = None,
    is_expert: bool | None = None,
    is_team_leader: bool | None = None,
    licence: Literal["valid", "expiring", "expired"] | None = None,
    active: Active = "true",
    department: QueryText = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> schemas.InspectorPage:
    filters = schemas.InspectorFilter(
        q=q,
        section=section,
        specialty=specialty,
        qualification=qualification,
        is_expert=is_expert,
        is_team_leader=is_team_leader,
        licence=licence,
        active=active_filter(active),
        department=department,
    )
    rows, total = await repo.list_inspectors(db, filters, page, page_size)
    return schemas.InspectorPage(rows, total, page, page_size)


@get("/inspectors/{inspector_id:str}", guards=[can_read])
async def get_inspector(db: AsyncSession, inspector_id: PathId) -> schemas.InspectorOut:
    return await service.inspector_detail(db, parse_id(inspector_id))


@post("/inspectors", guards=[can_write], status_code=201)
async def create_inspector(
    request: Request[Any, Any, Any], db: AsyncSession, data: schemas.InspectorIn
) -> schemas.InspectorOut:
    return await service.save_inspector(db, current_principal(request), data)


@patch("/inspectors/{inspector_id:str}", guards=[can_write])
async def update_inspector(
    request: Request[Any, Any, Any], db: AsyncSession, inspector_id: PathId, data: schemas.InspectorPatch
) -> schemas.InspectorOut:
    row = await service.save_inspector(db, current_principal(request), data, parse_id(inspector_id))
    return await service.inspector_detail(db, row.id)


@post("/inspectors/{inspector_id:str}/conflicts", guards=[can_write], status_code=201)
async def declare_conflict(
    request: Request[Any, Any, Any], db: AsyncSession, inspector_id: PathId, data: schemas.ConflictIn
) -> schemas.InspectorOut:
    target = parse_id(inspector_id)
    await service.declare_conflict(db, current_principal(request), target, data.uscc, data.reason)
    return await service.inspector_detail(db, target)


@delete("/inspectors/{inspector_id:str}/conflicts/{uscc:str}", guards=[can_write], status_code=200)
async def withdraw_conflict(
    request: Request[Any, Any, Any], db: AsyncSession, inspector_id: PathId, uscc: PathUscc
) -> schemas.InspectorOut:
    target = parse_id(inspector_id)
    await service.withdraw_conflict(db, current_principal(request), target, uscc.upper())
    return await service.inspector_detail(db, target)


# ---- items ------------------------------------------------------------------------------------------------------
@get("/items", guards=[can_read])
async def list_items(
    db: AsyncSession,
    q: QueryText = None,
    category: QueryText = None,
    active: Active = "true",
    department: QueryText = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> schemas.ItemPage:
    filters = schemas.ItemFilter(q=q, category=category, active=active_filter(active), department=department)
    rows, total = await repo.list_items(db, filters, page, page_size)
    return schemas.ItemPage(rows, total, page, page_size)


@get("/items/{item_id:str}", guards=[can_read])
async def get_item(db: AsyncSession, item_id: PathId) -> schemas.ItemOut:
    return await service.get_item(db, parse_id(item_id))


@post("/items", guards=[can_write], status_code=201)
async def create_item(
    request: Request[Any, Any, Any], db: AsyncSession, data: schemas.ItemIn
) -> schemas.ItemOut:
    return await service.save_item(db, current_principal(request), data)


@patch("/items/{item_id:str}", guards=[can_write])
async def update_item(
    request: Request[Any, Any, Any], db: AsyncSession, item_id: PathId, data: schemas.ItemPatch
) -> schemas.ItemOut:
    return await service.save_item(db, current_principal(request), data, parse_id(item_id))


# ---- activation, import, export, template (per kind) ----------------------------------------------------------------
OUT: dict[str, type[service.Row]] = {
    "objects": schemas.ObjectOut,
    "inspectors": schemas.InspectorOut,
    "items": schemas.ItemOut,
    "tags": schemas.TagOut,
}


def _activation(kind: str, active: bool) -> Any:
    verb = "activate" if active else "deactivate"

    async def handler(request: Request[Any, Any, Any], db: AsyncSession, row_id: PathId) -> service.Row:
        return await service.set_active(db, current_principal(request), kind, parse_id(row_id), active)

    # Each kind's handler documents its own response schema in OpenAPI (not the union of the four).
    handler.__annotations__["return"] = OUT[kind]
    return post(f"/{kind}/{{row_id:str}}/{verb}", guards=[can_write], status_code=200, name=f"{kind}-{verb}")(
        handler
    )


def _import_handler(kind: Kind) -> Any:
    @post(
        f"/{kind}/imports",
        guards=[can_write],
        request_max_body_size=MAX_UPLOAD,
        name=f"{kind}-import",
        status_code=200,
    )
    async def handler(
        request: Request[Any, Any, Any], db: AsyncSession
    ) -> Response[schemas.ImportBatchOut | schemas.ImportErrorOut]:
        """200 imported, 202 queued (large file), 422 with the bad rows (recorded as a failed batch)."""
        actor = service.actor_of(current_principal(request))
        outcome = await imports.start_import(db, actor, kind, await read_upload(request))
        if outcome.rejected is not None:
            return Response(outcome.rejected, status_code=422)
        return Response(outcome.batch, status_code=outcome.status_code)

    return handler


def _export_handler(kind: Kind) -> Any:
    @get(
        f"/{kind}/export",
        guards=[can_read],
        name=f"{kind}-export",
        responses=file_response("名录导出文件（XLSX 或 CSV）"),
    )
    async def handler(
        request: Request[Any, Any, Any], format: Literal["csv", "xlsx"] = "xlsx", active: Active = "true"
    ) -> Stream:
        filters = exporter.export_filter(kind, dict(request.query_params), active_filter(active))
        return await export_response(request, kind, format, filters)

    return handler


def _template_handler(kind: Kind) -> Any:
    @get(
        f"/{kind}/template",
        guards=[can_read],
        name=f"{kind}-template",
        responses=file_response("导入模板（XLSX 或 CSV）"),
    )
    async def handler(db: AsyncSession, format: Literal["csv", "xlsx"] = "xlsx") -> Response[bytes]:
        return template_response(await exporter.template(db, kind, format), kind, format)

    return handler


@get("/imports", guards=[can_read])
async def list_imports(db: AsyncSession, kind: Kind | None = None) -> list[schemas.ImportBatchOut]:
    return await batches_repo.recent_batches(db, kind)


@get("/imports/{batch_id:str}", guards=[can_read])
async def get_import(db: AsyncSession, batch_id: PathId) -> schemas.ImportBatchOut:
    row = await batches_repo.get_batch(db, parse_id(batch_id))
    if row is None:
        raise NotFound("导入记录不存在", field="id")
    return row


@get(
    "/imports/{batch_id:str}/annotated",
    guards=[can_read],
    responses=file_response("被拒绝的导入文件的错误标注副本（XLSX：错误单元格标红，末列为错误说明）"),
)
async def get_import_annotated(request: Request[Any, Any, Any], batch_id: PathId) -> Stream:
    """404 when the batch has no annotated copy (it succeeded, or the whole file was refused)."""
    return await annotated_response(request, parse_id(batch_id))


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
        get_import_annotated,
        *KIND_HANDLERS,
    ],
    dependencies={"db": Provide(provide_db_session)},
    tags=["registry"],
)
