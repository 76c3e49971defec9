"""Background jobs that keep failing end in a visible "failed" state instead of being re-sent forever.

``attempts`` counts the runs that ended in an error and the times the sweeper had to re-send a job that had started
after it was last sent and never finished (its worker timed out or was killed; ``started_at``, written when a run
begins). A job still waiting in a long queue has not started: re-sending it costs it nothing. At ``SPOTCHECK_JOB_MAX_ATTEMPTS`` the job gets ``failed_at`` and
``last_error``; nothing re-sends it, the job's own give-up step runs (a large draw puts its task back, an import
marks its batch failed), and operators list and retry such jobs with ``spotcheck jobs``.

Revision ID: 0055
Revises: 0054
"""

from alembic import op

revision = "0055"
down_revision = "0054"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE job_outbox ADD COLUMN attempts int NOT NULL DEFAULT 0, "
        "ADD COLUMN last_error text NOT NULL DEFAULT '', ADD COLUMN started_at timestamptz, "
        "ADD COLUMN failed_at timestamptz"
    )
    op.execute("DROP INDEX ix_job_outbox_pending")
    op.execute(
        "CREATE INDEX ix_job_outbox_pending ON job_outbox(created_at) WHERE completed_at IS NULL AND failed_at IS NULL"
    )
    op.execute("CREATE INDEX ix_job_outbox_failed ON job_outbox(failed_at) WHERE failed_at IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX ix_job_outbox_failed")
    op.execute("DROP INDEX ix_job_outbox_pending")
    op.execute("CREATE INDEX ix_job_outbox_pending ON job_outbox(created_at) WHERE completed_at IS NULL")
    op.execute(
        "ALTER TABLE job_outbox DROP COLUMN failed_at, DROP COLUMN started_at, DROP COLUMN last_error, "
        "DROP COLUMN attempts"
    )
