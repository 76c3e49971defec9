"""Registry objects: drop the GIN index on ``tags`` — the application can never use it.

Every query the application runs on ``registry_objects`` goes through its row-level security policies, and a
condition written by the query (``tags @> ARRAY[…]``) may only be evaluated after the policies unless its operator
is leakproof. ``@>`` on arrays (``arraycontains``) is not leakproof, so PostgreSQL never turns it into an index scan
for the runtime role: ``EXPLAIN ANALYZE`` as that role, on a department with 1,000,000 objects, shows a sequential
scan (0.25 s) for a common tag and the same scan for a tag no object carries — with or without this index. Only a
superuser's queries, which bypass RLS, could read it.

Writing it was not free: every inserted object added a GIN entry per tag (or an empty-item entry), about 2.4 s and
175 MB of WAL of a 1,000,000-row first import (``tests/bench/bench_import``).

Revision ID: 0053
Revises: 0052
"""

from alembic import op

revision = "0053"
down_revision = "0052"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_registry_objects_tags")


def downgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_registry_objects_tags ON registry_objects USING gin (tags)")
