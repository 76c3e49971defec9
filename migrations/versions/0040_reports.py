"""Reports: the monthly report (附件1) per department and month, and the post-implementation report per task.

Both are tenant tables under the usual ``tenant_rw`` / ``overseer_read`` policies: the county overseer reads every
department's reports of its region and writes none. A submitted report keeps the snapshot of the numbers it was
submitted with (``snapshot``), so later data changes never rewrite what was sent.

The dashboard reads rollups, not the million result rows: ``report_result_stats`` (results per tenant, task, check month,
status, on-time flag and due date), ``report_hazard_stats`` (hazards per tenant, check month, severity, status,
rectification date) and ``report_checked_objects`` / ``report_year_stats`` (distinct enterprises checked per year).
Row triggers on ``inspection_results`` and ``result_hazards`` keep them exact in the writer's own transaction (the
writer's tenant scope is the row's tenant, so the rollups stay under forced RLS like everything else);
``report_stats_rebuild()`` recomputes them from the records (run here once for existing rows). A result's check day
is ``coalesce(check_date, check_end)``; "on time" compares the publication day in China Standard Time with ``due_on``.

Revision ID: 0040
Revises: 0031
"""

from alembic import op

from migrations.rls import enable_tenant_rls

revision = "0040"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE monthly_reports (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            year int NOT NULL CHECK (year BETWEEN 2000 AND 2100),
            month int NOT NULL CHECK (month BETWEEN 1 AND 12),
            status text NOT NULL DEFAULT '草稿' CHECK (status IN ('草稿', '已提交')),
            meetings text NOT NULL DEFAULT '',
            documents text NOT NULL DEFAULT '',
            trainings text NOT NULL DEFAULT '',
            contact_person text NOT NULL DEFAULT '',
            contact_phone text NOT NULL DEFAULT '',
            mobile text NOT NULL DEFAULT '',
            snapshot jsonb,
            updated_by text NOT NULL,
            submitted_at timestamptz,
            submitted_by text,
            submitted_by_name text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, year, month),
            UNIQUE (tenant_id, id)
        )
        """
    )
    enable_tenant_rls("monthly_reports", privileges="SELECT, INSERT, UPDATE")

    op.execute(
        """
        CREATE TABLE task_reports (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            task_id uuid NOT NULL,
            status text NOT NULL DEFAULT '已报送' CHECK (status IN ('已报送')),
            recipient_section text NOT NULL,
            due_on date NOT NULL,
            snapshot jsonb NOT NULL,
            submitted_at timestamptz NOT NULL DEFAULT now(),
            submitted_by text NOT NULL,
            submitted_by_name text NOT NULL,
            UNIQUE (tenant_id, task_id),
            UNIQUE (tenant_id, id),
            FOREIGN KEY (tenant_id, task_id) REFERENCES tasks(tenant_id, id)
        )
        """
    )
    enable_tenant_rls("task_reports", privileges="SELECT, INSERT")
    for statement in STATS_SQL.split(";\n"):
        if statement.strip():
            op.execute(statement)
    for table in (
        "report_result_stats",
        "report_hazard_stats",
        "report_checked_objects",
        "report_year_stats",
    ):
        enable_tenant_rls(table, privileges="SELECT, INSERT, UPDATE")
    for statement in TRIGGERS_SQL.split("\n\n"):  # one statement per blank-line separated block
        if statement.strip():
            op.execute(statement)
    op.execute("SELECT report_stats_rebuild()")


STATS_SQL = """
CREATE TABLE report_result_stats (
    tenant_id uuid NOT NULL REFERENCES departments(id),
    task_id uuid NOT NULL,
    check_month date NOT NULL,
    status text NOT NULL,
    on_time boolean NOT NULL,
    due_on date NOT NULL,
    n int NOT NULL,
    PRIMARY KEY (tenant_id, task_id, check_month, status, on_time, due_on)
);
CREATE TABLE report_hazard_stats (
    tenant_id uuid NOT NULL REFERENCES departments(id),
    check_month date NOT NULL,
    severity text NOT NULL,
    status text NOT NULL,
    rectify_by date NOT NULL DEFAULT 'infinity',
    n int NOT NULL,
    PRIMARY KEY (tenant_id, check_month, severity, status, rectify_by)
);
CREATE TABLE report_checked_objects (
    tenant_id uuid NOT NULL REFERENCES departments(id),
    year int NOT NULL,
    object_id uuid NOT NULL,
    n int NOT NULL,
    PRIMARY KEY (tenant_id, year, object_id)
);
CREATE TABLE report_year_stats (
    tenant_id uuid NOT NULL REFERENCES departments(id),
    year int NOT NULL,
    objects_checked int NOT NULL,
    PRIMARY KEY (tenant_id, year)
);
"""

TRIGGERS_SQL = """
CREATE FUNCTION report_on_time(status text, published_at timestamptz, due_on date) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT status = '已公示' AND published_at IS NOT NULL
           AND (published_at AT TIME ZONE 'Asia/Shanghai')::date <= due_on
$$;

CREATE FUNCTION report_bump_result(t uuid, task uuid, day date, st text, ontime boolean, due date, obj uuid, delta int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    now_n int;
BEGIN
    INSERT INTO report_result_stats AS s (tenant_id, task_id, check_month, status, on_time, due_on, n)
    VALUES (t, task, date_trunc('month', day)::date, st, ontime, due, delta)
    ON CONFLICT (tenant_id, task_id, check_month, status, on_time, due_on) DO UPDATE SET n = s.n + EXCLUDED.n;
    INSERT INTO report_checked_objects AS c (tenant_id, year, object_id, n)
    VALUES (t, extract(year FROM day)::int, obj, delta)
    ON CONFLICT (tenant_id, year, object_id) DO UPDATE SET n = c.n + EXCLUDED.n
    RETURNING n INTO now_n;
    IF (delta > 0 AND now_n = delta) OR (delta < 0 AND now_n = 0) THEN
        INSERT INTO report_year_stats AS y (tenant_id, year, objects_checked)
        VALUES (t, extract(year FROM day)::int, sign(delta)::int)
        ON CONFLICT (tenant_id, year) DO UPDATE SET objects_checked = y.objects_checked + EXCLUDED.objects_checked;
    END IF;
END $$;

CREATE FUNCTION report_bump_hazard(t uuid, day date, sev text, st text, rect date, delta int)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_hazard_stats AS s (tenant_id, check_month, severity, status, rectify_by, n)
    VALUES (t, date_trunc('month', day)::date, sev, st, coalesce(rect, 'infinity'::date), delta)
    ON CONFLICT (tenant_id, check_month, severity, status, rectify_by) DO UPDATE SET n = s.n + EXCLUDED.n
$$;

CREATE FUNCTION report_lock_department(t uuid) RETURNS void LANGUAGE sql AS $$
    -- The department's write lock, the same key shared.audit.record takes for its hash chain: rollup rows of one
    -- department are only ever changed under it, so two transactions can never deadlock on them.
    SELECT pg_advisory_xact_lock(hashtextextended(t::text, 7))
$$;

CREATE FUNCTION report_results_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    h record;
    old_day date;
    new_day date;
BEGIN
    PERFORM report_lock_department(CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END);
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_day := coalesce(OLD.check_date, OLD.check_end);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_day := coalesce(NEW.check_date, NEW.check_end);
    END IF;
    IF TG_OP = 'UPDATE' AND old_day = new_day AND OLD.status = NEW.status AND OLD.due_on = NEW.due_on
       AND OLD.object_id = NEW.object_id AND OLD.task_id = NEW.task_id
       AND report_on_time(OLD.status, OLD.published_at, OLD.due_on)
           = report_on_time(NEW.status, NEW.published_at, NEW.due_on) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM report_bump_result(OLD.tenant_id, OLD.task_id, old_day, OLD.status,
                                   report_on_time(OLD.status, OLD.published_at, OLD.due_on), OLD.due_on,
                                   OLD.object_id, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM report_bump_result(NEW.tenant_id, NEW.task_id, new_day, NEW.status,
                                   report_on_time(NEW.status, NEW.published_at, NEW.due_on), NEW.due_on,
                                   NEW.object_id, 1);
    END IF;
    -- A moved check day moves the result's hazards to the new month.
    IF TG_OP = 'UPDATE' AND old_day <> new_day THEN
        FOR h IN SELECT severity, status, rectify_by FROM result_hazards WHERE result_id = NEW.id LOOP
            PERFORM report_bump_hazard(NEW.tenant_id, old_day, h.severity, h.status, h.rectify_by, -1);
            PERFORM report_bump_hazard(NEW.tenant_id, new_day, h.severity, h.status, h.rectify_by, 1);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION report_hazards_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    day date;
BEGIN
    PERFORM report_lock_department(CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END);
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT coalesce(r.check_date, r.check_end) INTO day FROM inspection_results r WHERE r.id = OLD.result_id;
        IF day IS NOT NULL THEN  -- NULL: the result itself is being deleted (cascade); its stats went with it
            PERFORM report_bump_hazard(OLD.tenant_id, day, OLD.severity, OLD.status, OLD.rectify_by, -1);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT coalesce(r.check_date, r.check_end) INTO day FROM inspection_results r WHERE r.id = NEW.result_id;
        PERFORM report_bump_hazard(NEW.tenant_id, day, NEW.severity, NEW.status, NEW.rectify_by, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER report_results_stats AFTER INSERT OR UPDATE OR DELETE ON inspection_results
    FOR EACH ROW EXECUTE FUNCTION report_results_trigger();

CREATE TRIGGER report_hazards_stats AFTER INSERT OR UPDATE OR DELETE ON result_hazards
    FOR EACH ROW EXECUTE FUNCTION report_hazards_trigger();

CREATE FUNCTION report_stats_rebuild() RETURNS void LANGUAGE sql AS $$
    DELETE FROM report_result_stats;
    DELETE FROM report_hazard_stats;
    DELETE FROM report_checked_objects;
    DELETE FROM report_year_stats;
    INSERT INTO report_result_stats (tenant_id, task_id, check_month, status, on_time, due_on, n)
    SELECT tenant_id, task_id, date_trunc('month', coalesce(check_date, check_end))::date, status,
           report_on_time(status, published_at, due_on), due_on, count(*)
    FROM inspection_results GROUP BY 1, 2, 3, 4, 5, 6;
    INSERT INTO report_checked_objects (tenant_id, year, object_id, n)
    SELECT tenant_id, extract(year FROM coalesce(check_date, check_end))::int, object_id, count(*)
    FROM inspection_results GROUP BY 1, 2, 3;
    INSERT INTO report_year_stats (tenant_id, year, objects_checked)
    SELECT tenant_id, year, count(*) FROM report_checked_objects GROUP BY 1, 2;
    INSERT INTO report_hazard_stats (tenant_id, check_month, severity, status, rectify_by, n)
    SELECT h.tenant_id, date_trunc('month', coalesce(r.check_date, r.check_end))::date, h.severity, h.status,
           coalesce(h.rectify_by, 'infinity'::date), count(*)
    FROM result_hazards h JOIN inspection_results r ON r.id = h.result_id GROUP BY 1, 2, 3, 4, 5;
$$;
"""


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS report_results_stats ON inspection_results")
    op.execute("DROP TRIGGER IF EXISTS report_hazards_stats ON result_hazards")
    for fn in (
        "report_stats_rebuild()",
        "report_hazards_trigger()",
        "report_results_trigger()",
        "report_bump_hazard(uuid, date, text, text, date, int)",
        "report_bump_result(uuid, uuid, date, text, boolean, date, uuid, int)",
        "report_on_time(text, timestamptz, date)",
        "report_lock_department(uuid)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    for table in (
        "report_year_stats",
        "report_checked_objects",
        "report_hazard_stats",
        "report_result_stats",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute("DROP TABLE IF EXISTS task_reports CASCADE")
    op.execute("DROP TABLE IF EXISTS monthly_reports CASCADE")
