"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from midway.models import metadata
from midway.schema import downgrade, upgrade


def test_migrations_match_the_models(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_downgrade_then_upgrade_again(sqlite_db):
    downgrade(sqlite_db.url, "base")
    upgrade(sqlite_db.url)
    with sqlite_db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads()
