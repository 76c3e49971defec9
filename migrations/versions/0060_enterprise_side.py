"""The enterprise's side (issue 19): inspection codes per visit, anonymous evaluations, the burden ledger.

* ``visits`` (tenant): a department's visits to enterprises — one per drawn enterprise of a matched task (random or
  joint) and the checks outside a random plan (投诉举报, 转办交办 …) registered with a reason. Each has a code.
* ``public_visits`` (no tenant policy, like ``public_draws``): the county's visit register, written by the enterprise
  service in the same transaction as the department's row. The public scan reads it by the exact code only; the
  burden ledger counts it per enterprise across the county's departments. It holds the SHA-256 of the code's secret
  part (never the secret), and what the scan shows (``card``), never a complaint's reason.
* ``visit_evaluations``: written anonymously (no tenant scope) once per code; read only by the county overseer of
  the region — never by a department (there is no tenant policy, so a department reads nothing).
* ``burden_alerts``: one row per threshold crossing (enterprise, period) in a county; read by the county's
  departments and its overseer, inserted by the department whose visit crossed it.
* ``county_enterprise_settings``: thresholds, the optional cool-down and the 信用修复 guidance of a county, written
  by operators (``spotcheck county-enterprise``).
* ``county_cooldown_months()`` / ``county_recently_checked(since)``: SECURITY DEFINER, for the draw's cool-down:
  the caller's county's months, and the USCCs checked since ``since`` by any department of the caller's county (its
  registries' last check dates and the register's dated visits).
* ``public_draws.exclusions``: what the announcement states it excluded before the list was frozen.

Revision ID: 0060
Revises: 0059
"""

from alembic import op

from migrations.rls import RUNTIME_ROLE, enable_tenant_rls, grant

revision = "0060"
down_revision = "0059"
branch_labels = None
depends_on = None

KINDS = "('随机抽查', '部门联合', '投诉举报', '转办交办', '其他')"
MY_REGION = "(SELECT d.region_code FROM departments d WHERE d.id = (SELECT app_tenant()))"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE visits (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            code varchar(16) NOT NULL UNIQUE,
            kind text NOT NULL CHECK (kind IN {KINDS}),
            task_id uuid,
            uscc varchar(18) NOT NULL,
            enterprise_name text NOT NULL,
            reason text NOT NULL DEFAULT '',
            legal_basis text NOT NULL DEFAULT '',
            window_start date NOT NULL,
            window_end date NOT NULL,
            visit_date date,
            status text NOT NULL DEFAULT '有效' CHECK (status IN ('有效', '已取消')),
            cancel_reason text,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, id),
            UNIQUE (task_id, uscc),
            CHECK (window_start <= window_end),
            CHECK (task_id IS NOT NULL OR reason <> '')
        )
        """
    )
    op.execute("CREATE INDEX ix_visits_tenant ON visits(tenant_id, created_at DESC)")
    enable_tenant_rls("visits", privileges="SELECT, INSERT, UPDATE")

    op.execute(
        f"""
        CREATE TABLE public_visits (
            code varchar(16) PRIMARY KEY,
            visit_id uuid NOT NULL UNIQUE,
            department_id uuid NOT NULL REFERENCES departments(id),
            region_code varchar(12) NOT NULL,
            task_id uuid,
            uscc varchar(18) NOT NULL,
            kind text NOT NULL CHECK (kind IN {KINDS}),
            window_start date NOT NULL,
            window_end date NOT NULL,
            visit_date date,
            status text NOT NULL CHECK (status IN ('有效', '已取消')),
            secret_hash char(64) NOT NULL,
            card jsonb NOT NULL,
            evaluated_at timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_public_visits_enterprise ON public_visits(region_code, uscc, visit_date)")
    op.execute("CREATE INDEX ix_public_visits_task ON public_visits(task_id, uscc)")
    grant("public_visits", "SELECT, INSERT, UPDATE")

    op.execute(
        """
        CREATE TABLE visit_evaluations (
            id uuid PRIMARY KEY,
            code varchar(16) NOT NULL UNIQUE REFERENCES public_visits(code),
            region_code varchar(12) NOT NULL,
            department_id uuid NOT NULL REFERENCES departments(id),
            team text NOT NULL,
            conduct smallint NOT NULL CHECK (conduct BETWEEN 1 AND 5),
            credentials_shown boolean NOT NULL,
            burden smallint NOT NULL CHECK (burden BETWEEN 1 AND 5),
            improper boolean NOT NULL,
            comment text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("ALTER TABLE visit_evaluations ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE visit_evaluations FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY overseer_read ON visit_evaluations FOR SELECT"
        " USING (region_code = (SELECT app_overseer_region()))"
    )
    # Anonymous only: a request with a department (or overseer) scope can never write one.
    op.execute(
        "CREATE POLICY anonymous_insert ON visit_evaluations FOR INSERT"
        " WITH CHECK ((SELECT app_tenant()) IS NULL AND (SELECT app_overseer_region()) IS NULL)"
    )
    grant("visit_evaluations", "SELECT, INSERT")

    op.execute(
        """
        CREATE TABLE burden_alerts (
            id uuid PRIMARY KEY,
            region_code varchar(12) NOT NULL,
            uscc varchar(18) NOT NULL,
            enterprise_name text NOT NULL,
            period text NOT NULL CHECK (period IN ('日', '周', '月')),
            period_start date NOT NULL,
            visits int NOT NULL,
            threshold int NOT NULL,
            raised_by uuid NOT NULL REFERENCES departments(id),
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (region_code, uscc, period, period_start)
        )
        """
    )
    op.execute("ALTER TABLE burden_alerts ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE burden_alerts FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY county_read ON burden_alerts FOR SELECT"
        f" USING (region_code = (SELECT app_overseer_region()) OR region_code = {MY_REGION})"
    )
    op.execute(
        "CREATE POLICY county_insert ON burden_alerts FOR INSERT"
        f" WITH CHECK (region_code = {MY_REGION} AND raised_by = (SELECT app_tenant()))"
    )
    grant("burden_alerts", "SELECT, INSERT")

    op.execute(
        """
        CREATE TABLE county_enterprise_settings (
            region_code varchar(12) PRIMARY KEY REFERENCES regions(code),
            day_limit int NOT NULL DEFAULT 1 CHECK (day_limit > 0),
            week_limit int NOT NULL DEFAULT 2 CHECK (week_limit > 0),
            month_limit int NOT NULL DEFAULT 3 CHECK (month_limit > 0),
            cooldown_months int CHECK (cooldown_months BETWEEN 1 AND 36),
            repair_office text NOT NULL DEFAULT '',
            repair_steps text NOT NULL DEFAULT '',
            repair_contact text NOT NULL DEFAULT '',
            supervision_phone text NOT NULL DEFAULT '',
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    grant("county_enterprise_settings", "SELECT")

    op.execute(
        """
        CREATE FUNCTION county_cooldown_months() RETURNS int
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT s.cooldown_months FROM county_enterprise_settings s JOIN departments d
            ON d.region_code = s.region_code WHERE d.id = app_tenant()
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION county_recently_checked(since date) RETURNS TABLE (uscc varchar)
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            my_region text;
            previous text := coalesce(current_setting('app.overseer_region', true), '');
        BEGIN
            SELECT d.region_code INTO my_region FROM departments d WHERE d.id = app_tenant();
            IF my_region IS NULL THEN
                RETURN;
            END IF;
            -- registry_objects is under forced RLS even for this function's owner: read it as the county's overseer.
            PERFORM set_config('app.overseer_region', my_region, true);
            RETURN QUERY
                SELECT o.uscc::varchar FROM registry_objects o JOIN departments d ON d.id = o.tenant_id
                WHERE d.region_code = my_region AND o.last_checked_on >= since
                UNION
                SELECT v.uscc::varchar FROM public_visits v
                WHERE v.region_code = my_region AND v.status = '有效' AND v.visit_date >= since
                AND v.visit_date <= current_date;
            PERFORM set_config('app.overseer_region', previous, true);
        END $$
        """
    )
    for function in ("county_cooldown_months()", "county_recently_checked(date)"):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {RUNTIME_ROLE}")

    op.execute("ALTER TABLE public_draws ADD COLUMN exclusions jsonb NOT NULL DEFAULT '{}'::jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE public_draws DROP COLUMN IF EXISTS exclusions")
    op.execute("DROP FUNCTION IF EXISTS county_recently_checked(date)")
    op.execute("DROP FUNCTION IF EXISTS county_cooldown_months()")
    for table in (
        "county_enterprise_settings",
        "burden_alerts",
        "visit_evaluations",
        "public_visits",
        "visits",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
