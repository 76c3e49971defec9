"""Plans, tasks and draws API (thin handlers; rules in service.py)."""

from __future__ import annotations

import uuid

from litestar import Response, Router, get, patch, post
from litestar.di import Provide

from services.planning import adjust as adjusting
from services.planning import corrections, service, teams
from services.planning.schemas import (
    AdjustRequest,
    AnnounceRequest,
    Assignment,
    DrawOut,
    DrawRequest,
    JointTeamsOut,
    MatchRequest,
    PlanCreate,
    PlanOut,
    QueuedOut,
    TaskCreate,
    TaskOut,
    TeamsOut,
    VoidRequest,
)
from shared.context import WRITERS, Ctx
from shared.web.guards import (
    provide_ctx,
    provide_db_session,
    requires_department,
    requires_login,
    requires_roles,
)
from shared.web.params import OptionalYear

write = [requires_roles(*WRITERS)]


@get("/plans")
async def list_plans(ctx: Ctx, year: OptionalYear = None) -> list[PlanOut]:
    return await service.list_plans(ctx, year)


@post("/plans", guards=write)
async def create_plan(ctx: Ctx, data: PlanCreate) -> PlanOut:
    return await service.create_plan(ctx, data)


@get("/plans/{plan_id:uuid}")
async def get_plan(ctx: Ctx, plan_id: uuid.UUID) -> PlanOut:
    return await service.plan_detail(ctx, plan_id)


@post("/plans/{plan_id:uuid}/publish", guards=write, status_code=200)
async def publish_plan(ctx: Ctx, plan_id: uuid.UUID) -> PlanOut:
    return await service.publish_plan(ctx, plan_id)


@post("/plans/{plan_id:uuid}/tasks", guards=write)
async def add_task(ctx: Ctx, plan_id: uuid.UUID, data: TaskCreate) -> TaskOut:
    return await service.add_task(ctx, plan_id, data)


@get("/tasks/{task_id:uuid}")
async def get_task(ctx: Ctx, task_id: uuid.UUID) -> TaskOut:
    task, _ = await service.task_detail(ctx, task_id)
    return task


@post("/tasks/{task_id:uuid}/announce", guards=write)
async def announce(ctx: Ctx, task_id: uuid.UUID, data: AnnounceRequest) -> Response[DrawOut | QueuedOut]:
    result = await service.announce(ctx, task_id, data)
    return Response(result, status_code=202 if isinstance(result, QueuedOut) else 201)


@post("/tasks/{task_id:uuid}/draw", guards=write, status_code=200)
async def draw(ctx: Ctx, task_id: uuid.UUID, data: DrawRequest) -> Response[DrawOut | QueuedOut]:
    result = await service.run_draw(ctx, task_id, data)
    return Response(result, status_code=202 if isinstance(result, QueuedOut) else 200)


@post("/tasks/{task_id:uuid}/void", guards=write, status_code=200)
async def void(ctx: Ctx, task_id: uuid.UUID, data: VoidRequest) -> DrawOut:
    return await service.void_draw(ctx, task_id, data)


@post("/tasks/{task_id:uuid}/match", guards=write, status_code=200)
async def match(ctx: Ctx, task_id: uuid.UUID, data: MatchRequest | None = None) -> TeamsOut | JointTeamsOut:
    return await teams.match_task(ctx, task_id, data or MatchRequest())


@get("/tasks/{task_id:uuid}/teams")
async def get_teams(ctx: Ctx, task_id: uuid.UUID) -> TeamsOut | JointTeamsOut:
    return await teams.teams_view(ctx, task_id)


@post("/tasks/{task_id:uuid}/teams/adjust", guards=write, status_code=200)
async def adjust(ctx: Ctx, task_id: uuid.UUID, data: AdjustRequest) -> TeamsOut | JointTeamsOut:
    return await adjusting.adjust_team(ctx, task_id, data)


@patch("/plans/{plan_id:uuid}", guards=write)
async def edit_plan(ctx: Ctx, plan_id: uuid.UUID, data: corrections.PlanEdit) -> PlanOut:
    return await corrections.edit_plan(ctx, plan_id, data)


@post("/plans/{plan_id:uuid}/cancel", guards=write, status_code=200)
async def cancel_plan(ctx: Ctx, plan_id: uuid.UUID, data: corrections.CancelRequest) -> PlanOut:
    return await corrections.cancel_plan(ctx, plan_id, data)


@get("/plans/{plan_id:uuid}/changes")
async def plan_changes(ctx: Ctx, plan_id: uuid.UUID) -> list[corrections.ChangeOut]:
    return await corrections.plan_changes(ctx, plan_id)


@patch("/tasks/{task_id:uuid}", guards=write)
async def edit_task(ctx: Ctx, task_id: uuid.UUID, data: corrections.TaskEdit) -> TaskOut:
    return await corrections.edit_task(ctx, task_id, data)


@post("/tasks/{task_id:uuid}/cancel", guards=write, status_code=200)
async def cancel_task(ctx: Ctx, task_id: uuid.UUID, data: corrections.CancelRequest) -> TaskOut:
    return await corrections.cancel_task(ctx, task_id, data)


@get("/my/assignments")
async def my_assignments(ctx: Ctx) -> list[Assignment]:
    return await teams.assignments(ctx)


@get("/draws/{draw_id:uuid}")
async def get_draw(ctx: Ctx, draw_id: uuid.UUID) -> DrawOut:
    return await service.draw_detail(ctx, draw_id)


router = Router(
    path="/api",
    route_handlers=[
        list_plans,
        create_plan,
        get_plan,
        publish_plan,
        add_task,
        get_task,
        announce,
        draw,
        void,
        match,
        get_teams,
        adjust,
        my_assignments,
        get_draw,
        edit_plan,
        cancel_plan,
        plan_changes,
        edit_task,
        cancel_task,
    ],
    guards=[requires_login, requires_department],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
    tags=["planning"],
)
