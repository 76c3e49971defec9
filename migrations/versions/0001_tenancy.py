"""Tenancy foundation: regions, departments, sections, audit trail, notifications, job outbox.

Revision ID: 0001
Revises:
"""

from alembic import op

from migrations.rls import RUNTIME_ROLE, enable_tenant_rls, grant

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{RUNTIME_ROLE}') THEN
            CREATE ROLE {RUNTIME_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
          END IF;
        END $$;
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {RUNTIME_ROLE}")
    op.execute(
        "CREATE FUNCTION app_tenant() RETURNS uuid LANGUAGE sql STABLE AS "
        "$$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$"
    )
    op.execute(
        "CREATE FUNCTION app_overseer_region() RETURNS text LANGUAGE sql STABLE AS "
        "$$ SELECT nullif(current_setting('app.overseer_region', true), '') $$"
    )

    op.execute(
        """
        CREATE TABLE regions (
            code varchar(12) PRIMARY KEY CHECK (code ~ '^[0-9]{6}([0-9]{3})?([0-9]{3})?$'),
            name text NOT NULL,
            level text NOT NULL CHECK (level IN ('province', 'city', 'county', 'township')),
            parent_code varchar(12) REFERENCES regions(code)
        )
        """
    )
    grant("regions", "SELECT")

    op.execute(
        """
        CREATE TABLE departments (
            id uuid PRIMARY KEY,
            code text NOT NULL UNIQUE CHECK (code ~ '^[0-9]{6}-[a-z0-9]{2,20}$'),
            region_code varchar(12) NOT NULL REFERENCES regions(code),
            name text NOT NULL,
            short_name text NOT NULL,
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_departments_region ON departments(region_code)")
    # Department names and codes are public (they appear on every disclosure); writes are an operator task.
    grant("departments", "SELECT")

    op.execute(
        """
        CREATE TABLE sections (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            code text NOT NULL CHECK (code ~ '^[a-z0-9]{2,20}$'),
            name text NOT NULL,
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, code),
            UNIQUE (tenant_id, name)
        )
        """
    )
    enable_tenant_rls("sections")

    op.execute(
        """
        CREATE TABLE audit_events (
            id bigserial PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            seq bigint NOT NULL,
            at timestamptz NOT NULL DEFAULT clock_timestamp(),
            actor_id text NOT NULL,
            actor_name text NOT NULL,
            action text NOT NULL,
            entity_type text NOT NULL,
            entity_id text NOT NULL,
            data jsonb NOT NULL DEFAULT '{}'::jsonb,
            prev_hash char(64) NOT NULL,
            hash char(64) NOT NULL,
            UNIQUE (tenant_id, seq)
        )
        """
    )
    op.execute("CREATE INDEX ix_audit_entity ON audit_events(tenant_id, entity_type, entity_id)")
    # Append-only: the runtime role may insert and read, never update or delete.
    enable_tenant_rls("audit_events", privileges="SELECT, INSERT")
    op.execute(f"GRANT USAGE ON SEQUENCE audit_events_id_seq TO {RUNTIME_ROLE}")
    op.execute(
        """
        CREATE FUNCTION audit_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_immutable()"
    )

    op.execute(
        """
        CREATE TABLE notifications (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            recipient_id uuid,
            kind text NOT NULL,
            title text NOT NULL,
            body text NOT NULL DEFAULT '',
            link text,
            dedupe_key text,
            created_at timestamptz NOT NULL DEFAULT now(),
            read_at timestamptz,
            UNIQUE (tenant_id, dedupe_key)
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_notifications_recipient ON notifications(tenant_id, recipient_id, created_at)"
    )
    enable_tenant_rls("notifications")

    op.execute(
        """
        CREATE TABLE job_outbox (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            function text NOT NULL,
            kwargs jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            enqueued_at timestamptz,
            started_count int NOT NULL DEFAULT 0,
            completed_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX ix_job_outbox_pending ON job_outbox(created_at) WHERE completed_at IS NULL")
    enable_tenant_rls("job_outbox", privileges="SELECT, INSERT, UPDATE")
    # The sweeper re-enqueues jobs whose enqueue was lost (Redis down at commit time); it sees every tenant's
    # pending rows but only the routing columns matter to it.
    op.execute(
        "CREATE POLICY sweeper ON job_outbox FOR SELECT USING (current_setting('app.job_sweeper', true) = 'on')"
    )
    op.execute(
        "CREATE POLICY sweeper_mark ON job_outbox FOR UPDATE "
        "USING (current_setting('app.job_sweeper', true) = 'on') "
        "WITH CHECK (current_setting('app.job_sweeper', true) = 'on')"
    )


def downgrade() -> None:
    for table in ("job_outbox", "notifications", "audit_events", "sections", "departments", "regions"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("DROP FUNCTION IF EXISTS audit_events_immutable()")
    op.execute("DROP FUNCTION IF EXISTS app_overseer_region()")
    op.execute("DROP FUNCTION IF EXISTS app_tenant()")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {RUNTIME_ROLE}")
