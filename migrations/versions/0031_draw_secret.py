"""Keep a draw's secret out of reach until the draw: no column SELECT on ``draws.secret`` for the runtime role.

Partners of a joint plan can read the lead's draw row (``joint_read``); without this they could read the secret
between announcement and draw and predict the result. Only the drawing department gets it, through
``draw_secret(id)``, and only while the draw is still announced (afterwards it is public in the proof anyway).

Revision ID: 0031
Revises: 0030
"""

from alembic import op

from migrations.rls import RUNTIME_ROLE

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

VISIBLE_COLUMNS = (
    "id, tenant_id, task_id, status, task_number, ratios, population_hash, eligible_count, strata_sizes,"
    " eligible_list, excluded, commitment, entropy_source, public_entropy, seed, selected_count, announced_at,"
    " announced_by, drawn_at, drawn_by, voided_at, voided_by, void_reason"
)


def upgrade() -> None:
    op.execute(f"REVOKE SELECT ON draws FROM {RUNTIME_ROLE}")
    op.execute(f"GRANT SELECT ({VISIBLE_COLUMNS}) ON draws TO {RUNTIME_ROLE}")
    op.execute(
        """
        CREATE FUNCTION draw_secret(draw uuid) RETURNS bytea
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT secret FROM draws WHERE id = draw AND tenant_id = app_tenant() AND status = '已公告'
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION draw_secret(uuid) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION draw_secret(uuid) TO {RUNTIME_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS draw_secret(uuid)")
    op.execute(f"GRANT SELECT ON draws TO {RUNTIME_ROLE}")
