"""`coproff millesime list|remove`: the registered millésimes (Dagster dynamic partitions).

`remove` deletes a partition registered by mistake (a typo, a key from before keys were
validated); it refuses a millésime that has published data in `coproff.millesimes` or rows in a
`coproff` table, since that would orphan what readers see.
"""

from __future__ import annotations

import argparse

import sqlalchemy as sa

from coproff_platform.config import database_url


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("list", help="registered millésimes, invalid keys flagged")
    remove = sub.add_parser("remove", help="unregister a millésime that holds no published data")
    remove.add_argument("key", help="the partition key exactly as registered (quote it if it has spaces)")


def published_data(engine: sa.Engine, key: str) -> list[str]:
    """Where the millésime `key` has published data: coproff.millesimes, coproff tables with its rows."""
    if not key.isascii() or not key.isdigit() or not -32768 <= int(key) <= 32767:
        return []  # cannot be a smallint millésime column value: no data can hold it
    found = []
    m = int(key)
    with engine.connect() as conn:
        if conn.execute(sa.text("select to_regclass('coproff.millesimes')")).scalar() is not None:
            if conn.execute(sa.text("select 1 from coproff.millesimes where millesime = :m"), {"m": m}).first():
                found.append("coproff.millesimes")
        tables = conn.execute(sa.text(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "join pg_attribute a on a.attrelid = c.oid and a.attname = 'millesime' "
            "where n.nspname = 'coproff' and c.relkind in ('r', 'p') and not c.relispartition "
            "and c.relname <> 'millesimes' order by 1")).scalars().all()
        for t in tables:
            if conn.execute(sa.text(f'select 1 from coproff."{t}" where millesime = :m limit 1'), {"m": m}).first():
                found.append(f"coproff.{t}")
    return found


def run(args: argparse.Namespace) -> int:
    from coproff_platform.cli import EXIT_NOT_FOUND, EXIT_USAGE, CommandError
    from coproff_platform.partitions import millesime_partitions, millesime_problem
    from coproff_platform.runner import get_instance

    instance = get_instance()
    keys = sorted(instance.get_dynamic_partitions(millesime_partitions.name))
    if args.action == "list":
        for k in keys:
            problem = millesime_problem(k)
            print(f"{k}" if not problem else f"{k!r}  INVALID: {problem}")
        if not keys:
            print("no millésime registered")
        return 0
    key = args.key
    if key not in keys:
        raise CommandError(EXIT_NOT_FOUND, f"coproff millesime remove: {key!r} is not registered",
                           f"  registered: {', '.join(repr(k) for k in keys) or 'none'}")
    engine = sa.create_engine(database_url(), connect_args={"connect_timeout": 5})
    try:
        holders = published_data(engine, key)
    finally:
        engine.dispose()
    if holders:
        raise CommandError(
            EXIT_USAGE,
            f"coproff millesime remove: millésime {key} holds published data ({', '.join(holders)}): not removed",
            "  what to do: a published millésime stays registered; rebuild it rather than remove it",
        )
    instance.delete_dynamic_partition(millesime_partitions.name, key)
    print(f"removed millésime {key!r} from the registered partitions" + (" (it was not a valid millésime key)" if millesime_problem(key) else ""))
    return 0
