"""Inspector matching: the teams of a drawn task and the manual adjustments made after matching.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

from migrations.rls import enable_tenant_rls

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE task_matchings (
            task_id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            draw_id uuid NOT NULL,
            load_slack int NOT NULL,
            check_end date NOT NULL,
            caps jsonb NOT NULL,
            slot_labels text[] NOT NULL,
            matched_at timestamptz NOT NULL DEFAULT now(),
            matched_by text NOT NULL,
            FOREIGN KEY (tenant_id, task_id) REFERENCES tasks(tenant_id, id),
            FOREIGN KEY (tenant_id, draw_id) REFERENCES draws(tenant_id, id)
        )
        """
    )
    enable_tenant_rls("task_matchings", privileges="SELECT, INSERT")

    op.execute(
        """
        CREATE TABLE task_team_members (
            tenant_id uuid NOT NULL,
            task_id uuid NOT NULL,
            uscc varchar(18) NOT NULL,
            object_id uuid NOT NULL,
            slot int NOT NULL,
            inspector_id uuid NOT NULL,
            adjusted boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (task_id, uscc, slot),
            UNIQUE (task_id, uscc, inspector_id),
            FOREIGN KEY (tenant_id, task_id) REFERENCES tasks(tenant_id, id),
            FOREIGN KEY (tenant_id, inspector_id) REFERENCES inspectors(tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX ix_team_members_inspector ON task_team_members(tenant_id, inspector_id)")
    op.execute("CREATE INDEX ix_team_members_uscc ON task_team_members(tenant_id, uscc, created_at DESC)")
    enable_tenant_rls("task_team_members")

    op.execute(
        """
        CREATE TABLE team_adjustments (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            task_id uuid NOT NULL,
            uscc varchar(18) NOT NULL,
            slot int NOT NULL,
            old_inspector_id uuid,
            new_inspector_id uuid NOT NULL,
            reason text NOT NULL CHECK (length(reason) >= 5),
            adjusted_by text NOT NULL,
            adjusted_at timestamptz NOT NULL DEFAULT now(),
            FOREIGN KEY (tenant_id, task_id) REFERENCES tasks(tenant_id, id)
        )
        """
    )
    enable_tenant_rls("team_adjustments", privileges="SELECT, INSERT")
    op.execute("ALTER TABLE public_draws ADD COLUMN adjustments jsonb NOT NULL DEFAULT '[]'::jsonb")
    # The drawn list is announced with enterprise names (公示抽取对象名单), not only USCCs.
    op.execute("ALTER TABLE public_draws ADD COLUMN selected_objects jsonb NOT NULL DEFAULT '[]'::jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE public_draws DROP COLUMN IF EXISTS selected_objects")
    op.execute("ALTER TABLE public_draws DROP COLUMN IF EXISTS adjustments")
    for table in ("team_adjustments", "task_team_members", "task_matchings"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
