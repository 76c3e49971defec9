"""Helpers the migrations use to put every tenant table under row-level security.

Policies:
* ``tenant_rw``      – the active department reads and writes its own rows (``app.tenant_id``);
* ``overseer_read``  – a county overseer reads rows of departments in ``app.overseer_region``; never writes.
ENABLE + FORCE, so even the table owner is subject to them.
"""

from __future__ import annotations

from alembic import op

RUNTIME_ROLE = "spotcheck_runtime"


def enable_tenant_rls(table: str, *, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_rw ON {table} USING (tenant_id = app_tenant()) "
        "WITH CHECK (tenant_id = app_tenant())"
    )
    op.execute(
        f"CREATE POLICY overseer_read ON {table} FOR SELECT USING ("
        "app_overseer_region() IS NOT NULL AND tenant_id IN "
        "(SELECT d.id FROM departments d WHERE d.region_code = app_overseer_region()))"
    )
    grant(table, privileges)


def grant(table: str, privileges: str) -> None:
    op.execute(f"GRANT {privileges} ON {table} TO {RUNTIME_ROLE}")
