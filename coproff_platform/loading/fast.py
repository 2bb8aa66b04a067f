"""Fast path of one CSV file: raw bytes COPYed as text, normalised set-based in SQL.

1. The file's bytes go unparsed, in blocks of whole lines (about 1 MB), into `COPY <temp raw
   table> FROM STDIN (FORMAT csv, HEADER)`: all-text columns in the file's header order plus
   `_n`, the record's order (identity). PostgreSQL checks the CSV shape and the UTF-8.
2. One `INSERT … SELECT … RETURNING source_line` writes the rows whose every raw value is in a form
   the SQL twins (`loading.sqlrules`) handle exactly, with their derived columns (RNIC's l_idpar and
   point, DPE/LOVAC's reprojected point checked against the territory boxes, DVF's line hash) and
   RNIC's controls in `controles`. The other rows (an invalid value, a soft issue, a rarer
   spelling, a line holding an unusual space or, for a line hash, a quote; a point outside every
   territory) are fetched by number and go through the Python transformer (`RowTransformer.batch`),
   which quarantines or loads them exactly as the Python path does (points via the temporary
   table and `geometry_checks.sql`).

Guards (any failure: the file is declined and `load._load_file` reads it with the Python path,
unchanged, inside the same transaction after a savepoint rollback): no NUL byte, no quote inside
an unquoted field, valid UTF-8 and a consistent CSV shape (COPY errors: ragged rows, bad quoting,
blank lines, mixed line endings), and one record per physical line (COPY's row count + header =
the file's line count), which makes the line number exact: line = `_n` + 1.

Sources: `plan` returns None (Python path) unless every rule, derived column and control of the
spec has a twin: RNIC, DVF (Etalab), DPE and LOVAC today; FF parcels, TUPs, DVF DGFiP, DV3F not.
"""

from __future__ import annotations

import os
import re
import time
from array import array
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform.contracts.sources import SourceSpec
from coproff_platform.loading import sqlrules
from coproff_platform.loading.transform import HeaderMap, Reject, RowTransformer
from coproff_platform.resources.postgis import copy_rows, ident
from coproff_platform.sqltext import literal

# On by default; COPROFF_FAST_LOAD=0 sends every file through the Python path (A/B benchmarks).
ENABLED = os.environ.get("COPROFF_FAST_LOAD", "1") != "0"
BLOCK = 1 << 20

# Whitespace Python's `str.split()`/`strip()` know but `btrim(x, ' ')` does not: a line holding one
# goes to Python (tab too unless it is the delimiter). Found with `bytes.count`/`translate` (C
# speed, about 1 ms a MB): a regular expression over every byte cost 0.5 s on a 10 MB file.
_UNUSUAL = (b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f", b"\xc2\x85", b"\xc2\xa0", b"\xe1\x9a\x80",
            *(b"\xe2\x80" + bytes([c]) for c in (*range(0x80, 0x8b), 0xa8, 0xa9, 0xaf)), b"\xe2\x81\x9f", b"\xe3\x80\x80")
_UNUSUAL_SPACE = b"|".join(re.escape(u) for u in _UNUSUAL) + rb"|\r(?!\n)"
# Lead bytes of those sequences: a block without any is clean (the common case, one translate).
_LEADS = bytes(sorted({u[0] for u in _UNUSUAL} | {0x09, 0x0D}))
_NOT_LEADS = bytes(b for b in range(256) if b not in _LEADS)


def _unusual_lines(block: bytes, delimiter: bytes, first_line: int) -> list[int]:
    """0-based file line numbers of the block's lines holding an unusual space or a lone CR."""
    leads = block.translate(None, _NOT_LEADS)
    if not leads or (leads == b"\t" * len(leads) and delimiter == b"\t"):
        return []
    tab = delimiter != b"\t" and b"\t" in leads
    lone_cr = b"\r" in leads and block.count(b"\r") != block.count(b"\r\n")
    if not tab and not lone_cr and not any(u in block for u in _UNUSUAL):
        return []
    pattern = re.compile(_UNUSUAL_SPACE + (rb"|\t" if tab else rb""))
    return [first_line + block.count(b"\n", 0, m.start()) for m in pattern.finditer(block)]


def _quoted_lines(block: bytes, first_line: int) -> list[int]:
    """0-based file line numbers of the block's lines holding a quote."""
    lines, pos, line, counted = [], block.find(b'"'), first_line, 0
    while pos >= 0:
        line += block.count(b"\n", counted, pos)
        lines.append(line)
        end = block.find(b"\n", pos)
        if end < 0:
            break
        line, counted = line + 1, end + 1
        pos = block.find(b'"', counted)
    return lines


def _odd_quote(chunk: bytes, d: bytes) -> bool:
    """A quote that neither opens nor closes a field nor is doubled (`ab"cd"ef`): Python's csv keeps
    it as a character, PostgreSQL's COPY starts a quoted section. Each legitimate pattern is removed;
    any quote left declines the file."""
    if b'"' not in chunk:
        return False
    rest = (chunk.replace(b'""', b"").replace(d + b'"', d).replace(b'"' + d, d).replace(b'\n"', b"\n")
            .replace(b'"\r\n', b"\r\n").replace(b'"\n', b"\n"))
    return b'"' in rest


class Declined(Exception):
    """The file does not qualify for the fast path; the message says why (logged)."""


@dataclass
class Plan:
    spec: SourceSpec
    hm: HeaderMap
    values: list[tuple[str, str]]  # (output column, value SQL over the raw columns)
    ok: list[str]  # predicates: all true → the row is normalised in SQL
    outputs: list[str]  # copy columns after millesime, before source_file/source_line
    point: sqlrules.Point | None = None  # the WGS84 point column, built and checked in SQL


def plan(spec: SourceSpec, hm: HeaderMap) -> Plan | None:
    """The SQL of `spec` for this header, or None when a rule, derived column or control has no
    SQL twin yet (the source keeps the Python path)."""
    if spec.reader != "csv":
        return None
    controls = sqlrules.CONTROLS.get(spec.name, {})
    if set(controls) != {c.code for c in spec.controls} or (spec.flags_column and not spec.controls):
        return None
    point, derived = None, sqlrules.DERIVED_SQL.get(spec.name, {})
    if spec.name in sqlrules.POINTS:
        points = sqlrules.POINTS[spec.name]
        # Only a WGS84 point column reprojected from the file's projection, as DPE and LOVAC have.
        if (set(points) != {d.column for d in spec.derived} or len(points) != 1
                or spec.sql_columns != {c: f"st_transform({c}, 4326)" for c in points}):
            return None
        point = next(iter(points.values()))({r.column: f"v0.{r.column}" for r in spec.rules})
    elif set(derived) != {d.column for d in spec.derived} or spec.sql_columns:
        return None
    values, ok = [], []
    for rule in spec.rules:
        raw = [f"r.c{hm.index[i]}" if i in hm.index else None for i in rule.inputs]
        rendered = sqlrules.render(rule, raw)
        if rendered is None:
            return None
        value, good = rendered
        values.append((rule.column, value))
        if good != "true":
            ok.append(good)
        if rule.not_null:
            ok.append(f"{value} is not null")
    cols = {r.column: f"v.{r.column}" for r in spec.rules}
    outputs = [cols[r.column] for r in spec.rules if not r.column.startswith("_")]
    outputs += ["v._g" if point else derived[d.column](cols) for d in spec.derived if not d.column.startswith("_")]
    if spec.flags_column:  # the controls' codes, in declaration order (SQL rows have no soft issue)
        outputs.append("array_remove(array[" + ", ".join(
            f"case when {controls[c.code](cols)} then {literal(c.code)} end" for c in spec.controls)
            + "]::text[], null)")
    if spec.line_hash_column:  # `transform.line_hash`: md5 of the line, rebuilt from its fields
        outputs.append("v._h")
    return Plan(spec, hm, values, ok, outputs, point)


@dataclass
class Result:
    rows_read: int
    rows_loaded: int
    rejects: list[tuple[int, Reject, str | None]]  # (line, reject, quarantine raw)
    python_rows: int
    soft: dict[str, int]
    seconds: dict[str, float]  # raw COPY, normalising INSERT, Python rows


def load(conn: Connection, dest: str, p: Plan, path: Path, delimiter: str, transform: RowTransformer,
         millesime: int, display: str, line_offset: int = 0, python_dest: str | None = None) -> Result:
    """Loads `path` into `dest` (its `spec.copy_columns`); raises `Declined` (or a database error)
    when the file must take the Python path instead. Call inside a savepoint.

    With a point column (`p.point`) the SQL rows go straight to `dest` with their WGS84 point, and
    the Python rows, whose geometry is still EWKT text, to `python_dest` (the load's temporary
    table, checked by `load._insert_from_temp`); so do the points outside every territory."""
    spec, hm = p.spec, p.hm
    raw_table = f"pg_temp._raw_{ident(spec.name)}"
    width = hm.width
    cols = ", ".join(f"c{i}" for i in range(width))
    conn.execute(sa.text(f"drop table if exists {raw_table}"))
    conn.execute(sa.text(f"create temp table {raw_table.split('.')[1]} "
                         f"(_n bigint generated always as identity, {', '.join(f'c{i} text' for i in range(width))}) "
                         "on commit drop"))
    d = delimiter.encode()
    suspects: list[int] = []  # record numbers (`_n`) of lines holding an unusual space
    newlines, last = 0, b"\n"
    driver = conn.connection.driver_connection
    started = time.monotonic()
    with driver.cursor() as cur:
        with cur.copy(f"COPY {raw_table} ({cols}) FROM STDIN "
                      f"(FORMAT csv, HEADER true, DELIMITER {literal(delimiter)})") as copy, \
                open(path, "rb") as fh:
            # Blocks of whole lines: no pattern the guards look for is split between two blocks.
            while block := fh.read(BLOCK):
                block += fh.readline()
                if b"\x00" in block:
                    raise Declined("NUL byte")
                if _odd_quote(b"\n" + block + (b"" if block.endswith(b"\n") else b"\n"), d):
                    raise Declined("quote inside an unquoted field")
                suspects += _unusual_lines(block, d, newlines)  # 0-based line = record number
                if spec.line_hash_column:
                    suspects += _quoted_lines(block, newlines)
                newlines += block.count(b"\n")
                last = block[-1:]
                copy.write(block)
        rows = cur.rowcount
    copied = time.monotonic()
    lines = newlines + (0 if last == b"\n" else 1)
    if rows + 1 != lines:
        raise Declined(f"{lines} lines for {rows} records and a header (quoted line breaks)")
    if p.point is not None:
        srids = sqlrules.territory_srids()
        known = conn.execute(sa.text("select count(*) from spatial_ref_sys where srid = any(:s)"), {"s": srids}).scalar()
        if known != len(srids):
            raise Declined("a territory's projection is not in spatial_ref_sys")
    all_ok = " and ".join(f"coalesce({o}, false)" for o in p.ok) or "true"
    sus = f"_n <> all(cast(:sus as bigint[]))" if suspects else "true"
    inner = ", ".join(f"{v} as {c}" for c, v in p.values)
    # Each used raw column trimmed and tested for a placeholder once a row (fenced subqueries).
    used = sorted(set(hm.index.values()))
    pairs = [sqlrules.trimmed_columns(i) for i in used]
    # A line without quotes is its fields joined by the delimiter: its hash is computed here (lines
    # with quotes went to Python: `_quoted_lines`).
    hashed = (f", md5(concat_ws({literal(delimiter)}, {', '.join(f'coalesce(c{i}, {chr(39) * 2})' for i in range(width))}))"
              " as _h") if spec.line_hash_column else ""
    keep_h = ", l._h" if hashed else ""
    layers = (f"(select l._n{keep_h}, {', '.join(f'l.t{i}' for i in used)}, {', '.join(m for _, m in pairs)} from "
              f"(select _n{hashed}, {', '.join(t for t, _ in pairs)} from {raw_table} offset 0) l offset 0) r")
    inner = inner + (", r._h as _h" if hashed else "")
    columns = spec.copy_columns
    vouched = f"(select r._n, {inner} from {layers} where {all_ok} and {sus} offset 0)"
    normalised = f"{vouched} v"
    if p.point is not None:  # a point outside every territory goes to Python and the geometry checks
        normalised = (f"(select v0.*, {p.point.wgs84()} as _g from {vouched} v0 offset 0) v "
                      f"where v._g is null or {sqlrules.in_territory('v._g')}")
    # One pass: the vouched rows are inserted, their record numbers come back; the others (usually
    # none) are then fetched by number, so the predicates are never evaluated twice.
    loaded = conn.execute(sa.text(
        f"insert into {dest} ({', '.join(columns)}) "
        f"select :m, {', '.join(p.outputs)}, :file, v._n + :add from {normalised} "
        f"returning source_line, {spec.flags_column or 'null'}"
    ), {"m": millesime, "file": display, "add": 1 - line_offset, **({"sus": suspects} if suspects else {})})
    done = array("q")
    flagged: Counter = Counter()
    for line, flags in loaded:
        done.append(line)
        if flags:
            flagged.update(flags)
    inserted = time.monotonic()
    left = []
    if len(done) < rows:
        seen = bytearray(rows + 1)
        for line in done:
            seen[line - 1 + line_offset] = 1
        others = [k for k in range(1, rows + 1) if not seen[k]]
        left = conn.execute(sa.text(
            f"select r._n, {cols if width else 'null'} from {raw_table} r "
            f"where r._n = any(cast(:others as bigint[])) order by r._n"), {"others": others}).all()
    # Python needs the raw text of a line for its hash (`line_hash`), else only for a reject.
    raw_text = _read_lines(path, {row[0] for row in left}) if left and spec.line_hash_column else {}
    records = [([v if v is not None else "" for v in row[1:]], row[0] + 1 - line_offset, raw_text.get(row[0], ""))
               for row in left]
    results = transform.batch(records) if records else []
    rejects: list[tuple[int, Reject, str | None]] = []
    good: list[tuple] = []
    for (fields, line, _), result in zip(records, results):
        if isinstance(result, Reject):
            rejects.append((line, result, None))
        else:
            good.append(result)
    if good:
        copy_rows(conn, python_dest or dest, columns, good)
    if rejects:
        wanted = {line + line_offset - 1 for line, _, _ in rejects}  # 0-based physical line
        raw_of = _read_lines(path, wanted)
        by_line = {r[1]: r[0] for r in records}
        rejects = [(line, rej, (transform.quarantine_raw(by_line[line], raw_of[line + line_offset - 1]) or "")
                    .replace("\x00", "\u2400")) for line, rej, _ in rejects]
    soft = Counter(transform.soft_counts)
    soft.update(flagged)
    return Result(rows, rows - len(rejects), rejects, len(records), dict(soft),
                  {"copy": copied - started, "sql": inserted - copied, "python": time.monotonic() - inserted})


def _read_lines(path: Path, wanted: set[int]) -> dict[int, str]:
    """Decoded text (line ending kept, as the Python reader keeps it) of the 0-based lines `wanted`."""
    out: dict[int, str] = {}
    last = max(wanted)
    with open(path, "rb") as fh:
        for i, line in enumerate(fh):
            if i in wanted:
                out[i] = line.decode("utf-8")
            if i >= last:
                break
    return out


def reasons(result: Result) -> Counter:
    return Counter(rej.reason for _, rej, _ in result.rejects)
