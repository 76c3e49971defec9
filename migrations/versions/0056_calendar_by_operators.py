"""The official holiday calendar is loaded by operators only.

``calendar_days`` and ``calendar_years`` hold the State Council's schedule (放假日 and 调休上班日), one for the whole
platform: every county's disclosure deadlines and reminders are counted on it. Until now the runtime role could
write them and any department administrator could replace a year through the API, which changed the deadlines of
every other department, in every county. The runtime role keeps reading them; writing is left to the owner role,
which the operators' command ``spotcheck calendar YEAR --file F`` uses (like ``spotcheck county-cap``).

Revision ID: 0056
Revises: 0055
"""

from alembic import op

from migrations.rls import RUNTIME_ROLE

revision = "0056"
down_revision = "0055"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON calendar_days FROM {RUNTIME_ROLE}")
    op.execute(f"REVOKE INSERT, UPDATE ON calendar_years FROM {RUNTIME_ROLE}")


def downgrade() -> None:
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON calendar_days TO {RUNTIME_ROLE}")
    op.execute(f"GRANT INSERT, UPDATE ON calendar_years TO {RUNTIME_ROLE}")
