"""Loads one source's landing files for one millésime into its staging table, atomically.

In ONE transaction (`PostGISResource.replace_millesime`): every file is streamed with COPY into the
fresh partition (through a temporary table when geometries are reprojected in SQL), duplicate keys
are moved to the quarantine, registry controls that need SQL run, the source's quarantine rows and
load log of the millésime are replaced, and the new partition is swapped in. A file that cannot be
read fails the whole load and the published millésime stays as it was.
"""

from __future__ import annotations

import csv
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

from coproff_platform.contracts import tables
from coproff_platform.contracts.sources import RNIC_POINT_FAR_FROM_COMMUNE_SQL, SPECS, SourceSpec
from coproff_platform.loading.reader import CsvFile, SourceFileError
from coproff_platform.loading.transform import Reject, RowTransformer, choose_spec
from coproff_platform.resources.postgis import PostGISResource, copy_rows, ident

QUARANTINE_COLUMNS = ["millesime", "source", "source_file", "source_line", "reason", "field", "detail", "raw"]
PROGRESS_EVERY = 200_000


@dataclass
class FileReport:
    file: str
    variant: str = ""
    encoding: str = ""
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


@dataclass
class LoadReport:
    source: str
    millesime: int
    table: str
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0

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


def source_files(landing_root: Path, millesime: int | str, source: str) -> list[Path]:
    """Files of `source` in `<landing>/<millesime>/<folder>/`, in name order."""
    specs = SPECS[source]
    folder = landing_root / str(millesime) / specs[0].folder
    if not folder.is_dir():
        return []
    found = {p for s in specs for pattern in s.patterns for p in folder.glob(pattern)
             if p.is_file() and not p.name.startswith(".")}
    if source == "ff_parcelle":  # the FF folder also holds TUP files
        found = {p for p in found if not p.name.startswith("tup")}
    return sorted(found)


def load_source(
    postgis: PostGISResource,
    source: str,
    millesime: int,
    files: list[Path],
    display: Callable[[Path], str] = lambda p: p.name,
    log: Callable[[str], None] = lambda msg: None,
) -> LoadReport:
    """Replaces `source`'s millésime in its staging table by the content of `files`."""
    specs = SPECS[source]
    table = specs[0].table
    report = LoadReport(source, int(millesime), table.qualified)
    if not files and specs[0].optional:
        return _publish_empty(postgis, report, log)
    if not files:
        raise SourceFileError(f"<landing>/{millesime}/{specs[0].folder}/",
                              f"no {source} file (patterns {', '.join(specs[0].patterns)})")
    started = time.monotonic()
    prepare_quality_partitions(postgis, int(millesime))
    with tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+", newline="", encoding="utf-8") as spool, \
            postgis.replace_millesime(table.qualified, millesime) as swap:
        conn = swap.conn
        # The source's previous quarantine rows of this millésime are replaced in this transaction.
        conn.execute(sa.text("delete from quality.quarantine where millesime = :m and source = :s"),
                     {"m": int(millesime), "s": source})
        qwriter = csv.writer(spool)
        for path in files:
            file_report = _load_file(conn, swap.table, specs, int(millesime), path, display(path), qwriter, log)
            report.files.append(file_report)
        dup_counts = _quarantine_duplicate_keys(conn, swap.table, specs, int(millesime),
                                                {display(p): p for p in files}, qwriter)
        for f in report.files:
            f.rows_loaded -= dup_counts.get(f.file, 0)
            f.rows_quarantined += dup_counts.get(f.file, 0)
            if dup_counts.get(f.file):
                f.reasons["cle_dupliquee"] += dup_counts[f.file]
        if source == "rnic":
            flagged = Counter(conn.execute(sa.text(RNIC_POINT_FAR_FROM_COMMUNE_SQL.format(table=swap.table)),
                                           {"millesime": int(millesime)}).scalars())
            for f in report.files:
                if flagged.get(f.file):
                    f.soft["point_loin_commune"] += flagged[f.file]
        if report.rows_read == 0:  # header-only files: never publish an empty millésime by mistake
            raise SourceFileError(", ".join(f.file for f in report.files), "no data row in any file (header only)")
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
    """An optional source without any file: its millésime becomes an empty partition (0 rows).

    Same transaction as a load: the previous rows, quarantine and load log of the millésime go, so
    a millésime whose restricted file was withdrawn no longer publishes the old figures.
    """
    started = time.monotonic()
    prepare_quality_partitions(postgis, report.millesime)
    with postgis.replace_millesime(report.table, report.millesime) as swap:
        for shared in (tables.QUARANTINE.qualified, tables.LOAD_LOG.qualified):
            swap.conn.execute(sa.text(f"delete from {shared} where millesime = :m and source = :s"),
                              {"m": report.millesime, "s": report.source})
        log(f"{report.source} {report.millesime}: no file (optional source), swapping in 0 rows")
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
               display: str, qwriter, log: Callable[[str], None]) -> FileReport:
    f = CsvFile(path, display)
    spec, hm = choose_spec(specs, f.header, display)
    rep = FileReport(file=display, variant=spec.variant, encoding=f.encoding.describe(), delimiter=f.delimiter,
                     bytes=path.stat().st_size, unknown_columns=hm.unknown + hm.duplicates,
                     missing_optional=hm.missing_optional, personal_columns_ignored=hm.personal)
    log(f"{display}: {spec.name}/{spec.variant}, {rep.encoding}, delimiter {f.delimiter!r}, "
        f"{len(hm.index)} known columns, {len(hm.unknown)} unknown")
    transform = RowTransformer(spec, hm, millesime, display)
    columns = spec.copy_columns

    def rows() -> Iterator[tuple]:
        for rec in f.records():
            rep.rows_read += 1
            if rec.fields is None:
                result: tuple | Reject = Reject("csv_invalide", None, rec.error or "unreadable record")
            else:
                result = transform(rec.fields, rec.line, rec.raw)
            if isinstance(result, Reject):
                rep.rows_quarantined += 1
                rep.reasons[result.reason] += 1
                qwriter.writerow([millesime, spec.name, display, rec.line, result.reason, result.field or "",
                                  result.detail, transform.quarantine_raw(rec.fields, rec.raw) or ""])
                continue
            rep.rows_loaded += 1
            written.append(rec.line)
            if rep.rows_read % PROGRESS_EVERY == 0:
                log(f"{display}: {rep.rows_read} rows read")
            yield result

    # File line of each COPY row (4 bytes a row), to name the line PostgreSQL rejects, if it does.
    written = array("I")
    try:
        if spec.sql_columns:
            temp = _temp_table(conn, target, spec)
            copy_rows(conn, temp, columns, rows())
            _insert_from_temp(conn, target, temp, spec)
        else:
            copy_rows(conn, target, columns, rows())
    except (psycopg.Error, sa.exc.DBAPIError) as exc:
        raise _database_rejection(display, exc, written) from exc
    rep.blank_lines = f.blank_lines
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
    """A temporary twin of the fresh table whose geometry columns accept any SRID."""
    name = f"_load_{ident(spec.name)}"
    conn.execute(sa.text(f"drop table if exists pg_temp.{name}"))
    conn.execute(sa.text(f"create temp table {name} (like {target} including defaults) on commit drop"))
    for col in spec.table.columns:
        if col.type.startswith("geometry"):
            conn.execute(sa.text(f"alter table pg_temp.{name} alter column {col.name} type geometry"))
    return f"pg_temp.{name}"


def _insert_from_temp(conn: Connection, target: str, temp: str, spec: SourceSpec) -> None:
    cols = spec.table.column_names
    exprs = [f"{spec.sql_columns[c]} as {c}" if c in spec.sql_columns else c for c in cols]
    conn.execute(sa.text(f"insert into {target} ({', '.join(cols)}) select {', '.join(exprs)} from {temp}"))
    conn.execute(sa.text(f"truncate {temp}"))


def _quarantine_duplicate_keys(conn: Connection, target: str, specs: tuple[SourceSpec, ...], millesime: int,
                               files: dict[str, Path], qwriter) -> Counter:
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
              ["millesime", "source", "source_file", "encoding", "rows_read", "rows_loaded", "rows_quarantined"],
              [(report.millesime, report.source, f.file, f.encoding, f.rows_read, f.rows_loaded,
                f.rows_quarantined) for f in report.files])
