"""The draw path: store a draw's frozen list once, and evaluate the tenant policies of its big tables once per query.

* **One copy of the frozen list.** Publishing a draw used to copy the whole canonical list (22 MB at 1,000,000
  entries) from ``draws`` into ``public_draws.eligible_list``. New draws leave that column NULL;
  ``public_eligible_list(draw)`` returns the list of a draw that has been drawn (its seed is published), and NULL
  before the draw — exactly when the copy used to exist. It is SECURITY DEFINER because the public path has no tenant
  scope and ``draws`` is under forced RLS: it looks up the drawing department in the public register, sets
  ``app.tenant_id`` to it for its one query (the existing ``tenant_rw`` policy then shows that draw) and restores the
  previous value. It takes only a draw id and returns only the list, which the proof file publishes anyway. Rows
  published before this migration keep their copy.
* **Policies evaluated once per query.** ``tenant_id = app_tenant()`` in a policy is evaluated for every row a scan
  reads (``current_setting`` and a uuid parse each time): it made a 1,000,000-row registry scan about five times
  slower than the same scan without RLS. Written ``tenant_id = (SELECT app_tenant())`` it becomes an InitPlan,
  computed once per query, with the same meaning. Changed here for the tables a draw scans or fills in bulk
  (``registry_objects``, ``draw_selected``); the policies keep their names, commands and roles.

Revision ID: 0051
Revises: 0050
"""

from alembic import op

from migrations.rls import RUNTIME_ROLE

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None


TENANT = "tenant_id = (SELECT app_tenant())"
OVERSEER = (
    "(SELECT app_overseer_region()) IS NOT NULL AND tenant_id IN "
    "(SELECT d.id FROM departments d WHERE d.region_code = (SELECT app_overseer_region()))"
)
PER_ROW_TENANT = "tenant_id = app_tenant()"
PER_ROW_OVERSEER = (
    "app_overseer_region() IS NOT NULL AND tenant_id IN "
    "(SELECT d.id FROM departments d WHERE d.region_code = app_overseer_region())"
)
TABLES = ("registry_objects", "draw_selected")


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION public_eligible_list(draw uuid) RETURNS bytea
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            owner uuid;
            list bytea;
            previous text := coalesce(current_setting('app.tenant_id', true), '');
        BEGIN
            SELECT d.id INTO owner FROM public_draws p JOIN departments d ON d.code = p.department_code
                WHERE p.draw_id = draw AND p.seed IS NOT NULL;
            IF owner IS NULL THEN
                RETURN NULL;
            END IF;
            PERFORM set_config('app.tenant_id', owner::text, true);
            SELECT l.eligible_list INTO list FROM draws l
                WHERE l.id = draw AND l.tenant_id = owner AND l.seed IS NOT NULL;
            PERFORM set_config('app.tenant_id', previous, true);
            RETURN list;
        END $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION public_eligible_list(uuid) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION public_eligible_list(uuid) TO {RUNTIME_ROLE}")
    for table in TABLES:
        op.execute(f"ALTER POLICY tenant_rw ON {table} USING ({TENANT}) WITH CHECK ({TENANT})")
        op.execute(f"ALTER POLICY overseer_read ON {table} USING ({OVERSEER})")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER POLICY tenant_rw ON {table} USING ({PER_ROW_TENANT}) WITH CHECK ({PER_ROW_TENANT})")
        op.execute(f"ALTER POLICY overseer_read ON {table} USING ({PER_ROW_OVERSEER})")
    # Put the copies back so that the previous code finds every published list where it expects it.
    op.execute(
        "UPDATE public_draws SET eligible_list = public_eligible_list(draw_id)"
        " WHERE eligible_list IS NULL AND seed IS NOT NULL"
    )
    op.execute("DROP FUNCTION IF EXISTS public_eligible_list(uuid)")
