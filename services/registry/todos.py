"""The 工作台 panel of a department admin: registry health and the latest imports."""

from __future__ import annotations

from services.registry import repository as repo
from services.registry import repository_imports as batches_repo
from shared.context import Ctx
from shared.web import todos
from shared.web.todos import Stat, TodoItem, TodoPanel

KIND_WORDS = {"objects": "检查对象", "inspectors": "执法人员", "items": "抽查事项"}
STATUS_WORDS = {"queued": "排队中", "running": "导入中", "succeeded": "成功", "failed": "失败"}


async def registry_panel(ctx: Ctx) -> TodoPanel:
    h = await repo.health(ctx.session)
    items = []
    if h.objects_unclassified:
        items.append(
            TodoItem(
                f"{h.objects_unclassified:,} 家在营企业未标注信用风险分类",
                "/registry/objects",
                "按风险分类比例抽取前须补充",
                urgent=True,
            )
        )
    if h.licences_expired:
        items.append(
            TodoItem(
                f"{h.licences_expired:,} 名执法人员执法证已过期或未填有效期",
                "/registry/inspectors",
                "过期人员不会被匹配到检查组",
                urgent=True,
            )
        )
    if h.licences_expiring:
        items.append(
            TodoItem(f"{h.licences_expiring:,} 名执法人员执法证 30 天内到期", "/registry/inspectors")
        )
    if h.items_without_points:
        items.append(TodoItem(f"{h.items_without_points:,} 项抽查事项没有检查要点", "/registry/items"))
    return TodoPanel(
        id="todo-registry",
        title="一单两库",
        stats=[
            Stat("在营检查对象", h.objects, "/registry/objects"),
            Stat("在用执法人员", h.inspectors, "/registry/inspectors"),
            Stat("在用抽查事项", h.items, "/registry/items"),
        ],
        items=items,
        empty="名录完整，暂无需要处理的问题。",
    )


async def imports_panel(ctx: Ctx) -> TodoPanel:
    batches = await batches_repo.recent_batches(ctx.session, None, 5)
    return TodoPanel(
        id="todo-imports",
        title="最近的批量导入",
        items=[
            TodoItem(
                f"{KIND_WORDS.get(b.kind, '名录')} · {b.filename}",
                f"/registry/imports/{b.id}",
                f"{b.created_at:%Y-%m-%d %H:%M} {b.created_by_name}"
                + ("（完整替换）" if b.replace_all else "")
                + (f"：{b.error_count} 处错误" if b.status == "failed" and b.error_count else ""),
                STATUS_WORDS.get(str(b.status), ""),
                urgent=b.status == "failed",
            )
            for b in batches
        ],
        empty="暂无导入记录。",
        more_href="/registry/objects/import",
        more_label="批量导入",
    )


def install() -> None:
    todos.register(40, ("dept-admin",), registry_panel)
    todos.register(41, ("dept-admin",), imports_panel)
