"""Benchmark: GeoPackage and CSV export of a national-size coproff.coproff millésime.

    COPROFF_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coproff_ops \\
        .venv/bin/python benchmarks/exports.py --from-millesime 2023 --rows 910000

Needs a database where `--from-millesime` is built (e.g. after `make run`). Its coproff.coproff rows
are repeated (new idcopro per copy, same width and geometries) into millésime 1900 up to `--rows`,
recorded as published, exported with the same functions as the export assets, then removed.
Prints time, rows/s, file sizes, and peak RSS of this process and of ogr2ogr.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from coproff_platform.config import database_url
import coproff_platform.exports as exports
from coproff_platform.exports import export_csv, export_gpkg
from coproff_platform.resources.postgis import PostGISResource

BENCH_MILLESIME = 1900


def fill(db: PostGISResource, source: int, rows: int) -> int:
    with db.engine.connect() as conn:
        base = conn.execute(sa.text("select count(*) from coproff.coproff where millesime = :m"), {"m": source}).scalar()
        columns = conn.execute(sa.text(
            "select attname from pg_attribute where attrelid = 'coproff.coproff'::regclass and attnum > 0 "
            "and not attisdropped order by attnum")).scalars().all()
    if not base:
        raise SystemExit(f"coproff.coproff holds no row for millésime {source}: build it first")
    copies = -(-rows // base)
    select = ", ".join(
        f"{BENCH_MILLESIME}::smallint" if c == "millesime" else "c.idcopro || '_' || g" if c == "idcopro" else f"c.{c}"
        for c in columns
    )
    with db.replace_millesime("coproff.coproff", BENCH_MILLESIME) as swap:
        swap.conn.execute(sa.text(
            f"insert into {swap.table} ({', '.join(columns)}) select {select} "
            f"from coproff.coproff c cross join generate_series(1, {copies}) g "
            f"where c.millesime = {int(source)} limit {int(rows)}"))
    with db.engine.begin() as conn:
        n = conn.execute(sa.text("select count(*) from coproff.coproff where millesime = :m"), {"m": BENCH_MILLESIME}).scalar()
        conn.execute(sa.text(
            "insert into coproff.millesimes (millesime, published_at, row_counts) "
            "values (:m, now(), jsonb_build_object('coproff', :n)) on conflict (millesime) do nothing"),
            {"m": BENCH_MILLESIME, "n": n})
    return n


def cleanup(db: PostGISResource) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text("delete from coproff.millesimes where millesime = :m"), {"m": BENCH_MILLESIME})
        conn.execute(sa.text(f"alter table coproff.coproff detach partition coproff.coproff_m{BENCH_MILLESIME}"))
        conn.execute(sa.text(f"drop table coproff.coproff_m{BENCH_MILLESIME}"))


OGR_PEAK_KB: list[int] = []
_REAL_RUN = subprocess.run


def _timed_run(cmd, **kwargs):
    """subprocess.run under /usr/bin/time, to read ogr2ogr's own peak RSS."""
    proc = _REAL_RUN(["/usr/bin/time", "-f", "maxrss_kb=%M", *cmd], **kwargs)
    found = re.findall(r"maxrss_kb=(\d+)", proc.stderr or "")
    if found:
        OGR_PEAK_KB.append(int(found[-1]))
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-millesime", type=int, default=2023)
    parser.add_argument("--rows", type=int, default=910_000)
    args = parser.parse_args()
    url = database_url()
    exports.subprocess.run = _timed_run  # patched in this benchmark's process only
    db = PostGISResource(database_url=url)
    started = time.monotonic()
    n = fill(db, args.from_millesime, args.rows)
    print(f"prepared {n:,} rows in {time.monotonic() - started:.1f} s")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            for name, run in (
                ("gpkg", lambda: export_gpkg(db.engine, url, BENCH_MILLESIME, out)),
                ("csv", lambda: export_csv(db.engine, BENCH_MILLESIME, out)),
            ):
                t0 = time.monotonic()
                f = run()
                dt = time.monotonic() - t0
                print(f"{name:<5} {f.rows:>9,} rows  {dt:6.1f} s  {f.rows / dt:>9,.0f} rows/s  {f.bytes / 1e6:7.1f} MB")
    finally:
        cleanup(db)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ogr = f"{max(OGR_PEAK_KB) / 1024:.0f} MB" if OGR_PEAK_KB else "not measured"
    print(f"peak RSS: this process {own:.0f} MB (CSV streamed by COPY), ogr2ogr {ogr}")


if __name__ == "__main__":
    main()
