"""Check points chosen per task: a task may take a subset of its items' check points.

The seed's 联2023001 lists four topics of an item that has six check points; until now every task took whole items,
so inspectors had to answer check points the plan does not list. ``tasks.check_point_ids`` holds the chosen subset;
NULL keeps the old meaning (all check points of the task's items).

Revision ID: 0059
Revises: 0058
"""

from alembic import op

revision = "0059"
down_revision = "0058"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE tasks ADD COLUMN check_point_ids uuid[]")


def downgrade() -> None:
    op.execute("ALTER TABLE tasks DROP COLUMN check_point_ids")
