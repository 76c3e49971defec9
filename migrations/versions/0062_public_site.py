"""The public site's filters, statistics and enterprise page (issue #18).

Planning publishes three read-only functions over its public draw register, for the public read path of disclosure
(the owner publishes them, so that disclosure never names ``public_draws``; see "Reads across owners" in
docs/architecture.md). They return only what the draw pages already show:

* ``public_drawn_checks(uscc)``: the draws (drawn, not voided) whose published result names the enterprise (with
  its name as the draw's public list gives it), newest first, through a GIN index over the USCCs of each published result (``public_draw_usccs``);
* ``public_drawn_counts(from, to)``: per department, the draws drawn in the period and the enterprises they drew;
* ``public_draw_of_task(task)``: the task's current public draw (announced, drawn or voided).

Disclosure adds a GIN index over ``public_results.categories`` for the result-category filter (the department filter
uses ``ix_public_results_dept``, the year filter the publication-time index).

Revision ID: 0062
Revises: 0061
"""

from alembic import op

from migrations.rls import RUNTIME_ROLE

revision = "0062"
down_revision = "0061"
branch_labels = None
depends_on = None

FUNCTIONS = (
    "public_drawn_checks(text)",
    "public_drawn_counts(timestamptz, timestamptz)",
    "public_draw_of_task(uuid)",
)


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION public_draw_usccs(selected json) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce(array_agg(u.value), '{}') FROM json_each(selected) s, json_array_elements_text(s.value) u
        $$
        """
    )
    op.execute(
        "CREATE INDEX ix_public_draws_usccs ON public_draws USING gin (public_draw_usccs(selected))"
        " WHERE status = '已抽取'"
    )
    op.execute(
        """
        CREATE FUNCTION public_drawn_checks(enterprise text) RETURNS TABLE (
            draw_id uuid, task_id uuid, department_name text, plan_number text, plan_name text, task_number text,
            task_name text, drawn_at timestamptz, departments jsonb, enterprise_name text)
        LANGUAGE sql STABLE AS $$
            SELECT p.draw_id, p.task_id, p.department_name, p.plan_number, p.plan_name, p.task_number, p.task_name,
                   p.drawn_at, p.departments,
                   (SELECT o ->> 'name' FROM json_array_elements(p.selected_objects) o
                    WHERE o ->> 'uscc' = enterprise LIMIT 1)
            FROM public_draws p
            WHERE p.status = '已抽取' AND public_draw_usccs(p.selected) @> ARRAY[enterprise]
            ORDER BY p.drawn_at DESC LIMIT 200
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION public_drawn_counts(date_from timestamptz, date_to timestamptz) RETURNS TABLE (
            department_code text, department_name text, draws int, drawn int)
        LANGUAGE sql STABLE AS $$
            SELECT p.department_code, max(p.department_name), count(*)::int, coalesce(sum(p.selected_count), 0)::int
            FROM public_draws p
            WHERE p.status = '已抽取' AND p.drawn_at >= date_from AND p.drawn_at < date_to
            GROUP BY p.department_code
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION public_draw_of_task(task uuid) RETURNS TABLE (
            draw_id uuid, task_id uuid, department_name text, plan_number text, plan_name text, task_number text,
            task_name text, status text, drawn_at timestamptz, selected_count int)
        LANGUAGE sql STABLE AS $$
            SELECT p.draw_id, p.task_id, p.department_name, p.plan_number, p.plan_name, p.task_number, p.task_name,
                   p.status, p.drawn_at, p.selected_count
            FROM public_draws p WHERE p.task_id = task ORDER BY p.announced_at DESC LIMIT 1
        $$
        """
    )
    for signature in (*FUNCTIONS, "public_draw_usccs(json)"):
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {RUNTIME_ROLE}")
    op.execute("CREATE INDEX ix_public_results_categories ON public_results USING gin (categories)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_public_results_categories")
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute("DROP INDEX IF EXISTS ix_public_draws_usccs")
    op.execute("DROP FUNCTION IF EXISTS public_draw_usccs(json)")
