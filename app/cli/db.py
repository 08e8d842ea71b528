"""`digits db`: the shared database (DIGITS_DATABASE_URL): apply its migrations, or check it."""

from __future__ import annotations

import sys

from app.cli.common import add_command


def add_parser(sub) -> None:
    p = add_command(
        sub,
        "db",
        "the shared database (DIGITS_DATABASE_URL): apply its migrations, or check it",
        "migrate: apply the schema migrations this release has and the database lacks (servers "
        "also do it at start-up, under the same lock). check: connect, compare the schema "
        "version, count each table's rows; exit 1 if anything is wrong.",
    )
    p.add_argument("action", choices=["migrate", "check"], help="what to do")
    p.set_defaults(run=run)


def run(args) -> int:
    import psycopg

    from app.config import get_settings
    from app.db import DatabaseError
    from app.stores import open_stores

    settings = get_settings()
    if settings.database_url is None:
        print(
            f"digits: DIGITS_DATABASE_URL is not set: the state is in the data home "
            f"({settings.home}), and there is no database to {args.action}",
            file=sys.stderr,
        )
        return 2
    stores = open_stores(settings, name="digits-cli", pool_size=1)
    try:
        return _migrate(stores.database) if args.action == "migrate" else _check(stores.database)
    except psycopg.Error as e:  # reachable, and refused: said in a line, not a traceback
        detail = (str(e).strip().splitlines() or [type(e).__name__])[0]
        if isinstance(e, psycopg.errors.InsufficientPrivilege):
            detail += (
                "; the role in DIGITS_DATABASE_URL must own its database (as the postgres "
                "user: CREATE ROLE digits LOGIN PASSWORD '…'; CREATE DATABASE digits OWNER digits)"
            )
        raise DatabaseError(f"the database refused to {args.action}: {detail}") from None
    finally:
        stores.close()


def _migrate(database) -> int:
    from app.db.schema import migrate

    before, after = migrate(database)
    if before == after:
        print(f"schema at version {after}; nothing to apply")
    else:
        print(f"schema migrated from version {before} to {after}")
    return 0


def _check(database) -> int:
    from app.db.schema import SCHEMA_VERSION, check

    lines = check(database)
    for what, ok, detail in lines:
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {detail}")
    healthy = all(ok for _, ok, _ in lines) and len(lines) > 2
    print(f"this release expects schema version {SCHEMA_VERSION}")
    return 0 if healthy else 1
