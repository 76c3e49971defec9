"""Inspection results, review, hazards, follow-up, attachments; the working-day calendar; public results.

``public_results`` is the public read path of 一公开: written in the same transaction as a result's publication, with
only the published fields, and read without any tenant scope (no RLS, SELECT for the public path). Drafts never reach
it, so guessing ids on the public site finds nothing. Name search uses a GIN index over the name's character
unigrams and bigrams (``name_grams``), because the embedded PostgreSQL ships without ``pg_trgm`` and trigrams cannot
match the common two-character Chinese query anyway; USCC search uses a btree.

``calendar_days`` holds the official schedule loaded by an administrator (holidays and 调休 workdays); it overrides
the ``chinesecalendar`` library and is not a tenant table (the State Council's schedule is the same for everyone).

Revision ID: 0020
Revises: 0011
"""

from alembic import op

from migrations.rls import RUNTIME_ROLE, enable_tenant_rls, grant

revision = "0020"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE inspection_results (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            task_id uuid NOT NULL,
            uscc varchar(18) NOT NULL,
            object_id uuid NOT NULL,
            status text NOT NULL DEFAULT '草稿' CHECK (status IN ('草稿', '待审核', '退回', '已公示')),
            check_date date,
            check_end date NOT NULL,
            due_on date NOT NULL,
            due_uncertain boolean NOT NULL DEFAULT false,
            categories text[] NOT NULL DEFAULT '{}',
            summary text NOT NULL DEFAULT '',
            entered_by text NOT NULL,
            entered_by_name text NOT NULL,
            submitted_at timestamptz,
            reviewed_by text,
            reviewed_by_name text,
            reviewed_at timestamptz,
            return_reason text,
            published_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (task_id, uscc),
            UNIQUE (tenant_id, id),
            FOREIGN KEY (tenant_id, task_id) REFERENCES tasks(tenant_id, id),
            FOREIGN KEY (tenant_id, object_id) REFERENCES registry_objects(tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX ix_results_due ON inspection_results(tenant_id, status, due_on)")
    enable_tenant_rls("inspection_results", privileges="SELECT, INSERT, UPDATE")

    op.execute(
        """
        CREATE TABLE result_points (
            tenant_id uuid NOT NULL,
            result_id uuid NOT NULL,
            check_point_id uuid NOT NULL,
            outcome text NOT NULL CHECK (outcome IN ('符合', '不符合', '不涉及')),
            note text NOT NULL DEFAULT '',
            PRIMARY KEY (result_id, check_point_id),
            FOREIGN KEY (tenant_id, result_id) REFERENCES inspection_results(tenant_id, id) ON DELETE CASCADE
        )
        """
    )
    enable_tenant_rls("result_points")

    op.execute(
        """
        CREATE TABLE result_hazards (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            result_id uuid NOT NULL,
            description text NOT NULL CHECK (length(description) > 0),
            severity text NOT NULL CHECK (severity IN ('重大隐患', '一般隐患')),
            rectify_by date,
            status text NOT NULL DEFAULT '整改中' CHECK (status IN ('整改中', '已整改', '逾期未整改')),
            rechecked_on date,
            recheck_note text NOT NULL DEFAULT '',
            rechecked_by text,
            UNIQUE (tenant_id, id),
            FOREIGN KEY (tenant_id, result_id) REFERENCES inspection_results(tenant_id, id) ON DELETE CASCADE
        )
        """
    )
    enable_tenant_rls("result_hazards")

    op.execute(
        """
        CREATE TABLE result_followups (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            result_id uuid NOT NULL,
            action text NOT NULL CHECK (action IN ('无需后续处置', '责令改正并跟踪', '抄告相关部门', '移送办案机构',
                                                   '移送司法机关')),
            target text NOT NULL DEFAULT '',
            note text NOT NULL DEFAULT '',
            status text NOT NULL DEFAULT '办理中' CHECK (status IN ('办理中', '已办结')),
            closed_at timestamptz,
            closed_by text,
            UNIQUE (tenant_id, id),
            FOREIGN KEY (tenant_id, result_id) REFERENCES inspection_results(tenant_id, id) ON DELETE CASCADE
        )
        """
    )
    enable_tenant_rls("result_followups")

    op.execute(
        """
        CREATE TABLE result_attachments (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            result_id uuid NOT NULL,
            followup_id uuid,
            filename text NOT NULL,
            content_type text NOT NULL,
            size int NOT NULL CHECK (size > 0),
            sha256 char(64) NOT NULL,
            data bytea NOT NULL,
            uploaded_by text NOT NULL,
            uploaded_at timestamptz NOT NULL DEFAULT now(),
            FOREIGN KEY (tenant_id, result_id) REFERENCES inspection_results(tenant_id, id) ON DELETE CASCADE,
            FOREIGN KEY (tenant_id, followup_id) REFERENCES result_followups(tenant_id, id) ON DELETE CASCADE
        )
        """
    )
    # Photos are already compressed: skip TOAST compression.
    op.execute("ALTER TABLE result_attachments ALTER COLUMN data SET STORAGE EXTERNAL")
    enable_tenant_rls("result_attachments", privileges="SELECT, INSERT, DELETE")

    op.execute(
        """
        CREATE TABLE calendar_days (
            day date PRIMARY KEY,
            is_workday boolean NOT NULL,
            note text NOT NULL DEFAULT '',
            loaded_by text NOT NULL,
            loaded_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE calendar_years (
            year int PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
            loaded_by text NOT NULL,
            loaded_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    grant("calendar_days", "SELECT, INSERT, UPDATE, DELETE")
    grant("calendar_years", "SELECT, INSERT, UPDATE")

    op.execute(
        """
        CREATE TABLE public_results (
            id uuid PRIMARY KEY,
            task_id uuid NOT NULL,
            draw_id uuid,
            department_code text NOT NULL,
            department_name text NOT NULL,
            region_code varchar(12) NOT NULL,
            plan_number text NOT NULL,
            plan_name text NOT NULL,
            task_number text NOT NULL,
            task_name text NOT NULL,
            uscc varchar(18) NOT NULL,
            enterprise_name text NOT NULL,
            name_key text NOT NULL,
            name_grams text[] NOT NULL,
            address text NOT NULL DEFAULT '',
            items text NOT NULL DEFAULT '',
            check_date date NOT NULL,
            categories text[] NOT NULL,
            hazard_count int NOT NULL DEFAULT 0,
            follow_up text NOT NULL DEFAULT '',
            published_at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_public_results_uscc ON public_results(uscc, published_at DESC)")
    op.execute("CREATE INDEX ix_public_results_grams ON public_results USING gin (name_grams)")
    op.execute("CREATE INDEX ix_public_results_task ON public_results(task_id, enterprise_name)")
    op.execute("CREATE INDEX ix_public_results_recent ON public_results(published_at DESC)")
    op.execute("CREATE INDEX ix_public_results_dept ON public_results(department_code, published_at DESC)")
    grant("public_results", "SELECT, INSERT")
    op.execute(f"REVOKE UPDATE, DELETE ON public_results FROM {RUNTIME_ROLE}")


def downgrade() -> None:
    for table in (
        "public_results",
        "calendar_years",
        "calendar_days",
        "result_attachments",
        "result_followups",
        "result_hazards",
        "result_points",
        "inspection_results",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
