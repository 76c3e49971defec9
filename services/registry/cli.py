"""`spotcheck import {items,objects,inspectors} FILE --department CODE`: the same import an admin runs in the UI."""

from __future__ import annotations

import sys
from pathlib import Path

from services.registry import repository_imports as batches_repo
from services.registry.columns import Kind
from services.registry.imports import FileRejected, ImportRejected, import_file, summary
from shared import audit
from shared.db import Database
from shared.settings import SettingsError, get_settings
from shared.tenancy import apply_scope, empty_scope, system_scope

OPERATOR = audit.Actor(id="cli", name="命令行导入")


async def run_import(kind: Kind, path: Path, department: str, *, replace: bool = False) -> int:
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if not path.is_file():  # noqa: ASYNC240 - a command-line tool, nothing else runs on this loop
        print(f"文件不存在：{path}", file=sys.stderr)
        return 2
    db = Database.connect(settings.db.url, pool_size=1)
    try:
        async with db.sessionmaker() as session, session.begin():
            await apply_scope(session, empty_scope())
            dept = await batches_repo.active_department_id(session, department)
        if dept is None:
            print(f"部门不存在或已停用：{department}", file=sys.stderr)
            return 2
        try:
            async with db.sessionmaker() as session, session.begin():
                await apply_scope(session, system_scope(dept))
                with path.open("rb") as file:
                    size = path.stat().st_size  # noqa: ASYNC240
                    report = await import_file(
                        session, dept, OPERATOR, kind, file, size, filename=path.name, replace=replace
                    )
        except ImportRejected as exc:
            print(exc.message, file=sys.stderr)
            for error in exc.report.errors:
                print(f"第{error.row}行\t{error.column}\t{error.reason}\t{error.value}", file=sys.stderr)
            if exc.report.error_count > len(exc.report.errors):
                print(f"……另有{exc.report.error_count - len(exc.report.errors)}处错误未列出", file=sys.stderr)
            return 1
        except FileRejected as exc:
            print(exc.message, file=sys.stderr)
            return 1
        print(summary(report))
        return 0
    finally:
        await db.dispose()
