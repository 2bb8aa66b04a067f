"""`coproff export`: files of a published millésime for people who do not read PostGIS.

- `coproff_<M>.gpkg`: `coproff.coproff` as a GeoPackage layer `coproff` (ogr2ogr straight from
  PostGIS; Point, EPSG:4326);
- `coproff_<M>.csv`: the same rows as CSV, the point as `longitude`/`latitude` columns;
- `<stats table>_<M>.csv`: each `coproff.stats_*` table of the millésime (COPY TO STDOUT).

Files go to `$COPROFF_EXPORT_DIR/<M>/` (default `exports/<M>/`), written under a temporary name
and renamed, so a reader never opens a half-written file. The Dagster assets of
`coproff_platform.assets.exports` call the same functions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from coproff_platform.config import database_url

DEFAULT_EXPORT_DIR = "exports"
SCHEMA = "coproff"
MAIN_TABLE = "coproff"
FORMATS = ("gpkg", "csv")


class ExportError(RuntimeError):
    pass


@dataclass(frozen=True)
class ExportedFile:
    path: Path
    rows: int
    bytes: int


def export_dir(millesime: int, root: str | Path | None = None) -> Path:
    base = Path(root) if root else Path(os.environ.get("COPROFF_EXPORT_DIR", DEFAULT_EXPORT_DIR))
    return base / str(int(millesime))


def _columns(engine: Engine, table: str) -> list[tuple[str, bool]]:
    """(column, is_geometry) of a coproff table, in table order."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select a.attname, format_type(a.atttypid, a.atttypmod) like 'geometry%' "
                "from pg_attribute a where a.attrelid = to_regclass(:t) and a.attnum > 0 "
                "and not a.attisdropped order by a.attnum"
            ),
            {"t": f"{SCHEMA}.{table}"},
        ).all()
    if not rows:
        raise ExportError(f"table {SCHEMA}.{table} does not exist")
    return [(r[0], bool(r[1])) for r in rows]


def require_published(engine: Engine, millesime: int) -> int:
    """Rows of coproff.coproff for a millésime recorded as complete by the publication step."""
    with engine.connect() as conn:
        if conn.execute(sa.text("select to_regclass('coproff.millesimes')")).scalar() is None:
            raise ExportError("no millésime has been published yet (table coproff.millesimes is missing)")
        counts = conn.execute(
            sa.text("select row_counts from coproff.millesimes where millesime = :m"), {"m": millesime}
        ).scalar()
    if counts is None:
        raise ExportError(f"millésime {millesime} is not published: build it (coproff materialize) first")
    return int(counts.get(MAIN_TABLE, 0))


def _finish(tmp: Path, final: Path, rows: int) -> ExportedFile:
    os.replace(tmp, final)
    return ExportedFile(final, rows, final.stat().st_size)


def _copy_to_csv(engine: Engine, query: str, target: Path) -> int:
    """COPY (query) TO STDOUT as CSV with header, streamed to `target`; returns data rows."""
    tmp = target.with_name(target.name + ".part")
    rows = 0
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cur, tmp.open("wb") as out:
            with cur.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
                for chunk in copy:
                    out.write(chunk)
            rows = cur.rowcount
    finally:
        raw.close()
    os.replace(tmp, target)
    return rows


def export_csv(engine: Engine, millesime: int, out_dir: Path) -> ExportedFile:
    """coproff.coproff of one millésime as CSV; the point becomes longitude/latitude (WGS84)."""
    millesime = int(millesime)
    require_published(engine, millesime)
    select: list[str] = []
    for name, is_geom in _columns(engine, MAIN_TABLE):
        if is_geom:
            # Only the published point (`geom`) is exported, as coordinates; other geometries are internal.
            if name == "geom":
                select += ["round(st_x(geom)::numeric, 7) as longitude", "round(st_y(geom)::numeric, 7) as latitude"]
            continue
        select.append(f'"{name}"')
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"coproff_{millesime}.csv"
    query = f"select {', '.join(select)} from {SCHEMA}.{MAIN_TABLE} where millesime = {millesime} order by idcopro"
    rows = _copy_to_csv(engine, query, target)
    return ExportedFile(target, rows, target.stat().st_size)


def _pg_datasource(url: str) -> tuple[str, dict[str, str]]:
    """OGR's PG: connection string and the environment carrying the password (never on argv)."""
    u = make_url(url)
    parts = {"dbname": u.database, "host": u.host or "127.0.0.1", "port": str(u.port or 5432), "user": u.username}
    conninfo = " ".join(f"{k}='{v}'" for k, v in parts.items() if v)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return f"PG:{conninfo}", env


def export_gpkg(engine: Engine, url: str, millesime: int, out_dir: Path) -> ExportedFile:
    """coproff.coproff of one millésime as a GeoPackage layer `coproff` (Point, EPSG:4326)."""
    millesime = int(millesime)
    rows = require_published(engine, millesime)
    if shutil.which("ogr2ogr") is None:
        raise ExportError("ogr2ogr not found: install gdal-bin (scripts/ensure_gdal.sh)")
    columns = _columns(engine, MAIN_TABLE)
    # One geometry per layer: the published point; other geometry columns stay in PostGIS.
    select = ", ".join(f'"{n}"' for n, g in columns if not g or n == "geom")
    query = f"select {select} from {SCHEMA}.{MAIN_TABLE} where millesime = {millesime} order by idcopro"
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"coproff_{millesime}.gpkg"
    tmp = out_dir / f".coproff_{millesime}.part.gpkg"  # GDAL picks the driver from the suffix
    tmp.unlink(missing_ok=True)
    datasource, env = _pg_datasource(url)
    cmd = [
        "ogr2ogr", "-f", "GPKG", str(tmp), datasource,
        "-sql", query, "-nln", "coproff", "-nlt", "POINT", "-a_srs", "EPSG:4326",
        "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=YES",
        "-gt", "65536",  # rows per transaction: fast on large millésimes
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"ogr2ogr failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return _finish(tmp, target, rows)


def statistics_tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                    "where n.nspname = :s and c.relkind in ('r', 'p') and not c.relispartition "
                    "and c.relname like 'stats\\_%' order by 1"
                ),
                {"s": SCHEMA},
            ).scalars()
        )


def export_statistics(engine: Engine, millesime: int, out_dir: Path) -> list[ExportedFile]:
    """Each coproff.stats_* table of the millésime as `<table>_<M>.csv`."""
    millesime = int(millesime)
    require_published(engine, millesime)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for table in statistics_tables(engine):
        names = [n for n, g in _columns(engine, table) if not g]
        where = f" where millesime = {millesime}" if "millesime" in names else ""
        cols = ", ".join(f'"{n}"' for n in names)
        target = out_dir / f"{table}_{millesime}.csv"
        rows = _copy_to_csv(engine, f"select {cols} from {SCHEMA}.{table}{where}", target)
        files.append(ExportedFile(target, rows, target.stat().st_size))
    return files


# -- CLI ------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--millesime", required=True, type=int, help="published millésime to export, e.g. 2023")
    parser.add_argument(
        "--format", choices=FORMATS, action="append",
        help="gpkg (GeoPackage, Point EPSG:4326) or csv (coproff + statistics tables); repeat for both (default: both)",
    )
    parser.add_argument("--output", help="directory for the files (default: $COPROFF_EXPORT_DIR/<millesime>, else exports/<millesime>)")


def run(args: argparse.Namespace) -> int:
    url = database_url()
    engine = sa.create_engine(url)
    out_dir = Path(args.output) if args.output else export_dir(args.millesime)
    try:
        files: list[ExportedFile] = []
        for fmt in args.format or FORMATS:
            if fmt == "gpkg":
                files.append(export_gpkg(engine, url, args.millesime, out_dir))
            else:
                files.append(export_csv(engine, args.millesime, out_dir))
                files.extend(export_statistics(engine, args.millesime, out_dir))
    except ExportError as exc:
        print(f"coproff export: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    for f in files:
        print(f"{f.path}  {f.rows:>10,} rows  {f.bytes:>12,} bytes")
    return 0
