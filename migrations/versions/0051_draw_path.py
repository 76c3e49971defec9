"""The draw path: store a draw's frozen list once, and evaluate the tenant policies of its big tables once per query.

* **One copy of the frozen list.** Publishing a draw used to copy the whole canonical list (22 MB at 1,000,000
  entries) from ``draws`` into ``public_draws.eligible_list``. New draws leave that column NULL;
  ``public_eligible_list(draw)`` returns the list of a draw that has been drawn (its seed is published), and NULL
  before the draw — exactly when the copy used to exist. It is SECURITY DEFINER because the public path has no tenant
  scope and ``draws`` is under forced RLS: it looks up the drawing department in the public register, sets
  ``app.tenant_id`` to it for its one query (the existing ``tenant_rw`` policy then shows that draw) and restores the
  previous value. It takes only a draw id and returns only the list, which the proof file publishes anyway. Rows
  published before this migration keep their copy.
* **Policies evaluated once per query.** ``tenant_id = app_tenant()`` in a policy is evaluated for every row a scan
  reads (``current_setting`` and a uuid parse each time): it made a 1,000,000-row registry scan about five times
  slower than the same scan without RLS. Written ``tenant_id = (SELECT app_tenant())`` it becomes an InitPlan,
  computed once per query, with the same meaning. Changed here for the tables a draw scans or fills in bulk
  (``registry_objects``, ``draw_selected``); the policies keep their names, commands and roles.
* **The draw → result reference checked once per statement.** The foreign key from ``draw_selected`` to ``draws``
  ran one lookup per inserted row (a third of the cost of saving 770,000 drawn enterprises). A statement-level
  trigger over the inserted (or updated) rows now checks each distinct (department, draw) once and takes the same
  ``FOR KEY SHARE`` lock on the draw; deleting a draw still deletes its result and changing a draw's key while it
  has one is still refused, as the foreign key did (no code path deletes or re-keys draws).
* **The published result as ``json``.** ``public_draws.selected`` (USCCs per stratum) and ``selected_objects`` (the
  public list of drawn enterprises with their names) are written once and only ever read whole; as ``jsonb`` each
  draw paid for building the binary form of 77,000 objects at 1,000,000 entries (ten times that at province
  scale). ``json`` stores the text after validating it, and reads back as the same values.

Revision ID: 0051
Revises: 0050
"""

from alembic import op

from migrations.rls import RUNTIME_ROLE

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None


TENANT = "tenant_id = (SELECT app_tenant())"
OVERSEER = (
    "(SELECT app_overseer_region()) IS NOT NULL AND tenant_id IN "
    "(SELECT d.id FROM departments d WHERE d.region_code = (SELECT app_overseer_region()))"
)
PER_ROW_TENANT = "tenant_id = app_tenant()"
PER_ROW_OVERSEER = (
    "app_overseer_region() IS NOT NULL AND tenant_id IN "
    "(SELECT d.id FROM departments d WHERE d.region_code = app_overseer_region())"
)
TABLES = ("registry_objects", "draw_selected")


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION public_eligible_list(draw uuid) RETURNS bytea
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            owner uuid;
            list bytea;
            previous text := coalesce(current_setting('app.tenant_id', true), '');
        BEGIN
            SELECT d.id INTO owner FROM public_draws p JOIN departments d ON d.code = p.department_code
                WHERE p.draw_id = draw AND p.seed IS NOT NULL;
            IF owner IS NULL THEN
                RETURN NULL;
            END IF;
            PERFORM set_config('app.tenant_id', owner::text, true);
            SELECT l.eligible_list INTO list FROM draws l
                WHERE l.id = draw AND l.tenant_id = owner AND l.seed IS NOT NULL;
            PERFORM set_config('app.tenant_id', previous, true);
            RETURN list;
        END $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION public_eligible_list(uuid) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION public_eligible_list(uuid) TO {RUNTIME_ROLE}")
    for table in TABLES:
        op.execute(f"ALTER POLICY tenant_rw ON {table} USING ({TENANT}) WITH CHECK ({TENANT})")
        op.execute(f"ALTER POLICY overseer_read ON {table} USING ({OVERSEER})")
    _result_columns("json")
    op.execute("ALTER TABLE draw_selected DROP CONSTRAINT draw_selected_tenant_id_draw_id_fkey")
    op.execute(
        """
        CREATE FUNCTION draw_selected_draw_exists() RETURNS trigger
        LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
        DECLARE
            pairs bigint;
            found_draws bigint;
        BEGIN
            WITH referenced AS (SELECT DISTINCT tenant_id, draw_id FROM new_rows),
                 locked AS (SELECT d.id FROM draws d JOIN referenced r ON d.tenant_id = r.tenant_id AND d.id = r.draw_id
                            FOR KEY SHARE OF d)
            SELECT (SELECT count(*) FROM referenced), (SELECT count(*) FROM locked) INTO pairs, found_draws;
            IF found_draws < pairs THEN
                RAISE foreign_key_violation USING
                    MESSAGE = 'draw_selected: a row references a draw that is not a draw of its department',
                    TABLE = 'draw_selected';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER draw_selected_draw_exists_{event.lower()} AFTER {event} ON draw_selected"
            " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION draw_selected_draw_exists()"
        )
    op.execute(
        """
        CREATE FUNCTION draws_keep_selected() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                DELETE FROM draw_selected WHERE tenant_id = OLD.tenant_id AND draw_id = OLD.id;
                RETURN OLD;
            END IF;
            IF NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id THEN
                RETURN NEW;
            END IF;
            IF EXISTS (SELECT 1 FROM draw_selected WHERE tenant_id = OLD.tenant_id AND draw_id = OLD.id) THEN
                RAISE foreign_key_violation USING
                    MESSAGE = 'draws: the draw has a result in draw_selected, its key cannot change', TABLE = 'draws';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER draws_keep_selected BEFORE DELETE OR UPDATE OF id, tenant_id ON draws FOR EACH ROW"
        " EXECUTE FUNCTION draws_keep_selected()"
    )


def _result_columns(kind: str) -> None:
    op.execute(
        f"ALTER TABLE public_draws ALTER COLUMN selected_objects DROP DEFAULT,"
        f" ALTER COLUMN selected TYPE {kind} USING selected::{kind},"
        f" ALTER COLUMN selected_objects TYPE {kind} USING selected_objects::{kind}"
    )
    op.execute(f"ALTER TABLE public_draws ALTER COLUMN selected_objects SET DEFAULT '[]'::{kind}")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS draws_keep_selected ON draws")
    op.execute("DROP FUNCTION IF EXISTS draws_keep_selected()")
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS draw_selected_draw_exists_{event} ON draw_selected")
    op.execute("DROP FUNCTION IF EXISTS draw_selected_draw_exists()")
    op.execute(
        "ALTER TABLE draw_selected ADD CONSTRAINT draw_selected_tenant_id_draw_id_fkey"
        " FOREIGN KEY (tenant_id, draw_id) REFERENCES draws(tenant_id, id) ON DELETE CASCADE"
    )
    _result_columns("jsonb")
    for table in TABLES:
        op.execute(
            f"ALTER POLICY tenant_rw ON {table} USING ({PER_ROW_TENANT}) WITH CHECK ({PER_ROW_TENANT})"
        )
        op.execute(f"ALTER POLICY overseer_read ON {table} USING ({PER_ROW_OVERSEER})")
    # Put the copies back so that the previous code finds every published list where it expects it.
    op.execute(
        "UPDATE public_draws SET eligible_list = public_eligible_list(draw_id)"
        " WHERE eligible_list IS NULL AND seed IS NOT NULL"
    )
    op.execute("DROP FUNCTION IF EXISTS public_eligible_list(uuid)")
