"""Kaapi's API surface and key hygiene: version UUIDs, soft deletes, credentials, key use.

Revision ID: 0009_api_surface
Revises: 0008_day_figures

- `config_versions.public_id` (the version's UUID, Kaapi's `id`), `updated_at` and
  `deleted_at`; `configs.deleted_at` — configs and versions are deleted softly, since
  runs keep naming them. Existing versions get a UUID and `updated_at = created_at`.
- `evaluation_datasets.langfuse_dataset_id` (filled by the Langfuse export).
- `api_keys.last_used_at`, for `lse admin list-keys`.
- `provider_credentials`: each project's own provider keys, encrypted.

Only columns are added and tables created: no table is rebuilt.
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0009_api_surface"
down_revision = "0008_day_figures"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("config_versions", sa.Column("public_id", sa.String(36), nullable=True))
    op.add_column("config_versions", sa.Column("updated_at", Timestamp, nullable=True))
    op.add_column("config_versions", sa.Column("deleted_at", Timestamp, nullable=True))
    op.add_column("configs", sa.Column("deleted_at", Timestamp, nullable=True))
    op.add_column("evaluation_datasets", sa.Column("langfuse_dataset_id", sa.String(255), nullable=True))
    op.add_column("api_keys", sa.Column("last_used_at", Timestamp, nullable=True))
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM config_versions WHERE public_id IS NULL"))]
    for version_id in ids:
        bind.execute(
            sa.text("UPDATE config_versions SET public_id = :uid, updated_at = created_at WHERE id = :id"),
            {"uid": str(uuid.uuid4()), "id": version_id},
        )
    op.create_index("uq_config_versions_public_id", "config_versions", ["public_id"], unique=True)
    op.create_table(
        "provider_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_provider_credentials_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_provider_credentials_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_credentials")),
        sa.UniqueConstraint(
            "organization_id",
            "project_id",
            "provider",
            name=op.f("uq_provider_credentials_organization_id_project_id_provider"),
        ),
    )


def downgrade() -> None:
    """Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), no table rebuilt."""
    op.drop_table("provider_credentials")
    op.drop_index("uq_config_versions_public_id", table_name="config_versions")
    op.drop_column("api_keys", "last_used_at")
    op.drop_column("evaluation_datasets", "langfuse_dataset_id")
    op.drop_column("configs", "deleted_at")
    for column in ("deleted_at", "updated_at", "public_id"):
        op.drop_column("config_versions", column)
