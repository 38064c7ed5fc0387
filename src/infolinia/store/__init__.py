"""Storage: SQLAlchemy models, migrations and the database handle."""
