"""Registry objects: fewer index entries per row, so that a 1,000,000-row import writes less.

Every row an import inserts enters every index of ``registry_objects``; index maintenance was most of a first
import's time. What each index served, and what serves it now:

* ``UNIQUE (tenant_id, uscc)`` (the import's upsert key, one enterprise once per department) and
  ``ix_registry_objects_uscc (uscc)`` (the same enterprise across the county's departments, draws resolving drawn
  USCCs) become **one** ``UNIQUE (uscc, tenant_id)``: a lookup by USCC alone uses its first column, a lookup by
  department and USCC uses both. Uniqueness is unchanged (the same pair of columns).
* ``ix_registry_objects_scope (tenant_id, industry, risk_class)`` is dropped. The queries that filter on these columns
  (a task's scope, the registry list) name no ``tenant_id``: the department comes from the RLS policies, which are
  OR-ed (``tenant_rw`` or ``overseer_read``) and so become a filter, never an index condition. The index could only
  be read whole, all departments' entries, with industry and risk class checked on each — chosen (EXPLAIN) only for an
  industry with almost no rows; a task's scope, a large slice of the department, is a table scan with or without it.
  The tag filter keeps its GIN index.
* The USCC format check keeps its meaning (18 characters of the GB 32100 alphabet) written without a regular
  expression: the regex cost about 1.2 µs per inserted row, ``ltrim`` with the alphabet about two thirds of that.

Revision ID: 0052
Revises: 0051
"""

from alembic import op

revision = "0052"
down_revision = "0051"
branch_labels = None
depends_on = None

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_registry_objects_scope")
    op.execute("DROP INDEX IF EXISTS ix_registry_objects_uscc")
    op.execute(
        "ALTER TABLE registry_objects DROP CONSTRAINT registry_objects_tenant_id_uscc_key, "
        "ADD CONSTRAINT registry_objects_uscc_tenant_id_key UNIQUE (uscc, tenant_id)"
    )
    op.execute(
        "ALTER TABLE registry_objects DROP CONSTRAINT registry_objects_uscc_check, "
        "ADD CONSTRAINT registry_objects_uscc_check "
        f"CHECK (octet_length(uscc) = 18 AND ltrim(uscc, '{ALPHABET}') = '')"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE registry_objects DROP CONSTRAINT registry_objects_uscc_check, "
        "ADD CONSTRAINT registry_objects_uscc_check CHECK (uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$')"
    )
    op.execute(
        "ALTER TABLE registry_objects DROP CONSTRAINT registry_objects_uscc_tenant_id_key, "
        "ADD CONSTRAINT registry_objects_tenant_id_uscc_key UNIQUE (tenant_id, uscc)"
    )
    op.execute("CREATE INDEX IF NOT EXISTS ix_registry_objects_uscc ON registry_objects(uscc)")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_registry_objects_scope ON registry_objects(tenant_id, industry, risk_class)"
    )
