"""The database: SQLAlchemy models, engine/session, Alembic migrations, loaders, queries."""
