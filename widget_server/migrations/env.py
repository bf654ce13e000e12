"""Alembic environment for widget-server (run through Flask-Migrate)."""
from alembic import context
from flask import current_app

# No logging set up here: the app's JSON logging (ops/observability.py) is already in place, and
# `widget-server db upgrade` turns Alembic's "Running upgrade ..." lines on while it runs.
config = context.config


def include_name(name, type_, _parents):
    """Leave the search structures that are not models (models.SEARCH_TABLE) out of the comparison."""
    from widget_server.models import SEARCH_TABLE, TRIGRAM_INDEXES

    if type_ == "table":
        return not (name or "").startswith(SEARCH_TABLE)
    return not (type_ == "index" and name in TRIGRAM_INDEXES)


db = current_app.extensions["migrate"].db
engine = db.engine
target_metadata = db.metadata
config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things: batch mode rebuilds tables instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
