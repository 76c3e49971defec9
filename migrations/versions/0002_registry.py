"""一单两库: tag vocabulary, inspection item list with check points, object and inspector registries.

Child rows reference parents by (tenant_id, id): foreign-key checks bypass RLS, so a single-column key would let
one department attach rows to another department's parent.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from migrations.rls import enable_tenant_rls

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE sections ADD CONSTRAINT uq_sections_tenant_id_id UNIQUE (tenant_id, id)")

    op.execute(
        """
        CREATE TABLE tags (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            category text NOT NULL CHECK (category IN ('行业', '分类标注', '专业特长', '资质')),
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
            description text NOT NULL DEFAULT '',
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, category, name)
        )
        """
    )
    enable_tenant_rls("tags")

    op.execute(
        """
        CREATE TABLE inspection_items (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            code text NOT NULL,
            name text NOT NULL,
            category text NOT NULL CHECK (category IN ('重点', '一般')),
            item_type text NOT NULL DEFAULT '',
            object_type text NOT NULL DEFAULT '',
            check_methods text[] NOT NULL DEFAULT '{}',
            legal_basis text NOT NULL DEFAULT '',
            subject text NOT NULL DEFAULT '',
            ratio_frequency text NOT NULL DEFAULT '',
            specialties text[] NOT NULL DEFAULT '{}',
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, code),
            UNIQUE (tenant_id, id)
        )
        """
    )
    enable_tenant_rls("inspection_items")

    op.execute(
        """
        CREATE TABLE check_points (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            item_id uuid NOT NULL,
            seq int NOT NULL CHECK (seq > 0),
            content text NOT NULL,
            method text NOT NULL DEFAULT '',
            UNIQUE (item_id, seq),
            FOREIGN KEY (tenant_id, item_id) REFERENCES inspection_items(tenant_id, id) ON DELETE CASCADE
        )
        """
    )
    enable_tenant_rls("check_points")

    op.execute(
        """
        CREATE TABLE registry_objects (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            uscc varchar(18) NOT NULL CHECK (uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
            name text NOT NULL,
            address text NOT NULL DEFAULT '',
            region_code varchar(12),
            industry text NOT NULL,
            object_type text NOT NULL DEFAULT '企业',
            tags text[] NOT NULL DEFAULT '{}',
            major_hazard_level smallint CHECK (major_hazard_level BETWEEN 1 AND 4),
            direct_supervision boolean NOT NULL DEFAULT true,
            risk_class char(1) CHECK (risk_class IN ('A', 'B', 'C', 'D')),
            status text NOT NULL DEFAULT '在营' CHECK (status IN ('在营', '停业', '注销')),
            licence_no text NOT NULL DEFAULT '',
            licence_expiry date,
            last_checked_on date,
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, uscc),
            UNIQUE (tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX ix_registry_objects_scope ON registry_objects(tenant_id, industry, risk_class)")
    op.execute("CREATE INDEX ix_registry_objects_tags ON registry_objects USING gin (tags)")
    op.execute("CREATE INDEX ix_registry_objects_uscc ON registry_objects(uscc)")
    enable_tenant_rls("registry_objects")

    op.execute(
        """
        CREATE TABLE inspectors (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES departments(id),
            section_id uuid,
            name text NOT NULL,
            licence_no text NOT NULL,
            licence_expiry date,
            specialties text[] NOT NULL DEFAULT '{}',
            qualifications text[] NOT NULL DEFAULT '{}',
            is_expert boolean NOT NULL DEFAULT false,
            is_team_leader boolean NOT NULL DEFAULT false,
            active boolean NOT NULL DEFAULT true,
            user_id uuid,
            phone text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, licence_no),
            UNIQUE (tenant_id, id),
            FOREIGN KEY (tenant_id, section_id) REFERENCES sections(tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX ix_inspectors_user ON inspectors(user_id) WHERE user_id IS NOT NULL")
    enable_tenant_rls("inspectors")

    op.execute(
        """
        CREATE TABLE inspector_conflicts (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            inspector_id uuid NOT NULL,
            uscc varchar(18) NOT NULL,
            reason text NOT NULL,
            declared_on date NOT NULL DEFAULT current_date,
            UNIQUE (inspector_id, uscc),
            FOREIGN KEY (tenant_id, inspector_id) REFERENCES inspectors(tenant_id, id) ON DELETE CASCADE
        )
        """
    )
    enable_tenant_rls("inspector_conflicts")


def downgrade() -> None:
    for table in (
        "inspector_conflicts",
        "inspectors",
        "registry_objects",
        "check_points",
        "inspection_items",
        "tags",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("ALTER TABLE sections DROP CONSTRAINT IF EXISTS uq_sections_tenant_id_id")
