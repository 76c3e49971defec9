"""Joint checks, part 2: one record per enterprise (一企一表), referrals (抄告/移送), joint visits, the county cap.

* **Partner parts.** A partner department enters its findings for a joint task as its *own* tenant rows of
  ``inspection_results`` keyed by the lead's task id and the USCC. So ``UNIQUE (task_id, uscc)`` becomes
  ``UNIQUE (tenant_id, task_id, uscc)``, and the composite FK to the task's own tenant is replaced by a plain FK on
  ``task_id`` plus a trigger that accepts only the department's own task or a joint task it accepted (the trigger runs
  as the caller, under RLS). A part approved by its department waits as ``已通过`` until the lead publishes the
  unified record. **No policy is added on the result tables**: a partner can never read the lead's or another
  partner's findings, in any state. The lead reads a partner's *submitted* part (待审核 / 已通过 / 已公示) in the
  federation service with ``acting_for`` after checking that it leads the task and that the partner accepted;
  drafts are excluded in that query. (An extra SELECT policy would have made every existing result query of the
  lead return two rows per enterprise for joint tasks.)
* **Unified public record.** ``public_results.departments`` lists every department with its items and findings;
  one row per enterprise per joint task (partial unique index).
* **Referrals** (``referrals``): owned by the target department (tenant_rw), written by the sender with
  ``acting_for`` after checking the target is a department of the same county; the sender reads its own referrals
  through ``sender_read`` (SELECT only).
* **Joint visits** (``joint_visits``): two departments' checks of one enterprise merged into one visit; owned by
  the proposer, the other department reads and confirms it through ``partner_rw``.
* **County cap** (``county_settings``, written by the operator CLI only) and ``county_draw_counts(year)``: a
  SECURITY DEFINER function returning, for the caller's own county only, how many live draws of that plan year
  selected each USCC — nothing else. It sets ``app.overseer_region`` to the caller's region for its one query (the
  existing ``overseer_read`` policies then show the county's draws) and restores it; it takes no region argument,
  so a department cannot count another county, and returns no names, departments, tasks or dates.

Revision ID: 0050
Revises: 0040
"""

from alembic import op

from migrations.rls import RUNTIME_ROLE, enable_tenant_rls, grant

revision = "0050"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ---- partner parts of joint results -----------------------------------------------------------------------
    op.execute("ALTER TABLE inspection_results DROP CONSTRAINT inspection_results_task_id_uscc_key")
    op.execute(
        "ALTER TABLE inspection_results ADD CONSTRAINT inspection_results_tenant_task_uscc_key"
        " UNIQUE (tenant_id, task_id, uscc)"
    )
    op.execute("ALTER TABLE inspection_results DROP CONSTRAINT inspection_results_tenant_id_task_id_fkey")
    op.execute(
        "ALTER TABLE inspection_results ADD CONSTRAINT inspection_results_task_id_fkey"
        " FOREIGN KEY (task_id) REFERENCES tasks(id)"
    )
    op.execute("ALTER TABLE inspection_results DROP CONSTRAINT inspection_results_status_check")
    op.execute(
        "ALTER TABLE inspection_results ADD CONSTRAINT inspection_results_status_check"
        " CHECK (status IN ('草稿', '待审核', '退回', '已通过', '已公示'))"
    )
    op.execute(
        """
        CREATE FUNCTION check_result_task() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (
                SELECT 1 FROM tasks t WHERE t.id = NEW.task_id AND (t.tenant_id = NEW.tenant_id OR EXISTS (
                    SELECT 1 FROM joint_participants jp WHERE jp.plan_id = t.plan_id AND jp.tenant_id = NEW.tenant_id
                    AND jp.status = '已接受'))
            ) THEN
                RAISE EXCEPTION 'task % is not a task of this department nor a joint task it accepted', NEW.task_id
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER inspection_results_task BEFORE INSERT OR UPDATE OF task_id, tenant_id"
        " ON inspection_results FOR EACH ROW EXECUTE FUNCTION check_result_task()"
    )

    op.execute("ALTER TABLE public_results ADD COLUMN departments jsonb NOT NULL DEFAULT '[]'")
    op.execute(
        "CREATE UNIQUE INDEX ux_public_results_joint ON public_results(task_id, uscc)"
        " WHERE jsonb_array_length(departments) > 0"
    )

    # ---- referrals (抄告 / 移送) ----------------------------------------------------------------------------------
    op.execute(
        """
        CREATE TABLE referrals (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            from_tenant_id uuid NOT NULL REFERENCES departments(id),
            from_department_name text NOT NULL,
            to_department_name text NOT NULL,
            result_id uuid NOT NULL,
            followup_id uuid NOT NULL,
            task_id uuid NOT NULL REFERENCES tasks(id),
            uscc varchar(18) NOT NULL,
            enterprise_name text NOT NULL,
            action text NOT NULL CHECK (action IN ('抄告相关部门', '移送办案机构')),
            evidence text NOT NULL,
            attachments jsonb NOT NULL DEFAULT '[]',
            status text NOT NULL DEFAULT '待受理' CHECK (status IN ('待受理', '已受理', '处理中', '已办结')),
            history jsonb NOT NULL DEFAULT '[]',
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (followup_id, tenant_id),
            CHECK (tenant_id <> from_tenant_id),
            FOREIGN KEY (from_tenant_id, result_id) REFERENCES inspection_results(tenant_id, id)
        )
        """
    )
    enable_tenant_rls("referrals", privileges="SELECT, INSERT, UPDATE")
    op.execute("CREATE POLICY sender_read ON referrals FOR SELECT USING (from_tenant_id = app_tenant())")

    # ---- joint visits (fewer visits) -------------------------------------------------------------------------
    op.execute(
        """
        CREATE TABLE joint_visits (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            task_id uuid NOT NULL REFERENCES tasks(id),
            partner_tenant_id uuid NOT NULL REFERENCES departments(id),
            partner_task_id uuid NOT NULL REFERENCES tasks(id),
            uscc varchar(18) NOT NULL,
            visit_date date NOT NULL,
            status text NOT NULL DEFAULT '待确认' CHECK (status IN ('待确认', '已确认')),
            proposed_by text NOT NULL,
            confirmed_by text,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (task_id, partner_task_id, uscc),
            CHECK (tenant_id <> partner_tenant_id)
        )
        """
    )
    enable_tenant_rls("joint_visits", privileges="SELECT, INSERT, UPDATE")
    op.execute(
        "CREATE POLICY partner_rw ON joint_visits USING (partner_tenant_id = app_tenant())"
        " WITH CHECK (partner_tenant_id = app_tenant())"
    )

    # ---- the county's per-enterprise annual cap ---------------------------------------------------------------
    op.execute(
        """
        CREATE TABLE county_settings (
            region_code varchar(12) PRIMARY KEY REFERENCES regions(code),
            annual_cap int CHECK (annual_cap IS NULL OR annual_cap > 0),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    grant("county_settings", "SELECT")
    op.execute(
        """
        CREATE FUNCTION county_draw_counts(plan_year int) RETURNS TABLE (uscc varchar, draws bigint)
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            my_region text;
            previous text := coalesce(current_setting('app.overseer_region', true), '');
        BEGIN
            SELECT d.region_code INTO my_region FROM departments d WHERE d.id = app_tenant();
            IF my_region IS NULL THEN
                RETURN;
            END IF;
            PERFORM set_config('app.overseer_region', my_region, true);
            RETURN QUERY
                SELECT s.uscc::varchar, count(*) FROM draw_selected s JOIN draws dr ON dr.id = s.draw_id
                JOIN tasks t ON t.id = dr.task_id JOIN plans p ON p.id = t.plan_id
                JOIN departments dep ON dep.id = dr.tenant_id
                WHERE dep.region_code = my_region AND dr.status = '已抽取' AND p.year = plan_year
                GROUP BY s.uscc;
            PERFORM set_config('app.overseer_region', previous, true);
        END $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION county_draw_counts(int) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION county_draw_counts(int) TO {RUNTIME_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS county_draw_counts(int)")
    for table in ("county_settings", "joint_visits", "referrals"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("DROP INDEX IF EXISTS ux_public_results_joint")
    op.execute("ALTER TABLE public_results DROP COLUMN IF EXISTS departments")
    op.execute("DROP TRIGGER IF EXISTS inspection_results_task ON inspection_results")
    op.execute("DROP FUNCTION IF EXISTS check_result_task()")
    op.execute("ALTER TABLE inspection_results DROP CONSTRAINT inspection_results_status_check")
    op.execute(
        "ALTER TABLE inspection_results ADD CONSTRAINT inspection_results_status_check"
        " CHECK (status IN ('草稿', '待审核', '退回', '已公示'))"
    )
    op.execute("ALTER TABLE inspection_results DROP CONSTRAINT inspection_results_task_id_fkey")
    op.execute(
        "ALTER TABLE inspection_results ADD CONSTRAINT inspection_results_tenant_id_task_id_fkey"
        " FOREIGN KEY (tenant_id, task_id) REFERENCES tasks(tenant_id, id)"
    )
    op.execute("ALTER TABLE inspection_results DROP CONSTRAINT inspection_results_tenant_task_uscc_key")
    op.execute(
        "ALTER TABLE inspection_results ADD CONSTRAINT inspection_results_task_id_uscc_key"
        " UNIQUE (task_id, uscc)"
    )
