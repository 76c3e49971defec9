"""Reports: the monthly report (附件1) per department and month, and the post-implementation report per task.

Both are tenant tables under the usual ``tenant_rw`` / ``overseer_read`` policies: the county overseer reads every
department's reports of its region and writes none. A submitted report keeps the snapshot of the numbers it was
submitted with (``snapshot``), so later data changes never rewrite what was sent.

Revision ID: 0040
Revises: 0031
"""

from alembic import op

from migrations.rls import enable_tenant_rls

revision = "0040"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE monthly_reports (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            year int NOT NULL CHECK (year BETWEEN 2000 AND 2100),
            month int NOT NULL CHECK (month BETWEEN 1 AND 12),
            status text NOT NULL DEFAULT '草稿' CHECK (status IN ('草稿', '已提交')),
            meetings text NOT NULL DEFAULT '',
            documents text NOT NULL DEFAULT '',
            trainings text NOT NULL DEFAULT '',
            contact_person text NOT NULL DEFAULT '',
            contact_phone text NOT NULL DEFAULT '',
            mobile text NOT NULL DEFAULT '',
            snapshot jsonb,
            updated_by text NOT NULL,
            submitted_at timestamptz,
            submitted_by text,
            submitted_by_name text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, year, month),
            UNIQUE (tenant_id, id)
        )
        """
    )
    enable_tenant_rls("monthly_reports", privileges="SELECT, INSERT, UPDATE")

    op.execute(
        """
        CREATE TABLE task_reports (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            task_id uuid NOT NULL,
            status text NOT NULL DEFAULT '已报送' CHECK (status IN ('已报送')),
            recipient_section text NOT NULL,
            due_on date NOT NULL,
            snapshot jsonb NOT NULL,
            submitted_at timestamptz NOT NULL DEFAULT now(),
            submitted_by text NOT NULL,
            submitted_by_name text NOT NULL,
            UNIQUE (tenant_id, task_id),
            UNIQUE (tenant_id, id),
            FOREIGN KEY (tenant_id, task_id) REFERENCES tasks(tenant_id, id)
        )
        """
    )
    enable_tenant_rls("task_reports", privileges="SELECT, INSERT")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS task_reports CASCADE")
    op.execute("DROP TABLE IF EXISTS monthly_reports CASCADE")
