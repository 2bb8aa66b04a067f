"""Loads one source's landing files for one millésime into its staging table, atomically.

In ONE transaction (`PostGISResource.replace_millesime`): every file is streamed with COPY into the
fresh partition (through a temporary table when geometries are reprojected in SQL), duplicate keys
are moved to the quarantine, registry controls that need SQL run, the source's quarantine rows and
load log of the millésime are replaced, and the new partition is swapped in. A file that cannot be
read fails the whole load and the published millésime stays as it was.
"""

from __future__ import annotations

import csv
import functools
import gc
import re
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform.contracts import referencedata, tables
from coproff_platform.contracts.sources import (
    PARCEL_FOLDERS,
    PARCELS,
    REQUIRED,
    SOURCES,
    SQL_DIR,
    SourceSpec,
    parcel_folder,
)
from coproff_platform.loading import fast
from coproff_platform.loading.database import DatabaseTable, configured_table, export_csv
from coproff_platform.loading.reader import CsvFile, SourceFileError
from coproff_platform.loading.transform import Reject, RowTransformer, choose_spec
from coproff_platform.resources.postgis import PostGISResource, copy_rows, ident

QUARANTINE_COLUMNS = ["millesime", "source", "source_file", "source_line", "reason", "field", "detail", "raw"]
PROGRESS_EVERY = 200_000
# Records transformed together, column-wise (`RowTransformer.batch`): bounded memory.
BATCH = 4096


@dataclass
class FileReport:
    file: str
    variant: str = ""
    encoding: str = ""
    lines_fallback: int = 0  # lines decoded as Windows-1252/Latin-1 because they are not UTF-8
    delimiter: str = ","
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    blank_lines: int = 0
    bytes: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)
    personal_columns_ignored: list[str] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)
    soft: Counter = field(default_factory=Counter)
    fast_path: bool = False  # staged by `loading.fast` (raw COPY + SQL), not read in Python


@dataclass
class LoadReport:
    source: str
    millesime: int
    table: str
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0
    present: bool = True  # False when the source had no file (or was set aside) for the millésime
    note: str | None = None  # French, shown in the asset metadata and the run summaries

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def reasons(self) -> Counter:
        total: Counter = Counter()
        for f in self.files:
            total.update(f.reasons)
        return total

    @property
    def soft(self) -> Counter:
        total: Counter = Counter()
        for f in self.files:
            total.update(f.soft)
        return total

    @property
    def reconciled(self) -> bool:
        return all(f.rows_read == f.rows_loaded + f.rows_quarantined for f in self.files)


@dataclass
class SourcePlan:
    """What to load for one source and millésime: its files, or a note saying why 0 rows."""

    files: list[Path]
    note: str | None = None  # set when the source is absent or set aside: 0 rows, never a failure


def folder_files(landing_root: Path, millesime: int | str, folder: str) -> list[Path]:
    """Every file of the sources landing in `<landing>/<millesime>/<folder>/`."""
    return [p for name, s in SOURCES.items() if s.folder == folder
            for p in source_inputs(landing_root, millesime, name)]


def source_files(landing_root: Path, millesime: int | str, source: str) -> list[Path]:
    """Files of `source` in `<landing>/<millesime>/<folder>/`, in name order."""
    declared = SOURCES[source]
    folder = landing_root / str(millesime) / declared.folder
    if not folder.is_dir():
        return []
    found = {p for pattern in declared.patterns for p in folder.glob(pattern)
             if p.is_file() and not p.name.startswith(".") and not p.name.startswith(declared.exclude_prefixes)}
    return sorted(found)


def source_inputs(landing_root: Path, millesime: int | str, source: str) -> list:
    """The source's landing files, then the restored PostgreSQL table its `source.yml` names, if any."""
    declared = SOURCES[source]
    inputs: list = source_files(landing_root, millesime, source)
    if declared.database_key:
        table = configured_table(landing_root / str(millesime) / declared.folder, declared.database_key)
        if table is not None:
            inputs.append(table)
    return inputs


def plan_source(landing_root: Path, millesime: int | str, source: str) -> SourcePlan:
    """The files to load, or the note of a source that is absent or set aside for this millésime.

    Required sources must have files. Optional ones may be absent. Parcels come from the first
    folder of `PARCEL_FOLDERS` holding files (Fichiers fonciers before the open cadastre); the
    sources of the other parcel folders are set aside with a note.
    """
    declared = SOURCES[source]
    files = source_inputs(landing_root, millesime, source)
    if declared.requirement == PARCELS:
        chosen = parcel_folder(lambda folder: bool(folder_files(landing_root, millesime, folder)))
        if chosen is None:
            raise SourceFileError(f"<landing>/{millesime}/",
                                  "no parcel source: a millésime needs one of "
                                  + ", ".join(f"{f}/" for f in PARCEL_FOLDERS) + " with files")
        if chosen != declared.folder:
            state = "ignoré" if files else "absent"
            return SourcePlan([], f"Dossier {declared.folder}/ {state} : le millésime est construit "
                                  f"sur les parcelles de {chosen}/ (0 ligne).")
    elif not files and declared.optional:
        return SourcePlan([], f"Source optionnelle absente (aucun fichier dans {declared.folder}/) : 0 ligne.")
    return SourcePlan(files)


def load_source(
    postgis: PostGISResource,
    source: str,
    millesime: int,
    files: list[Path],
    display: Callable[[Path], str] = lambda p: p.name,
    log: Callable[[str], None] = lambda msg: None,
    note: str | None = None,
) -> LoadReport:
    """Replaces `source`'s millésime in its staging table by the content of `files`.

    `note` (from `plan_source`) sets the source aside: its millésime becomes 0 rows.
    """
    declared = SOURCES[source]
    specs = declared.specs
    table = declared.table
    report = LoadReport(source, int(millesime), table.qualified)
    if note is None and not files and declared.optional:
        note = f"Source optionnelle absente (aucun fichier dans {declared.folder}/) : 0 ligne."
    if note is not None:
        report.present, report.note = False, note
        return _publish_empty(postgis, report, log)
    if not files:
        raise SourceFileError(f"<landing>/{millesime}/{declared.folder}/",
                              f"no {source} file (patterns {', '.join(declared.patterns)})")
    started = time.monotonic()
    shown = {id(p): (p.display if isinstance(p, DatabaseTable) else display(p)) for p in files}
    prepare_quality_partitions(postgis, int(millesime))
    with tempfile.TemporaryDirectory(prefix="coproff_export_") as export_dir, \
            tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+", newline="", encoding="utf-8") as spool, \
            postgis.replace_millesime(table.qualified, millesime) as swap:
        conn = swap.conn
        # The source's previous quarantine rows of this millésime are replaced in this transaction.
        conn.execute(sa.text("delete from quality.quarantine where millesime = :m and source = :s"),
                     {"m": int(millesime), "s": source})
        qwriter = csv.writer(spool)
        if declared.spec.reader == "geojson":
            from coproff_platform.loading.geojson import load_geojson_files

            report.files.extend(load_geojson_files(conn, swap.table, declared.spec, int(millesime), files,
                                                   display, log))
        else:
            local: dict[str, Path] = {}
            for path in files:
                if isinstance(path, DatabaseTable):  # streamed out of its database, then read as a file
                    log(f"{path.display}: exporting with COPY TO STDOUT")
                    local[path.display] = export_csv(path, postgis.database_url, export_dir)
                    file_report = _load_file(conn, swap.table, specs, int(millesime), local[path.display],
                                             path.display, qwriter, log, line_offset=1)
                else:
                    local[shown[id(path)]] = path
                    file_report = _load_file(conn, swap.table, specs, int(millesime), path, shown[id(path)],
                                             qwriter, log)
                report.files.append(file_report)
            offsets = {p.display: 1 for p in files if isinstance(p, DatabaseTable)}
            dup_counts = _quarantine_duplicate_keys(conn, swap.table, specs, int(millesime), local, qwriter, offsets)
            for f in report.files:
                f.rows_loaded -= dup_counts.get(f.file, 0)
                f.rows_quarantined += dup_counts.get(f.file, 0)
                if dup_counts.get(f.file):
                    f.reasons["cle_dupliquee"] += dup_counts[f.file]
        post_load = declared.post_load()
        if post_load:
            flagged = Counter(conn.execute(sa.text(post_load.format(table=swap.table)),
                                           {"millesime": int(millesime), **declared.post_load_params()}).scalars())
            for f in report.files:
                if flagged.get(f.file) and declared.post_load_flag:
                    f.soft[declared.post_load_flag] += flagged[f.file]
        if report.rows_read == 0:
            where = ", ".join(f.file for f in report.files)
            if declared.requirement == REQUIRED or declared.requirement == PARCELS:
                # Never publish an empty millésime of a needed source by mistake.
                raise SourceFileError(where, "no data row in any file (header only)")
            report.present = False
            report.note = f"Source optionnelle sans ligne de données ({where}, en-tête seul) : 0 ligne."
        in_table = conn.execute(sa.text(f"select count(*) from {swap.table}")).scalar()
        if in_table != report.rows_loaded:  # a loader bug: never swap in a millésime that lost rows
            raise RuntimeError(f"{source} {millesime}: {in_table} rows in the new partition, "
                               f"{report.rows_loaded} counted as loaded")
        if not report.reconciled:
            raise RuntimeError(f"{source} {millesime}: rows read ≠ loaded + quarantined "
                               f"({[(f.file, f.rows_read, f.rows_loaded, f.rows_quarantined) for f in report.files]})")
        _write_quarantine(conn, spool, source, int(millesime))
        _write_load_log(conn, report)
        log(f"{source} {millesime}: swapping in {report.rows_loaded} rows")
    report.seconds = time.monotonic() - started
    return report


def _publish_empty(postgis: PostGISResource, report: LoadReport, log: Callable[[str], None]) -> LoadReport:
    """A source absent or set aside: its millésime becomes an empty partition (0 rows).

    Same transaction as a load: the previous rows, quarantine and load log of the millésime go, so
    a millésime whose restricted file was withdrawn no longer publishes the old figures.
    """
    started = time.monotonic()
    prepare_quality_partitions(postgis, report.millesime)
    with postgis.replace_millesime(report.table, report.millesime) as swap:
        for shared in (tables.QUARANTINE.qualified, tables.LOAD_LOG.qualified):
            swap.conn.execute(sa.text(f"delete from {shared} where millesime = :m and source = :s"),
                              {"m": report.millesime, "s": report.source})
        kind = "optional source" if SOURCES[report.source].optional else "parcel source not used"
        log(f"{report.source} {report.millesime}: no file or set aside ({kind}), swapping in 0 rows")
    report.seconds = time.monotonic() - started
    return report


def prepare_quality_partitions(postgis: PostGISResource, millesime: int) -> None:
    """Creates the shared tables and the millésime's quarantine / load-log partitions up front.

    In a short transaction of its own, serialised by an advisory lock: sources loading the same
    millésime in parallel must not race on CREATE TABLE, nor hold a lock for their whole load.
    """
    with postgis.engine.begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('coproff.setup'))"))
        tables.create_all(conn)
        tables.ensure_partition(conn, tables.QUARANTINE.qualified, millesime)
        tables.ensure_partition(conn, tables.LOAD_LOG.qualified, millesime)


def _load_file(conn: Connection, target: str, specs: tuple[SourceSpec, ...], millesime: int, path: Path,
               display: str, qwriter, log: Callable[[str], None], line_offset: int = 0) -> FileReport:
    """Streams one file into `target`. `line_offset` 1: rows of a database table are numbered from 1."""
    f = CsvFile(path, display)
    spec, hm = choose_spec(specs, f.header, display)
    rep = FileReport(file=display, variant=spec.variant, encoding="", delimiter=f.delimiter,
                     bytes=path.stat().st_size, unknown_columns=hm.unknown + hm.duplicates,
                     missing_optional=hm.missing_optional, personal_columns_ignored=hm.personal)
    log(f"{display}: {spec.name}/{spec.variant}, {f.encoding.name}, delimiter {f.delimiter!r}, "
        f"{len(hm.index)} known columns, {len(hm.unknown)} unknown")
    transform = RowTransformer(spec, hm, millesime, display)
    columns = spec.copy_columns
    fast_plan = fast.plan(spec, hm) if fast.ENABLED else None
    if fast_plan is not None:
        started = time.monotonic()
        try:
            with conn.begin_nested():  # a declined file leaves nothing behind
                temp = _temp_table(conn, target, spec) if spec.sql_columns else None
                result = fast.load(conn, target if fast_plan.point else (temp or target), fast_plan, path,
                                   f.delimiter, transform, millesime, display, line_offset, python_dest=temp)
                rep.rows_read, rep.rows_loaded = result.rows_read, result.rows_loaded
                rep.rows_quarantined = len(result.rejects)
                rep.reasons.update(fast.reasons(result))
                if spec.sql_columns:
                    _insert_from_temp(conn, target, f"pg_temp._load_{ident(spec.name)}", spec, millesime, rep)
        except (fast.Declined, psycopg.Error, sa.exc.DBAPIError) as exc:
            log(f"{display}: fast path declined ({str(exc).splitlines()[0][:200]}), reading it in Python")
            rep = FileReport(file=display, variant=spec.variant, encoding="", delimiter=f.delimiter,
                             bytes=path.stat().st_size, unknown_columns=hm.unknown + hm.duplicates,
                             missing_optional=hm.missing_optional, personal_columns_ignored=hm.personal)
            transform = RowTransformer(spec, hm, millesime, display)
        else:
            for line, rej, raw in result.rejects:
                qwriter.writerow([millesime, spec.name, display, line, rej.reason, rej.field or "", rej.detail, raw])
            rep.encoding = f.encoding.describe(0)
            rep.soft.update(result.soft)
            rep.fast_path = True
            log(f"{display}: fast path, read {rep.rows_read}, loaded {rep.rows_loaded}, quarantined "
                f"{rep.rows_quarantined} ({result.python_rows} rows through Python) in "
                f"{time.monotonic() - started:.2f} s ("
                + ", ".join(f"{k} {v:.2f} s" for k, v in result.seconds.items()) + ")")
            return rep

    def results() -> Iterator[tuple[int, list[str] | None, str, tuple | Reject]]:
        """(line, fields, raw, COPY tuple or Reject) of every record, transformed BATCH rows at a time."""
        batch: list = []
        for rec in f.records():
            rec.line -= line_offset
            if rec.fields is None:
                batch.append((rec.fields, rec.line, rec.raw, Reject("csv_invalide", None, rec.error or "unreadable record")))
            else:
                batch.append((rec.fields, rec.line, rec.raw, None))
            if len(batch) >= BATCH:
                yield from _transformed(batch)
                batch = []
        if batch:
            yield from _transformed(batch)

    def _transformed(batch: list) -> Iterator[tuple[int, list[str] | None, str, tuple | Reject]]:
        parsed = [(fields, line, raw) for fields, line, raw, early in batch if early is None]
        done = iter(transform.batch(parsed))
        for fields, line, raw, early in batch:
            yield line, fields, raw, early if early is not None else next(done)

    def rows() -> Iterator[tuple]:
        for line, fields, raw, result in results():
            rep.rows_read += 1
            if isinstance(result, Reject):
                rep.rows_quarantined += 1
                rep.reasons[result.reason] += 1
                # NUL shown as U+2400 (␀): PostgreSQL text cannot hold the byte itself.
                raw = (transform.quarantine_raw(fields, raw) or "").replace("\x00", "\u2400")
                qwriter.writerow([millesime, spec.name, display, line, result.reason, result.field or "",
                                  result.detail, raw])
                continue
            rep.rows_loaded += 1
            written.append(line)
            if rep.rows_read % PROGRESS_EVERY == 0:
                log(f"{display}: {rep.rows_read} rows read")
            yield result

    # File line of each COPY row (4 bytes a row), to name the line PostgreSQL rejects, if it does.
    written = array("I")
    # The batches allocate millions of short-lived objects that reference counting frees; the
    # cyclic collector's passes over the process heap would cost as much as the transform itself.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if spec.sql_columns:
            temp = _temp_table(conn, target, spec)
            copy_rows(conn, temp, columns, rows())
            _insert_from_temp(conn, target, temp, spec, millesime, rep)
        else:
            copy_rows(conn, target, columns, rows())
    except (psycopg.Error, sa.exc.DBAPIError) as exc:
        raise _database_rejection(display, exc, written) from exc
    finally:
        if gc_was_enabled:
            gc.enable()
    rep.blank_lines = f.blank_lines
    rep.encoding = f.encoding.describe(f.lines_fallback)
    rep.lines_fallback = f.lines_fallback
    rep.soft.update(transform.soft_counts)
    log(f"{display}: read {rep.rows_read}, loaded {rep.rows_loaded}, quarantined {rep.rows_quarantined}")
    return rep


def _database_rejection(display: str, exc: Exception, written: array) -> SourceFileError:
    """A value our normalisers let through but PostgreSQL refused (e.g. a non-closed polygon ring)."""
    err = getattr(exc, "orig", None) or exc
    diag = getattr(err, "diag", None)
    message = (diag.message_primary if diag else None) or str(err).splitlines()[0]
    context = (diag.context if diag else None) or ""
    m = re.search(r"COPY \S+, line (\d+)(?:, column (\w+))?", context)
    if m and 0 < int(m[1]) <= len(written):
        column = f", column {m[2]}" if m[2] else ""
        return SourceFileError(display, f"PostgreSQL rejected the row{column}: {message}", written[int(m[1]) - 1])
    return SourceFileError(display, f"PostgreSQL rejected the file's rows: {message} {context}".strip())


def _temp_table(conn: Connection, target: str, spec: SourceSpec) -> str:
    """A temporary twin of the fresh table whose geometry columns are still text (checked in SQL)."""
    name = f"_load_{ident(spec.name)}"
    conn.execute(sa.text(f"drop table if exists pg_temp.{name}"))
    conn.execute(sa.text(f"create temp table {name} (like {target} including defaults) on commit drop"))
    for col in _geometry_columns(spec):
        conn.execute(sa.text(f"alter table pg_temp.{name} alter column {col} type text"))
    blocks = _geometry_sql()
    conn.execute(sa.text(blocks["territory_boxes"]))
    if not conn.execute(sa.text("select exists (select 1 from pg_temp._territory_boxes)")).scalar():
        boxes = [(r["code"], float(r["lon_min"]), float(r["lat_min"]), float(r["lon_max"]), float(r["lat_max"]))
                 for r in referencedata.rows("territoires").values()]
        copy_rows(conn, "pg_temp._territory_boxes", ["code", "lon_min", "lat_min", "lon_max", "lat_max"], boxes)
    conn.execute(sa.text(blocks["geometry_function"]))
    return f"pg_temp.{name}"


def _geometry_columns(spec: SourceSpec) -> list[str]:
    """Geometry columns the loader writes (EWKT/EWKB text in the file)."""
    copied = set(spec.copy_columns)
    return [c.name for c in spec.table.columns if c.type.startswith("geometry") and c.name in copied]


@functools.cache
def _geometry_sql() -> dict[str, str]:
    text = (SQL_DIR / "geometry_checks.sql").read_text(encoding="utf-8")
    return {name.strip(): body.strip() for name, _, body in
            (part.partition("\n") for part in re.split(r"^-- name: ", text, flags=re.M)[1:])}


def _insert_from_temp(conn: Connection, target: str, temp: str, spec: SourceSpec, millesime: int,
                      rep: FileReport) -> None:
    """Checks the geometries (still text) set-based, quarantines the rows they cost, inserts the rest.

    Each geometry goes through `pg_temp.coproff_geometry` (contracts/sql/geometry_checks.sql):
    unreadable, non-closed, unknown SRID or outside its projection's domain → the row is
    quarantined; self-intersecting → repaired and flagged in `anomalies`.
    """
    geoms = _geometry_columns(spec)
    default_srid = "t.srid" if "srid" in spec.table.column_names else "null::integer"
    checked = f"_checked_{ident(spec.name)}"
    conn.execute(sa.text(f"drop table if exists pg_temp.{checked}"))
    conn.execute(sa.text(f"drop table if exists pg_temp.{checked}_fast"))
    # JIT compiling this statement costs seconds and saves nothing.
    conn.execute(sa.text("set local jit = off"))

    def slow_check() -> None:
        laterals = " ".join(f"left join lateral pg_temp.coproff_geometry(t.{c}, {default_srid}) g_{c} on true"
                            for c in geoms)
        conn.execute(sa.text(
            f"create temp table {checked} on commit drop as "
            f"select t.*, {', '.join(f'g_{c}.geom as _g_{c}, coalesce(g_{c}.repaired, false) as _r_{c}' for c in geoms)}, "
            f"coalesce({', '.join(f'g_{c}.reason' for c in geoms)}) as _reason, "
            f"case {' '.join(f'when g_{c}.reason is not null then {tables.literal(c)}' for c in geoms)} end as _field, "
            f"coalesce({', '.join(f'g_{c}.detail' for c in geoms)}) as _detail "
            f"from {temp} t {laterals}"
        ))

    def fast_check() -> None:
        sql = _geometry_sql()
        per = {k: ", ".join(sql[f"fast_{k}"].format(c=c, default_srid=default_srid) for c in geoms)
               for k in ("parsed", "judged", "verdict")}
        conn.execute(sa.text(sql["fast_check"].format(checked=f"{checked}_fast", temp=temp, **per)))
        # Same columns as the row-by-row path: geometry (repaired when invalid), flag, reason, field, detail.
        repaired = ", ".join(
            f"case when _v_{c} is null then case when _invalid_{c} then "
            f"st_collectionextract(st_makevalid(_p_{c}), 3) else _p_{c} end end as _g_{c}, "
            f"_v_{c} is null and _invalid_{c} as _r_{c}" for c in geoms)
        detail = " ".join(
            f"when _v_{c} = 'srid_inconnu' then format('SRID %s is not in spatial_ref_sys', st_srid(_p_{c})) "
            f"when _v_{c} = 'srid_incoherent' then format('coordinates around %s are outside every territory "
            f"in SRID %s', st_astext(st_centroid(st_envelope(_p_{c}))), st_srid(_p_{c})) "
            f"when _v_{c} = 'geometrie_non_fermee' then st_isvalidreason(_p_{c}) "
            f"when _v_{c} = 'geometrie_irreparable' then 'ST_MakeValid left no polygon' " for c in geoms)
        original = ", ".join(f"f.{c}" for c in spec.table.column_names)
        conn.execute(sa.text(
            f"create temp table {checked} on commit drop as select {original}, {repaired}, "
            f"coalesce({', '.join(f'_v_{c}' for c in geoms)}) as _reason, "
            f"case {' '.join(f'when _v_{c} is not null then {tables.literal(c)}' for c in geoms)} end as _field, "
            f"case {detail} end as _detail "
            f"from pg_temp.{checked}_fast f"
        ))

    try:  # set-based first; a geometry PostGIS cannot parse sends the file row by row
        with conn.begin_nested():
            fast_check()
    except sa.exc.DBAPIError:
        slow_check()
    rejected = conn.execute(sa.text(
        f"insert into quality.quarantine (millesime, source, source_file, source_line, reason, field, detail, raw) "
        f"select :m, :s, source_file, source_line, _reason, _field, _detail, "
        f"left(concat_ws(' ', {', '.join(geoms)}), 2000) "
        f"from pg_temp.{checked} where _reason is not null returning reason"
    ), {"m": millesime, "s": spec.name}).scalars().all()
    for reason in rejected:
        rep.rows_loaded -= 1
        rep.rows_quarantined += 1
        rep.reasons[reason] += 1
    cols = spec.table.column_names
    repaired = ", ".join(f"case when _r_{c} then 'geometrie_reparee' end" for c in geoms)
    inner = [f"_g_{c} as {c}" if c in geoms else
             (f"array_remove(array[{repaired}]::text[], null) as {c}" if c == "anomalies" else c) for c in cols]
    exprs = [f"{spec.sql_columns[c]} as {c}" if c in spec.sql_columns else c for c in cols]
    flagged = conn.execute(sa.text(
        f"insert into {target} ({', '.join(cols)}) select {', '.join(exprs)} from "
        f"(select {', '.join(inner)} from pg_temp.{checked} where _reason is null) s "
        f"returning cardinality(anomalies)" if "anomalies" in cols else
        f"insert into {target} ({', '.join(cols)}) select {', '.join(exprs)} from "
        f"(select {', '.join(inner)} from pg_temp.{checked} where _reason is null) s returning 0"
    )).scalars().all()
    if sum(flagged):
        rep.soft["geometrie_reparee"] += sum(1 for k in flagged if k)
    conn.execute(sa.text(f"truncate {temp}"))


def _quarantine_duplicate_keys(conn: Connection, target: str, specs: tuple[SourceSpec, ...], millesime: int,
                               files: dict[str, Path], qwriter, offsets: dict[str, int] | None = None) -> Counter:
    """Keeps the first row of each key (file, line order); moves the others to the quarantine.

    Duplicates are found in SQL (no key set held in Python); their raw lines are then read back
    from the files that hold them, so the quarantine keeps the source text like any other reject.
    """
    spec = specs[0]
    key = [c for c in spec.table.primary_key if c != "millesime"]
    if not key or "source_line" in key:
        return Counter()
    k = ", ".join(key)
    on = " and ".join(f"t.{c} = d.{c}" for c in key)
    sql = f"""
        with dupkeys as (select {k} from {target} group by {k} having count(*) > 1),
        ranked as (
            select t.ctid as rid,
                   row_number() over w as rn,
                   first_value(t.source_file || ', line ' || t.source_line) over w as first_seen
            from {target} t join dupkeys d on {on}
            window w as (partition by {', '.join('t.' + c for c in key)} order by t.source_file, t.source_line)
        )
        delete from {target} t using ranked r where t.ctid = r.rid and r.rn > 1
        returning t.source_file, t.source_line, r.first_seen
    """
    moved: dict[str, dict[int, str]] = {}
    for source_file, source_line, first_seen in conn.execute(sa.text(sql)):
        moved.setdefault(source_file, {})[source_line] = first_seen
    for display, lines in moved.items():
        f = CsvFile(files[display], display)
        _, hm = choose_spec(specs, f.header, display)
        raw_of = RowTransformer(spec, hm, millesime, display).quarantine_raw
        for rec in f.records():
            rec.line -= (offsets or {}).get(display, 0)
            if rec.line in lines:
                qwriter.writerow([millesime, spec.name, display, rec.line, "cle_dupliquee", k,
                                  f"{k} already loaded from {lines[rec.line]}", raw_of(rec.fields, rec.raw) or ""])
    return Counter({display: len(lines) for display, lines in moved.items()})


def _write_quarantine(conn: Connection, spool, source: str, millesime: int) -> None:
    spool.flush()
    spool.seek(0)

    def rows() -> Iterator[list]:
        for r in csv.reader(spool):
            r[0] = int(r[0])
            r[3] = int(r[3])
            r[5] = r[5] or None
            r[7] = r[7] or None
            yield r

    copy_rows(conn, tables.QUARANTINE.qualified, QUARANTINE_COLUMNS, rows())


def _write_load_log(conn: Connection, report: LoadReport) -> None:
    conn.execute(sa.text("delete from quality.load_log where millesime = :m and source = :s"),
                 {"m": report.millesime, "s": report.source})
    copy_rows(conn, tables.LOAD_LOG.qualified,
              ["millesime", "source", "source_file", "encoding", "lines_fallback", "rows_read", "rows_loaded",
               "rows_quarantined"],
              [(report.millesime, report.source, f.file, f.encoding, f.lines_fallback, f.rows_read, f.rows_loaded,
                f.rows_quarantined) for f in report.files])
