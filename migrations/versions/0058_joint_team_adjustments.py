"""One team model: joint teams are adjusted like internal ones; the public draw names every department.

* ``joint_team_members.adjusted`` marks a member put in by a recorded adjustment (as ``task_team_members``).
* ``team_adjustments`` records adjustments of both kinds of team. A partner of a joint task records its own in its
  own rows, so the row refers to the (lead's) task by id only, as ``joint_team_members`` does; the service checks
  that the task is visible to the department. The lead reads the adjustments of its tasks (``lead_read``), a partner
  its own. The names are kept on the row: the lead cannot read a partner's inspectors.
* ``public_draws.departments``: the departments of a joint draw, lead first (empty for a department's own draw).
* An index for "not the inspector who checked it last time", which now reads joint teams too.

Revision ID: 0058
Revises: 0057
"""

from alembic import op

revision = "0058"
down_revision = "0057"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE joint_team_members ADD COLUMN adjusted boolean NOT NULL DEFAULT false")
    op.execute(
        "CREATE INDEX ix_joint_team_members_uscc ON joint_team_members(tenant_id, uscc, created_at DESC)"
    )
    op.execute(
        "ALTER TABLE team_adjustments DROP CONSTRAINT IF EXISTS team_adjustments_tenant_id_task_id_fkey"
    )
    op.execute(
        "ALTER TABLE team_adjustments ADD CONSTRAINT team_adjustments_task_id_fkey"
        " FOREIGN KEY (task_id) REFERENCES tasks(id)"
    )
    op.execute(
        "ALTER TABLE team_adjustments ADD COLUMN department_name text, ADD COLUMN old_name text,"
        " ADD COLUMN new_name text"
    )
    op.execute(
        "CREATE POLICY lead_read ON team_adjustments FOR SELECT USING (EXISTS (SELECT 1 FROM tasks t"
        " WHERE t.id = team_adjustments.task_id AND t.tenant_id = (SELECT app_tenant())))"
    )
    op.execute("ALTER TABLE public_draws ADD COLUMN departments jsonb NOT NULL DEFAULT '[]'::jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE public_draws DROP COLUMN IF EXISTS departments")
    op.execute("DROP POLICY IF EXISTS lead_read ON team_adjustments")
    op.execute(
        "ALTER TABLE team_adjustments DROP COLUMN IF EXISTS department_name, DROP COLUMN IF EXISTS old_name,"
        " DROP COLUMN IF EXISTS new_name"
    )
    op.execute("ALTER TABLE team_adjustments DROP CONSTRAINT IF EXISTS team_adjustments_task_id_fkey")
    op.execute(
        "ALTER TABLE team_adjustments ADD CONSTRAINT team_adjustments_tenant_id_task_id_fkey"
        " FOREIGN KEY (tenant_id, task_id) REFERENCES tasks(tenant_id, id)"
    )
    op.execute("DROP INDEX IF EXISTS ix_joint_team_members_uscc")
    op.execute("ALTER TABLE joint_team_members DROP COLUMN IF EXISTS adjusted")
