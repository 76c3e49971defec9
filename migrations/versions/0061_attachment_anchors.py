"""Where a photo was taken: at one check point or one hazard of the result (the field app's camera buttons).

``result_attachments.check_point_id`` and ``hazard_id`` are both optional (a photo of the whole check has neither).
No foreign keys: a hazard is replaced by a later draft (its photo then shows among the result's own attachments),
and a check point belongs to the registry; the service checks both when the photo is added.

Revision ID: 0061
Revises: 0060
"""

from alembic import op

revision = "0061"
down_revision = "0060"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE result_attachments ADD COLUMN check_point_id uuid, ADD COLUMN hazard_id uuid")


def downgrade() -> None:
    op.execute("ALTER TABLE result_attachments DROP COLUMN hazard_id, DROP COLUMN check_point_id")
