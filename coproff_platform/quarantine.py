"""`coproff quarantine`: the rows set aside at loading, read from `quality.quarantine`.

One line per (source, reason, field) with its count, then a few examples (file, line, detail) per
reason: enough to know what to fix in which file without reading the Dagster log.
"""

from __future__ import annotations

import argparse

import sqlalchemy as sa

from coproff_platform.config import database_url


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--millesime", required=True, help="millésime, e.g. 2023")
    parser.add_argument("--source", help="only this source (rnic, ff_parcelle, ff_tup, dpe, dvf, dv3f, lovac, ...)")
    parser.add_argument("--examples", type=int, default=3, help="examples per reason (default 3)")


def quarantine_summary(engine: sa.Engine, millesime: int, source: str | None = None, examples: int = 3):
    """[(source, reason, field, count, [(file, line, detail)])] ordered by source then count."""
    where = "millesime = :m" + (" and source = :s" if source else "")
    params = {"m": millesime, "s": source, "k": examples}
    with engine.connect() as conn:
        if conn.execute(sa.text("select to_regclass('quality.quarantine')")).scalar() is None:
            return []
        groups = conn.execute(sa.text(
            f"select source, reason, coalesce(field, '') as field, count(*) as n from quality.quarantine "
            f"where {where} group by 1, 2, 3 order by 1, 4 desc, 2, 3"), params).all()
        samples = conn.execute(sa.text(
            f"""select source, reason, coalesce(field, '') as field, source_file, source_line, detail
                from (select q.*, row_number() over (partition by source, reason, coalesce(field, '')
                                                     order by source_file, source_line) as rank
                      from quality.quarantine q where {where}) ranked
                where rank <= :k order by source_file, source_line"""), params).all()
    by_group: dict[tuple, list] = {}
    for s in samples:
        by_group.setdefault((s.source, s.reason, s.field), []).append((s.source_file, s.source_line, s.detail))
    return [(g.source, g.reason, g.field, int(g.n), by_group.get((g.source, g.reason, g.field), [])) for g in groups]


def run(args: argparse.Namespace) -> int:
    from coproff_platform.cli import EXIT_USAGE, CommandError
    from coproff_platform.partitions import millesime_problem

    if millesime_problem(args.millesime):
        raise CommandError(EXIT_USAGE, f"coproff quarantine: {millesime_problem(args.millesime)}")
    millesime = int(args.millesime)
    engine = sa.create_engine(database_url(), connect_args={"connect_timeout": 5})
    try:
        groups = quarantine_summary(engine, millesime, args.source, args.examples)
        with engine.connect() as conn:
            loaded = {}
            if conn.execute(sa.text("select to_regclass('quality.load_log')")).scalar() is not None:
                loaded = {r.source: (int(r.read), int(r.quarantined)) for r in conn.execute(sa.text(
                    "select source, sum(rows_read) as read, sum(rows_quarantined) as quarantined "
                    "from quality.load_log where millesime = :m group by source"), {"m": millesime})}
    finally:
        engine.dispose()
    scope = f"millésime {millesime}" + (f", source {args.source}" if args.source else "")
    if not groups:
        print(f"{scope}: no row in quarantine" + ("" if loaded else " (nothing loaded yet for this millésime)"))
        return 0
    total = sum(g[3] for g in groups)
    print(f"{scope}: {total:,} rows in quarantine (quality.quarantine)")
    current = None
    for source, reason, fld, count, samples in groups:
        if source != current:
            current = source
            read, quarantined = loaded.get(source, (None, None))
            print(f"\n{source}" + (f"  ({quarantined:,} of {read:,} rows read)" if read is not None else ""))
        print(f"  {count:>8,}  {reason}" + (f"  field {fld}" if fld else ""))
        for file, line, detail in samples:
            print(f"            {file}:{line}  {detail or ''}".rstrip())
    return 0
