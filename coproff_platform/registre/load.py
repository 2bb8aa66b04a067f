"""The `declarations/` landing source → staging tables, the registry's answers and the quarantine.

For one millésime, in ONE transaction:
1. every file of `<landing>/<M>/declarations/` is read (JSON Lines, or one JSON document holding an
   envelope or a list of envelopes) and checked against the JSON Schema in Python; the
   schema-valid declarations (PDF replaced by facts measured on it, no mail) are COPYed as
   `jsonb`, with the reading order as `cle`;
2. the business controls run set-based in SQL over the whole batch (`controles.evaluate`: one file
   per code in `dbt_like_sql/controles/`), and the registry's answer of each declaration is
   assembled in SQL (`_reponse.sql`, `registre/sql/reponses.sql`); the answers go to `staging.declaration_controle` (one row per failed control, `aucun` when none);
   a rejected declaration goes to `quality.quarantine` with file, line and its blocking codes (no
   raw text: it holds the télédéclarant's mail and the PDF);
3. accepted declarations are typed set-based in SQL (`registre/sql/*.sql`) into
   `staging.declaration`, `_procedure`, `_technique`, `_finance`; the row stays under PostgreSQL's
   TOAST threshold for a usual declaration (keeping the received envelope beside it made every
   `doc ->` of the typing decompress it: 7× slower typing);
4. the five partitions of the millésime are swapped in; read = accepted + rejected or nothing is.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import time
import multiprocessing as mp
import os
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform import normalise as n
from coproff_platform.contracts import tables
from coproff_platform.contracts.declarations import (
    DECLARATION_CONTROLE,
    SPEC,
    TABLES,
)
from coproff_platform.registre.controles import (
    ECHEC_COLUMNS,
    LUE_COLUMNS,
    RECUE_COLUMNS,
    Reponse,
    create_batch_tables,
    evaluate,
    known_numbers,
    structure,
)
from coproff_platform.registre.schema import Failure
from coproff_platform.resources.postgis import PostGISResource, copy_rows, split_table, swap_in

SQL_DIR = Path(__file__).resolve().parent / "sql"
CHUNK_LINES = 2000  # lines a worker examines at a time


@dataclass
class Record:
    """One declaration as received: where it was read and its envelope."""

    source_file: str
    source_line: int
    envelope: dict[str, Any] | None
    failure: Failure | None = None  # unreadable line or envelope
    recu_le: dt.datetime | None = None


@dataclass
class FileReport:
    file: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    bytes: int = 0


@dataclass
class DeclarationReport:
    millesime: int
    files: list[FileReport] = field(default_factory=list)
    codes: Counter = field(default_factory=Counter)  # failed controls, all declarations
    rejected_codes: Counter = field(default_factory=Counter)  # blocking codes of rejected declarations
    by_service: Counter = field(default_factory=Counter)  # (service, statut) → count
    seconds: float = 0.0
    control_seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)  # wall seconds of each SQL step after the COPY
    workers: int = 1  # processes that controlled the declarations

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_accepted(self) -> int:
        return sum(f.rows_accepted for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def reconciled(self) -> bool:
        return all(f.rows_read == f.rows_accepted + f.rows_rejected for f in self.files)


# -- reading ------------------------------------------------------------------------------------

def declaration_files(landing_root: Path, millesime: int | str) -> list[Path]:
    folder = landing_root / str(millesime) / SPEC.folder
    if not folder.is_dir():
        return []
    found = {p for pattern in SPEC.patterns for p in folder.glob(pattern) if p.is_file() and not p.name.startswith(".")}
    return sorted(found)


def _record(display: str, line: int, value: Any) -> Record:
    if not isinstance(value, dict) or not isinstance(value.get("declaration"), dict):
        return Record(display, line, value if isinstance(value, dict) else None,
                      Failure("STR_ENVELOPPE", "declaration", "objet {recu_le, declaration} attendu"))
    try:
        received = dt.datetime.fromisoformat(str(value.get("recu_le")).replace("Z", "+00:00"))
    except ValueError:
        return Record(display, line, value, Failure("STR_ENVELOPPE", "recu_le", str(value.get("recu_le"))[:40]))
    return Record(display, line, value, recu_le=received)


def _parse_line(display: str, i: int, line: str) -> Record:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return Record(display, i, None, Failure("STR_JSON_ILLISIBLE", "", str(exc)[:120]))
    return _record(display, i, value)


def read_records(path: Path, display: str) -> Iterator[Record]:
    """Envelopes of one file: a JSON Lines file line by line (blank lines skipped), else one JSON
    document (an envelope, or a list of them numbered from 1)."""
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f, start=1):
                if line.strip():
                    yield _parse_line(display, i, line)
        return
    try:
        value = orjson.loads(path.read_text(encoding="utf-8", errors="replace"))
    except orjson.JSONDecodeError as exc:
        yield Record(display, 1, None, Failure("STR_JSON_ILLISIBLE", "", str(exc)[:120]))
        return
    for i, item in enumerate(value if isinstance(value, list) else [value], start=1):
        yield _record(display, i, item)


def sans_donnees_personnelles(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as staged: no mail; the PDF replaced by its decoded size and SHA-256, and by
    what the R_JUSTIFICATIF_* controls' SQL reads of it (its length in base 64, whether it
    decodes, whether the content starts as a PDF): the PDF itself is never loaded."""
    out = dict(doc)
    if isinstance(doc.get("teledeclarant"), dict):
        out["teledeclarant"] = {k: v for k, v in doc["teledeclarant"].items() if k != "mail_utilisateur"}
    r = doc.get("rattachement")
    if isinstance(r, dict):
        j = r.get("justificatif")
        content = decoded(j) if j else None
        out["rattachement"] = {k: v for k, v in r.items() if k != "justificatif"} | {
            "justificatif_octets": len(content or b""), "justificatif_sha256": hashlib.sha256(content or b"").hexdigest(),
            "justificatif_caracteres": len(j) if isinstance(j, str) else None,
            "justificatif_base64": content is not None,
            "justificatif_pdf": content.startswith(b"%PDF") if content is not None else None}
    return out


def decoded(justificatif: str) -> bytes | None:
    try:
        return base64.b64decode(justificatif, validate=True)
    except (binascii.Error, ValueError):
        return None


def canonical(value: Any) -> str | None:
    try:
        return n.num_immat(value) if isinstance(value, str) else None
    except n.Invalid:
        return None


def staged_row(doc: dict[str, Any], service: str, recu_le: dt.datetime | None) -> list[Any]:
    """The `declaration_recue` row of a schema-valid declaration (after `cle`): the parcels as FF
    idpar (normalise.idpar, NULL when malformed), the main syndicate's number, the document as
    staged."""
    return [service, recu_le, recu_le.date() if recu_le is not None else None,
            canonical(doc["identification"].get("numero_syndicat_principal")), parcelles(doc),
            orjson.dumps(sans_donnees_personnelles(doc)).decode()]


def parcelles(doc: dict[str, Any]) -> list[str | None]:
    """The declared parcels in FF `idpar` form (None for a malformed reference)."""
    out = []
    for ref in (doc.get("identification") or {}).get("parcelles_cadastrales") or []:
        try:
            out.append(n.idpar(ref))
        except n.Invalid:
            out.append(None)
    return out


@dataclass
class Examined:
    """A record after the Python side of the controls (picklable: the loader's workers return it):
    its structure failures, or the row of a schema-valid declaration for the SQL controls."""

    source_file: str
    source_line: int
    id_depot: Any
    service: str | None
    num: str | None
    failures: list[Failure] = field(default_factory=list)  # structure (empty: schema-valid)
    staged: list[Any] | None = None  # declaration_recue row after cle

    @property
    def reponse(self) -> Reponse:
        """The answer when the structure failed (a schema-valid declaration's comes from SQL)."""
        return Reponse(self.service, self.failures, structure_valide=not self.failures)


def examine(record: Record) -> Examined:
    """Parse, envelope and JSON Schema; a schema-valid declaration's row for the SQL controls."""
    env = record.envelope or {}
    if record.failure is not None:
        return Examined(record.source_file, record.source_line, env.get("id_depot"), None, None, [record.failure])
    doc = env["declaration"]
    rep = structure(doc)
    service = rep.service if rep is not None else doc["service"]
    num = canonical(doc.get("numero_immatriculation")) if service == "WS2" else canonical(env.get("numero_attribue"))
    ex = Examined(record.source_file, record.source_line, env.get("id_depot"), service, num)
    if rep is not None:
        ex.failures = rep.controles
    else:
        ex.staged = staged_row(doc, service, record.recu_le)
    return ex


def _examine_lines(display: str, lines: list[tuple[int, str]]) -> list[Examined]:
    """A worker's share: JSON Lines parsed and schema-checked (no database)."""
    return [examine(_parse_line(display, i, line)) for i, line in lines]


def examined(files: list[Path], display: Callable[[Path], str], workers: int
             ) -> Iterator[tuple[Path, str, Iterator[Examined]]]:
    """Each file's records examined in reading order; JSON Lines by `workers` processes, chunks of
    lines kept in order with a bounded number in flight (memory: a few chunks, not the file)."""
    pool = mp.get_context("fork").Pool(workers) if workers > 1 else None
    try:
        for path in files:
            shown = display(path)
            if pool is None or path.suffix != ".jsonl":
                yield path, shown, (examine(r) for r in read_records(path, shown))
            else:
                yield path, shown, _pooled(pool, path, shown, workers)
    finally:
        if pool is not None:
            pool.terminate()


def _pooled(pool: Any, path: Path, shown: str, workers: int) -> Iterator[Examined]:
    pending: deque = deque()

    def chunks() -> Iterator[list[tuple[int, str]]]:
        chunk: list[tuple[int, str]] = []
        with path.open(encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f, start=1):
                if line.strip():
                    chunk.append((i, line))
                    if len(chunk) == CHUNK_LINES:
                        yield chunk
                        chunk = []
        if chunk:
            yield chunk

    for chunk in chunks():
        pending.append(pool.apply_async(_examine_lines, (shown, chunk)))
        if len(pending) >= 2 * workers:
            yield from pending.popleft().get()
    while pending:
        yield from pending.popleft().get()


# -- loading ------------------------------------------------------------------------------------

def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _prepare(conn: Connection, millesime: int) -> None:
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('coproff.setup'))"))
    tables.create_all(conn)  # the declarations' staging tables
    # The typing SQL joins the reference layer, loaded by the ref/* assets (upstream of this one).
    if conn.execute(sa.text("select to_regclass('ref.etiquettes_dpe')")).scalar() is None:
        raise RuntimeError("declarations: table ref.etiquettes_dpe is missing; materialize the reference "
                           "layer (assets ref/*) before the declarations")
    for q in ("quality.quarantine", "quality.load_log"):
        tables.ensure_partition(conn, q, millesime)
    create_batch_tables(conn)
    # The answers join the whole batch by `cle` (hash joins of 565,000 rows at national size): with
    # the default 4 MB they spill in batches, writing the 1 GB of documents to temporary files.
    conn.execute(sa.text("set local work_mem = '128MB'"))


def _fresh(conn: Connection, table: str, millesime: int) -> str:
    schema, name = split_table(table)
    new = f"{schema}.{name}_m{millesime}_new"
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"coproff.swap:{table}"})
    conn.execute(sa.text(f"drop table if exists {new}"))
    conn.execute(sa.text(f"create table {new} (like {table} including defaults)"))
    conn.execute(sa.text(f"alter table {new} add constraint {name}_m{millesime}_millesime "
                         f"check (millesime is not null and millesime = {millesime})"))
    return new


def workers_for() -> int:
    """Processes controlling the declarations: COPROFF_DECLARATION_WORKERS, else 1. A pool of 2 on
    the shared 2-core machine did not pay (BENCHMARKS.md: 42.7 s against 27.5 s for 50,000
    declarations under a load average of 9); it is there for a host with idle cores."""
    return max(1, int(os.environ.get("COPROFF_DECLARATION_WORKERS") or 1))


def load_declarations(postgis: PostGISResource, millesime: int, files: list[Path],
                      display: Callable[[Path], str] = str, log: Callable[[str], None] = lambda _: None,
                      workers: int | None = None) -> DeclarationReport:
    millesime = int(millesime)
    workers = workers_for() if workers is None else workers
    report = DeclarationReport(millesime, workers=workers)
    started = time.monotonic()
    with postgis.engine.begin() as conn:
        _prepare(conn, millesime)
        fresh = {t.qualified: _fresh(conn, t.qualified, millesime) for t in TABLES}
        lues: list[list[Any]] = []
        echecs: list[list[Any]] = []
        t0 = time.monotonic()

        def recues() -> Iterator[list[Any]]:
            """Reads every file; yields the schema-valid declarations as COPY rows (streamed: memory
            holds a few chunks of declarations, not the batch); the reading order is `cle`."""
            cle = 0
            for path, shown, records in examined(files, display, workers):
                report.files.append(FileReport(shown, bytes=path.stat().st_size))
                for ex in records:
                    cle += 1
                    lues.append([cle, ex.source_file, ex.source_line, ex.id_depot, ex.num, ex.service, not ex.failures])
                    for f in ex.failures:
                        echecs.append([cle, f.code, f.champ or None, f.detail or None])
                    if ex.staged is not None:
                        yield [cle, *ex.staged]

        copy_rows(conn, "pg_temp.declaration_recue", RECUE_COLUMNS, recues())
        copy_rows(conn, "pg_temp.declaration_lue", LUE_COLUMNS, lues)
        copy_rows(conn, "pg_temp.echec", ECHEC_COLUMNS, echecs)
        del lues[:], echecs[:]
        report.steps["lecture, schéma, COPY"] = time.monotonic() - t0
        t0 = time.monotonic()
        conn.execute(sa.text("analyze pg_temp.declaration_recue (cle)"))  # the joins' key; jsonb stats cost
        known_numbers(conn, millesime)
        evaluate(conn, timings=report.steps)
        report.control_seconds = time.monotonic() - started
        t0 = time.monotonic()
        for statement in _sql("reponses").split(";\n"):
            if statement.strip():
                conn.execute(sa.text(statement), {"millesime": millesime, "source": SPEC.name})
        ctl = fresh[DECLARATION_CONTROLE.qualified]
        conn.execute(sa.text(f"insert into {ctl} ({', '.join(DECLARATION_CONTROLE.column_names)}) "
                             f"select {', '.join(DECLARATION_CONTROLE.column_names)} from declaration_reponse"))
        _report(conn, report, ctl)
        if not report.reconciled:
            raise RuntimeError(f"declarations {millesime}: rows read ≠ accepted + rejected")
        report.steps["réponses"] = time.monotonic() - t0
        for t in TABLES:
            if t is DECLARATION_CONTROLE:
                continue
            t0 = time.monotonic()
            cols = ", ".join(t.column_names)
            conn.execute(sa.text(f"insert into {fresh[t.qualified]} ({cols}) {_sql(t.qualified.split('.')[1])}"),
                         {"millesime": millesime})
            report.steps[t.qualified] = time.monotonic() - t0
        t0 = time.monotonic()
        conn.execute(sa.text("delete from quality.quarantine where millesime = :m and source = :s"),
                     {"m": millesime, "s": SPEC.name})
        conn.execute(sa.text("delete from quality.load_log where millesime = :m and source = :s"),
                     {"m": millesime, "s": SPEC.name})
        conn.execute(sa.text(_sql("quarantaine")), {"millesime": millesime, "source": SPEC.name})
        copy_rows(conn, "quality.load_log",
                  ["millesime", "source", "source_file", "encoding", "rows_read", "rows_loaded", "rows_quarantined"],
                  [[millesime, SPEC.name, f.file, "utf-8", f.rows_read, f.rows_accepted, f.rows_rejected] for f in report.files])
        for t in TABLES:
            conn.execute(sa.text(f"analyze {fresh[t.qualified]}"))
            swap_in(conn, t.qualified, millesime, fresh[t.qualified])
        report.steps["quarantine, analyze, swap"] = time.monotonic() - t0
    report.seconds = time.monotonic() - started
    for f in report.files:
        log(f"{f.file}: read {f.rows_read}, accepted {f.rows_accepted}, rejected {f.rows_rejected}")
    return report


def _report(conn: Connection, report: DeclarationReport, controles: str) -> None:
    """The report's counts, from the answers (per file, per service, per code)."""
    by_file = {f.file: f for f in report.files}
    for file, read, accepted in conn.execute(sa.text(
            "select l.source_file, count(*), count(*) filter (where r.statut = 'acceptee') "
            "from declaration_lue l join reponse r using (cle) group by 1")):
        f = by_file[file]
        f.rows_read, f.rows_accepted, f.rows_rejected = read, accepted, read - accepted
    for service, statut, count in conn.execute(sa.text(
            "select coalesce(l.service, '?'), r.statut, count(*) from declaration_lue l join reponse r using (cle) group by 1, 2")):
        report.by_service[(service, statut)] += count
    for code, count in conn.execute(sa.text(f"select code, count(*) from {controles} where code <> 'aucun' group by 1")):
        report.codes[code] += count
    for code, count in conn.execute(sa.text(f"select code, count(distinct (source_file, source_line)) from {controles} "
                                            "where statut = 'rejetee' and niveau = 'bloquant' group by 1")):
        report.rejected_codes[code] += count
