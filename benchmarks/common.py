"""What the benchmark scripts share: a PostgreSQL server, a seeded template, copies of it."""

from __future__ import annotations

import psycopg
from psycopg import conninfo


def db_url(admin: str, name: str) -> str:
    return conninfo.make_conninfo(admin, dbname=name)


def db_name(url: str) -> str:
    """The database's name alone, for printing: a conninfo string carries the password too."""
    return conninfo.conninfo_to_dict(url).get("dbname") or "?"


def admin_url(url: str | None) -> str:
    """A superuser URL: `url`, or the embedded PostgreSQL (started if need be)."""
    if url:
        return url
    from dbopt.embedded.postgres import EmbeddedPostgres

    EmbeddedPostgres.default().ensure_running()
    return EmbeddedPostgres.default().url("postgres")


def seeded_template(admin: str, scale: str, name: str | None = None) -> str:
    """The database `name` (default dbopt_bench_<scale>): the baseline and `scale` data, seeded on first use."""
    from dbopt.postgres.connect import PgConnector
    from dbopt.seed.clock import SeedClock
    from dbopt.seed.postgres import seed_postgres
    from dbopt.seed.scales import scale_for

    template = name or f"dbopt_bench_{scale}"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{template}"')
    if not exists:
        print(f"seeding {scale} into {template} (once) ...", flush=True)
        connector = PgConnector(db_url(admin, template))
        seed_postgres(connector, scale_for(scale), SeedClock.now(), reset_first=False,
                      progress=lambda line: print(line, flush=True))
        connector.close()
    return template


def clone(admin: str, template: str, name: str, *setup: str) -> str:
    """A fresh copy of `template` named `name`: the statements `setup` run on it, then VACUUM ANALYZE."""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = db_url(admin, name)
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in setup:
            conn.execute(statement)
        conn.execute("VACUUM ANALYZE")
    return url
