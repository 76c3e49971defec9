"""Plans, tasks, draws (announcement, frozen eligible list, result) and the public draw register.

``public_draws`` carries only what the public may see (announcement before the draw, proof after it); it has no
tenant policy because the public read path reads it without any scope. The runtime role may insert and update it
only through the planning service, in the same transaction as the tenant rows it mirrors.

Revision ID: 0010
Revises: 0003
"""

from alembic import op

from migrations.rls import RUNTIME_ROLE, enable_tenant_rls, grant

revision = "0010"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE plan_counters (
            tenant_id uuid NOT NULL REFERENCES departments(id),
            year int NOT NULL,
            series text NOT NULL CHECK (series IN ('plan', 'joint', 'task', 'joint_task')),
            last_value int NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, year, series)
        )
        """
    )
    enable_tenant_rls("plan_counters", privileges="SELECT, INSERT, UPDATE")

    op.execute(
        """
        CREATE TABLE plans (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            number text NOT NULL,
            seq int NOT NULL,
            name text NOT NULL,
            year int NOT NULL CHECK (year BETWEEN 2000 AND 2100),
            kind text NOT NULL CHECK (kind IN ('本部门', '内部联合', '部门联合')),
            initiating_section_id uuid,
            joint_section_ids uuid[] NOT NULL DEFAULT '{}',
            table_date date NOT NULL,
            status text NOT NULL DEFAULT '草稿' CHECK (status IN ('草稿', '已发布', '已完成', '已撤销')),
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, number),
            UNIQUE (tenant_id, id),
            FOREIGN KEY (tenant_id, initiating_section_id) REFERENCES sections(tenant_id, id)
        )
        """
    )
    enable_tenant_rls("plans")

    op.execute(
        """
        CREATE TABLE tasks (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            plan_id uuid NOT NULL,
            number text NOT NULL,
            seq int NOT NULL,
            name text NOT NULL,
            draw_type text NOT NULL CHECK (draw_type IN ('定向', '不定向')),
            ratio_mode text NOT NULL CHECK (ratio_mode IN ('overall', 'per_class')),
            ratios jsonb NOT NULL,
            ratio_note text NOT NULL DEFAULT '',
            item_ids uuid[] NOT NULL DEFAULT '{}',
            item_note text NOT NULL DEFAULT '',
            scope jsonb NOT NULL DEFAULT '{}'::jsonb,
            scope_note text NOT NULL DEFAULT '',
            initiating_section_id uuid,
            joint_section_ids uuid[] NOT NULL DEFAULT '{}',
            start_month date NOT NULL CHECK (extract(day FROM start_month) = 1),
            end_month date NOT NULL CHECK (extract(day FROM end_month) = 1 AND end_month >= start_month),
            min_inspectors int NOT NULL DEFAULT 2 CHECK (min_inspectors BETWEEN 2 AND 10),
            exclude_checked_within_months int CHECK (exclude_checked_within_months BETWEEN 1 AND 60),
            annual_cap int CHECK (annual_cap BETWEEN 1 AND 50),
            status text NOT NULL DEFAULT '草稿'
                CHECK (status IN ('草稿', '公告中', '已公告', '抽取中', '已抽取', '已匹配', '实施中', '已完成', '已作废')),
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, plan_id, number),
            UNIQUE (tenant_id, id),
            FOREIGN KEY (tenant_id, plan_id) REFERENCES plans(tenant_id, id) ON DELETE CASCADE,
            FOREIGN KEY (tenant_id, initiating_section_id) REFERENCES sections(tenant_id, id)
        )
        """
    )
    enable_tenant_rls("tasks")

    op.execute(
        """
        CREATE TABLE draws (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            task_id uuid NOT NULL,
            status text NOT NULL CHECK (status IN ('已公告', '已抽取', '已作废')),
            task_number text NOT NULL,
            ratios jsonb NOT NULL,
            population_hash char(64) NOT NULL,
            eligible_count int NOT NULL,
            strata_sizes jsonb NOT NULL DEFAULT '{}'::jsonb,
            eligible_list bytea NOT NULL DEFAULT ''::bytea,
            excluded jsonb NOT NULL DEFAULT '{}'::jsonb,
            commitment char(64) NOT NULL,
            secret bytea NOT NULL,
            entropy_source text NOT NULL,
            public_entropy text,
            seed char(64),
            selected_count int,
            announced_at timestamptz NOT NULL DEFAULT now(),
            announced_by text NOT NULL,
            drawn_at timestamptz,
            drawn_by text,
            voided_at timestamptz,
            voided_by text,
            void_reason text,
            UNIQUE (tenant_id, id),
            FOREIGN KEY (tenant_id, task_id) REFERENCES tasks(tenant_id, id)
        )
        """
    )
    # A task has at most one live draw: a second concurrent announcement or draw cannot both win.
    op.execute("CREATE UNIQUE INDEX uq_draws_live_task ON draws(task_id) WHERE status <> '已作废'")
    # The frozen list is stored once, as the exact canonical bytes that were hashed (no per-entry rows: a
    # province-scale draw would otherwise add ten million rows); already compact, so no TOAST compression.
    op.execute("ALTER TABLE draws ALTER COLUMN eligible_list SET STORAGE EXTERNAL")
    enable_tenant_rls("draws")

    op.execute(
        """
        CREATE TABLE draw_selected (
            tenant_id uuid NOT NULL,
            draw_id uuid NOT NULL,
            stratum varchar(3) NOT NULL,
            rank int NOT NULL,
            uscc varchar(18) NOT NULL,
            object_id uuid NOT NULL,
            PRIMARY KEY (draw_id, uscc),
            UNIQUE (draw_id, stratum, rank),
            FOREIGN KEY (tenant_id, draw_id) REFERENCES draws(tenant_id, id) ON DELETE CASCADE
        )
        """
    )
    enable_tenant_rls("draw_selected", privileges="SELECT, INSERT")

    op.execute(
        """
        CREATE TABLE public_draws (
            draw_id uuid PRIMARY KEY,
            task_id uuid NOT NULL,
            department_code text NOT NULL,
            department_name text NOT NULL,
            region_code varchar(12) NOT NULL,
            plan_number text NOT NULL,
            plan_name text NOT NULL,
            task_number text NOT NULL,
            protocol_task_number text NOT NULL,
            task_name text NOT NULL,
            status text NOT NULL,
            ratios jsonb NOT NULL,
            population_hash char(64) NOT NULL,
            eligible_count int NOT NULL,
            commitment char(64) NOT NULL,
            entropy_source text NOT NULL,
            announced_at timestamptz NOT NULL,
            drawn_at timestamptz,
            selected_count int,
            secret char(64),
            seed char(64),
            public_entropy text,
            selected jsonb,
            matching jsonb,
            eligible_list bytea,
            voided_at timestamptz,
            void_reason text
        )
        """
    )
    op.execute("CREATE INDEX ix_public_draws_region ON public_draws(region_code, announced_at DESC)")
    op.execute("ALTER TABLE public_draws ALTER COLUMN eligible_list SET STORAGE EXTERNAL")
    grant("public_draws", "SELECT, INSERT, UPDATE")
    op.execute(f"REVOKE DELETE ON public_draws FROM {RUNTIME_ROLE}")


def downgrade() -> None:
    for table in ("public_draws", "draw_selected", "draws", "tasks", "plans", "plan_counters"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
