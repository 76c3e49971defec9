"""Federation: cross-department joint plans (部门联合抽查) — participation, and merged teams.

Shared records become visible to a partner only through an explicit participation row: extra SELECT policies
(``joint_read``) on plans, tasks, draws and draw_selected match rows of plans the current department takes part in.
The tenant policies themselves are unchanged, so partners can read a joint plan but never write it.

Revision ID: 0030
Revises: 0020
"""

from alembic import op

from migrations.rls import enable_tenant_rls, grant

revision = "0030"
down_revision = "0020"
branch_labels = None
depends_on = None

VISIBLE = "('邀请中', '已接受')"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE joint_participants (
            id uuid PRIMARY KEY,
            lead_tenant_id uuid NOT NULL REFERENCES departments(id),
            plan_id uuid NOT NULL,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            status text NOT NULL DEFAULT '邀请中' CHECK (status IN ('邀请中', '已接受', '已拒绝', '已退出')),
            invited_at timestamptz NOT NULL DEFAULT now(),
            respond_by date NOT NULL,
            responded_at timestamptz,
            responded_by text,
            reason text,
            item_ids uuid[] NOT NULL DEFAULT '{}',
            item_names text[] NOT NULL DEFAULT '{}',
            UNIQUE (plan_id, tenant_id),
            CHECK (tenant_id <> lead_tenant_id),
            FOREIGN KEY (lead_tenant_id, plan_id) REFERENCES plans(tenant_id, id)
        )
        """
    )
    op.execute("ALTER TABLE joint_participants ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE joint_participants FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY lead_rw ON joint_participants USING (lead_tenant_id = app_tenant())"
        " WITH CHECK (lead_tenant_id = app_tenant())"
    )
    op.execute(
        "CREATE POLICY participant_rw ON joint_participants USING (tenant_id = app_tenant())"
        " WITH CHECK (tenant_id = app_tenant())"
    )
    op.execute(
        "CREATE POLICY overseer_read ON joint_participants FOR SELECT USING (app_overseer_region() IS NOT NULL"
        " AND lead_tenant_id IN (SELECT d.id FROM departments d WHERE d.region_code = app_overseer_region()))"
    )
    grant("joint_participants", "SELECT, INSERT, UPDATE")

    participation = (
        "EXISTS (SELECT 1 FROM joint_participants jp WHERE jp.plan_id = {plan} AND jp.tenant_id = app_tenant()"
        f" AND jp.status IN {VISIBLE})"
    )
    op.execute(
        f"CREATE POLICY joint_read ON plans FOR SELECT USING ({participation.format(plan='plans.id')})"
    )
    op.execute(
        f"CREATE POLICY joint_read ON tasks FOR SELECT USING ({participation.format(plan='tasks.plan_id')})"
    )
    task_participation = (
        "EXISTS (SELECT 1 FROM tasks t JOIN joint_participants jp ON jp.plan_id = t.plan_id"
        " WHERE t.id = {task} AND jp.tenant_id = app_tenant() AND jp.status = '已接受')"
    )
    op.execute(
        f"CREATE POLICY joint_read ON draws FOR SELECT USING ({task_participation.format(task='draws.task_id')})"
    )
    op.execute(
        "CREATE POLICY joint_read ON draw_selected FOR SELECT USING (EXISTS (SELECT 1 FROM draws d"
        " WHERE d.id = draw_selected.draw_id))"
    )

    # Each member row belongs to the inspector's own department; the lead reads the whole team of its tasks.
    op.execute(
        """
        CREATE TABLE joint_team_members (
            tenant_id uuid NOT NULL REFERENCES departments(id),
            task_id uuid NOT NULL REFERENCES tasks(id),
            uscc varchar(18) NOT NULL,
            slot int NOT NULL,
            inspector_id uuid NOT NULL,
            inspector_name text NOT NULL,
            licence_no text NOT NULL,
            department_code text NOT NULL,
            slot_label text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (task_id, uscc, slot),
            FOREIGN KEY (tenant_id, inspector_id) REFERENCES inspectors(tenant_id, id)
        )
        """
    )
    enable_tenant_rls("joint_team_members")
    op.execute(
        "CREATE POLICY lead_read ON joint_team_members FOR SELECT USING (EXISTS (SELECT 1 FROM tasks t"
        " WHERE t.id = joint_team_members.task_id AND t.tenant_id = app_tenant()))"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS joint_team_members CASCADE")
    for table in ("draw_selected", "draws", "tasks", "plans"):
        op.execute(f"DROP POLICY IF EXISTS joint_read ON {table}")
    op.execute("DROP TABLE IF EXISTS joint_participants CASCADE")
