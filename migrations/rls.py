"""Helpers the migrations use to put every tenant table under row-level security.

Policies:
* ``tenant_rw``      – the active department reads and writes its own rows (``app.tenant_id``);
* ``overseer_read``  – a county overseer reads rows of departments in ``app.overseer_region``; never writes.
ENABLE + FORCE, so even the table owner is subject to them.

Both are written so that PostgreSQL evaluates the scope once per query (an InitPlan), not once per row, and so that
a scan under them may run in parallel (``app_overseer_tenants()`` instead of an ``IN (subquery)``); migration 0054.
"""

from __future__ import annotations

from alembic import op

RUNTIME_ROLE = "spotcheck_runtime"


def enable_tenant_rls(table: str, *, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    if _query_scope_installed():
        mine, overseer = own("tenant_id"), overseen("tenant_id")
    else:  # a migration before 0054 (which rewrites these): the forms of its time
        mine = "tenant_id = app_tenant()"
        overseer = (
            "app_overseer_region() IS NOT NULL AND tenant_id IN "
            "(SELECT d.id FROM departments d WHERE d.region_code = app_overseer_region())"
        )
    op.execute(f"CREATE POLICY tenant_rw ON {table} USING ({mine}) WITH CHECK ({mine})")
    op.execute(f"CREATE POLICY overseer_read ON {table} FOR SELECT USING ({overseer})")
    grant(table, privileges)


def _query_scope_installed() -> bool:
    return bool(
        op.get_bind().exec_driver_sql("SELECT to_regprocedure('app_overseer_tenants()') IS NOT NULL").scalar()
    )


def own(column: str) -> str:
    """The row belongs to the active department."""
    return f"{column} = (SELECT app_tenant())"


def overseen(column: str) -> str:
    """The row belongs to a department in the overseer's region."""
    return f"(SELECT app_overseer_region()) IS NOT NULL AND {column} = ANY ((SELECT app_overseer_tenants())::uuid[])"


def grant(table: str, privileges: str) -> None:
    op.execute(f"GRANT {privileges} ON {table} TO {RUNTIME_ROLE}")
