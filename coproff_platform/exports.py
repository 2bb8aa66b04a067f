"""`coproff export`: files of a published millésime for people who do not read PostGIS.

- `coproff_<M>.gpkg`: `coproff.coproff` as a GeoPackage layer `coproff` (ogr2ogr straight from
  PostGIS; Point, EPSG:4326), the table's comment as layer description and each column's
  comment in `gpkg_data_columns` (the GeoPackage schema extension);
- `coproff_<M>.csv`: the same rows as CSV, the point as `longitude`/`latitude` columns;
- `<stats table>_<M>.csv`: each `coproff.stats_*` table of the millésime (COPY TO STDOUT);
- `dictionnaire_<M>.csv`: every exported column with its type and its French description.

Each CSV keeps its meaning in the formats GDAL and QGIS read: a `.csvt` beside it declares the
column types (codes such as `code_commune`, `code_postal`, `epci` are `String`, so `01001` keeps its
zero; `longitude`/`latitude` are `CoordX`/`CoordY`, so the file opens as points) and a `.prj` its
coordinate system (EPSG:4326); booleans are `true`/`false` and lists are `;`-separated values,
never PostgreSQL's `t`/`f` or `{a,b}`.

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


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str  # format_type(): integer, text[], boolean, geometry(Point,4326), ...
    description: str

    @property
    def is_geometry(self) -> bool:
        return self.pg_type.startswith("geometry")

    @property
    def is_array(self) -> bool:
        return self.pg_type.endswith("[]")

    @property
    def csvt(self) -> str:
        """The column's type in GDAL's `.csvt` convention (what QGIS and ogr read)."""
        t = self.pg_type
        if self.is_array:
            return "String"  # `;`-separated values
        if t == "boolean":
            return "Integer(Boolean)"
        if t in ("smallint",):
            return "Integer(Int16)"
        if t == "integer":
            return "Integer"
        if t == "bigint":
            return "Integer64"
        if t.startswith(("numeric", "double precision", "real")):
            return "Real"
        if t == "date":
            return "Date"
        if t.startswith("timestamp"):
            return "DateTime"
        return "String"  # text, char(n): codes stay text, leading zeros included

    def csv_expression(self) -> str:
        """How the column is written to CSV: booleans true/false, lists `a;b`, the rest as is."""
        q = f'"{self.name}"'
        if self.is_array:
            return f"array_to_string({q}, ';') as {q}"
        if self.pg_type == "boolean":
            return f"case when {q} then 'true' when not {q} then 'false' end as {q}"
        return q


def _columns(engine: Engine, table: str) -> list[Column]:
    """The columns of a coproff table, in table order, with their comments."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select a.attname, format_type(a.atttypid, a.atttypmod), "
                "coalesce(col_description(a.attrelid, a.attnum), '') "
                "from pg_attribute a where a.attrelid = to_regclass(:t) and a.attnum > 0 "
                "and not a.attisdropped order by a.attnum"
            ),
            {"t": f"{SCHEMA}.{table}"},
        ).all()
    if not rows:
        raise ExportError(f"table {SCHEMA}.{table} does not exist")
    return [Column(r[0], r[1], r[2]) for r in rows]


def _table_comment(engine: Engine, table: str) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("select coalesce(obj_description(to_regclass(:t), 'pg_class'), '')"),
                            {"t": f"{SCHEMA}.{table}"}).scalar() or ""


# What the exported point columns are, for the CSV and the dictionary.
POINT_COLUMNS = (
    Column("longitude", "numeric", "Longitude du point de la copropriété (WGS84, EPSG:4326, degrés décimaux)"),
    Column("latitude", "numeric", "Latitude du point de la copropriété (WGS84, EPSG:4326, degrés décimaux)"),
)
POINT_CSVT = {"longitude": "CoordX", "latitude": "CoordY"}
WGS84_PRJ = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AXIS["Latitude",NORTH],'
    'AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)


def _write_csvt(target: Path, types: list[str]) -> Path:
    csvt = target.with_suffix(".csvt")
    csvt.write_text(",".join(f'"{t}"' for t in types) + "\n", encoding="ascii")
    return csvt


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
    types: list[str] = []
    for col in _columns(engine, MAIN_TABLE):
        if col.is_geometry:
            # Only the published point (`geom`) is exported, as coordinates; other geometries are internal.
            if col.name == "geom":
                select += ["round(st_x(geom)::numeric, 7) as longitude", "round(st_y(geom)::numeric, 7) as latitude"]
                types += [POINT_CSVT["longitude"], POINT_CSVT["latitude"]]
            continue
        select.append(col.csv_expression())
        types.append(col.csvt)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"coproff_{millesime}.csv"
    query = f"select {', '.join(select)} from {SCHEMA}.{MAIN_TABLE} where millesime = {millesime} order by idcopro"
    _write_csvt(target, types)
    target.with_suffix(".prj").write_text(WGS84_PRJ + "\n", encoding="ascii")
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
    # One geometry per layer: the published point; other geometry columns stay in PostGIS. Lists
    # as `a;b` (GDAL would write its own `(2:a,b)` list syntax); booleans stay GeoPackage BOOLEAN.
    kept = [c for c in columns if not c.is_geometry or c.name == "geom"]
    select = ", ".join(f'array_to_string("{c.name}", \';\') as "{c.name}"' if c.is_array else f'"{c.name}"'
                       for c in kept)
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
        "-lco", f"IDENTIFIER=coproff_{millesime}",
        "-lco", f"DESCRIPTION={_table_comment(engine, MAIN_TABLE)} (millésime {millesime})",
        "-gt", "65536",  # rows per transaction: fast on large millésimes
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"ogr2ogr failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    describe_gpkg_columns(tmp, "coproff", kept)
    return _finish(tmp, target, rows)


def describe_gpkg_columns(gpkg: Path, layer: str, columns: list[Column]) -> None:
    """Writes each column's description into `gpkg_data_columns` (GeoPackage schema extension),
    where GDAL (field comments) and QGIS read it."""
    import sqlite3

    con = sqlite3.connect(gpkg)
    try:
        con.execute(
            "create table if not exists gpkg_data_columns (table_name text not null, column_name text not null, "
            "name text, title text, description text, mime_type text, constraint_name text, "
            "constraint pk_gdc primary key (table_name, column_name), "
            "constraint gdc_tn unique (table_name, name))"
        )
        con.execute(
            "create table if not exists gpkg_extensions (table_name text, column_name text, "
            "extension_name text not null, definition text not null, scope text not null, "
            "constraint ge_tce unique (table_name, column_name, extension_name))"
        )
        con.execute(
            "insert or ignore into gpkg_extensions values ('gpkg_data_columns', null, 'gpkg_schema', "
            "'http://www.geopackage.org/spec121/#extension_schema', 'read-write')"
        )
        con.executemany(
            "insert or replace into gpkg_data_columns (table_name, column_name, name, title, description) "
            "values (?, ?, ?, ?, ?)",
            [(layer, c.name, c.name, c.name, c.description) for c in columns if c.description],
        )
        con.commit()
    finally:
        con.close()


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
        columns = [c for c in _columns(engine, table) if not c.is_geometry]
        where = f" where millesime = {millesime}" if any(c.name == "millesime" for c in columns) else ""
        cols = ", ".join(c.csv_expression() for c in columns)
        target = out_dir / f"{table}_{millesime}.csv"
        _write_csvt(target, [c.csvt for c in columns])
        rows = _copy_to_csv(engine, f"select {cols} from {SCHEMA}.{table}{where}", target)
        files.append(ExportedFile(target, rows, target.stat().st_size))
    return files


def export_dictionary(engine: Engine, millesime: int, out_dir: Path) -> ExportedFile:
    """`dictionnaire_<M>.csv`: each exported file's columns with their type and description."""
    import csv

    millesime = int(millesime)
    require_published(engine, millesime)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    main = _columns(engine, MAIN_TABLE)
    for c in main:
        if c.is_geometry and c.name != "geom":
            continue
        gpkg_type = "Point (EPSG:4326)" if c.is_geometry else c.csvt
        rows.append([f"coproff_{millesime}.gpkg", "coproff", c.name, gpkg_type, c.description])
    for c in main:
        if c.is_geometry:
            if c.name == "geom":
                rows += [[f"coproff_{millesime}.csv", "coproff", p.name, POINT_CSVT[p.name], p.description]
                         for p in POINT_COLUMNS]
            continue
        rows.append([f"coproff_{millesime}.csv", "coproff", c.name, c.csvt, c.description])
    for table in statistics_tables(engine):
        rows += [[f"{table}_{millesime}.csv", table, c.name, c.csvt, c.description]
                 for c in _columns(engine, table) if not c.is_geometry]
    target = out_dir / f"dictionnaire_{millesime}.csv"
    tmp = target.with_name(target.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["fichier", "table", "colonne", "type", "description"])
        writer.writerows(rows)
    _write_csvt(target, ["String"] * 5)
    return _finish(tmp, target, len(rows))


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
        files.append(export_dictionary(engine, args.millesime, out_dir))
    except ExportError as exc:
        from coproff_platform.cli import EXIT_NOT_FOUND

        print(f"coproff export: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND if "not published" in str(exc) or "no millésime" in str(exc) else 1
    finally:
        engine.dispose()
    for f in files:
        print(f"{f.path}  {f.rows:>10,} rows  {f.bytes:>12,} bytes")
    return 0
