"""Back-entry (补录) and the partner's post-implementation report.

* ``plans.back_entry``: a plan of a past period entered afterwards, set once at creation (a plan whose whole window
  is already over is 补录 or refused). Its results' publication deadline counts from the day they are entered, not
  from a check long past, and they are reminded once per stage instead of daily.
* ``public_results.back_entry``: the public record says that it was entered late (补录). Written once at
  publication, as everything in ``public_results``.
* ``task_reports``: a partner of a joint plan sends the post-implementation report of its own part, for the lead's
  task. The composite foreign key to the task of the report's own tenant is replaced by a plain one on ``task_id``
  (as ``inspection_results`` did in 0050); a report of another department's task is still refused, by the reporting
  service (own task, or a joint task the department accepted) and by RLS on the report row itself.

Revision ID: 0057
Revises: 0056
"""

from alembic import op

revision = "0057"
down_revision = "0056"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE plans ADD COLUMN back_entry boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE public_results ADD COLUMN back_entry boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE task_reports DROP CONSTRAINT task_reports_tenant_id_task_id_fkey")
    op.execute(
        "ALTER TABLE task_reports ADD CONSTRAINT task_reports_task_id_fkey FOREIGN KEY (task_id) REFERENCES tasks(id)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE task_reports DROP CONSTRAINT task_reports_task_id_fkey")
    # Reports of a partner's part name a task of another tenant: they cannot keep the composite key.
    op.execute(
        "DELETE FROM task_reports r WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = r.task_id"
        " AND t.tenant_id = r.tenant_id)"
    )
    op.execute(
        "ALTER TABLE task_reports ADD CONSTRAINT task_reports_tenant_id_task_id_fkey"
        " FOREIGN KEY (tenant_id, task_id) REFERENCES tasks(tenant_id, id)"
    )
    op.execute("ALTER TABLE public_results DROP COLUMN back_entry")
    op.execute("ALTER TABLE plans DROP COLUMN back_entry")
