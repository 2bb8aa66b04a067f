"""The `declarations/` landing source → staging tables, the registry's answers and the quarantine.

For one millésime, in ONE transaction:
1. every file of `<landing>/<M>/declarations/` is read (JSON Lines, or one JSON document holding an
   envelope or a list of envelopes); each declaration gets the registry's answer (`controler()`:
   JSON Schema structure controls, then the business controls);
2. the answers go to `staging.declaration_controle` (one row per failed control, `aucun` when none);
   a rejected declaration goes to `quality.quarantine` with file, line and its blocking codes (no
   raw text: it holds the télédéclarant's mail and the PDF);
3. accepted declarations, with the PDF replaced by its size and SHA-256 and the mail dropped, are
   COPYed as `jsonb` into a temporary table and typed set-based in SQL (`registre/sql/*.sql`) into
   `staging.declaration`, `_procedure`, `_technique`, `_finance`; the row stays under PostgreSQL's
   TOAST threshold for a usual declaration (keeping the received envelope beside it made every
   `doc ->` of the typing decompress it: 7× slower typing);
4. the five partitions of the millésime are swapped in; read = accepted + rejected or nothing is.
"""

from __future__ import annotations

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
from coproff_platform.registre.controles import Reponse, catalogue, controler, decoded, existence_failure
from coproff_platform.registre.schema import Failure
from coproff_platform.resources.postgis import PostGISResource, copy_rows, split_table, swap_in

SQL_DIR = Path(__file__).resolve().parent / "sql"
CHUNK_LINES = 2000  # lines a worker controls at a time
RECUE_COLUMNS = ["source_file", "source_line", "id_depot", "num_immat", "service", "statut", "recu_le",
                 "codes_alerte", "l_idpar", "num_immat_principal", "doc"]


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
    """The document as staged: the PDF replaced by its decoded size and SHA-256, no mail."""
    out = dict(doc)
    if isinstance(doc.get("teledeclarant"), dict):
        out["teledeclarant"] = {k: v for k, v in doc["teledeclarant"].items() if k != "mail_utilisateur"}
    r = doc.get("rattachement")
    if isinstance(r, dict):
        content = decoded(r.get("justificatif") or "") or b""
        out["rattachement"] = {k: v for k, v in r.items() if k != "justificatif"} | {
            "justificatif_octets": len(content), "justificatif_sha256": hashlib.sha256(content).hexdigest()}
    return out


# -- the registry's known numbers (WS2 existence) ----------------------------------------------

class RegistreConnu:
    """Registration numbers the registry knows for a millésime: the registry export of this
    millésime and earlier, numbers attributed by WS1 (earlier millésimes, earlier lines of this
    load) and by the editors' test service."""

    def __init__(self, numbers: set[str] | None = None) -> None:
        self.numbers: set[str] = set(numbers or ())

    def connu(self, num_immat: str | None) -> bool:
        return num_immat in self.numbers

    @classmethod
    def from_database(cls, conn: Connection, millesime: int) -> "RegistreConnu":
        sql = (SQL_DIR / "numeros_connus.sql").read_text(encoding="utf-8")
        present = {t for t in ("staging.rnic", "staging.declaration", "registre_test.numero")
                   if conn.execute(sa.text("select to_regclass(:t)"), {"t": t}).scalar()}
        parts = [p.strip() for p in sql.split("-- part:")[1:]]
        queries = [p.split("\n", 1)[1] for p in parts if p.split("\n", 1)[0].strip() in present]
        numbers: set[str] = set()
        for q in queries:
            numbers.update(r[0].strip() for r in conn.execute(sa.text(q), {"millesime": millesime}) if r[0])
        return cls(numbers)


def canonical(value: Any) -> str | None:
    try:
        return n.num_immat(value) if isinstance(value, str) else None
    except n.Invalid:
        return None


@dataclass
class Examined:
    """A record controlled without the registry (picklable: the loader's workers return it)."""

    source_file: str
    source_line: int
    id_depot: Any
    reponse: Reponse
    num: str | None
    recu_le: dt.datetime | None = None
    principal: str | None = None
    staged: str | None = None  # the document as staged (JSON), when no control blocked it


def examine(record: Record) -> Examined:
    """Every control but WS2 existence, and the staged document of a declaration they accept."""
    env = record.envelope or {}
    if record.failure is not None:
        return Examined(record.source_file, record.source_line, env.get("id_depot"),
                        Reponse(None, [record.failure], structure_valide=False), None)
    doc = env["declaration"]
    rep = controler(doc, recu_le=record.recu_le, registre=None)
    num = canonical(doc.get("numero_immatriculation")) if doc.get("service") == "WS2" else canonical(env.get("numero_attribue"))
    rep.numero_immatriculation = num
    ex = Examined(record.source_file, record.source_line, env.get("id_depot"), rep, num, record.recu_le)
    if rep.acceptee:
        ex.principal = canonical(doc["identification"].get("numero_syndicat_principal"))
        ex.staged = orjson.dumps(sans_donnees_personnelles(doc)).decode()
    return ex


def judge(ex: Examined, registre: RegistreConnu) -> Examined:
    """WS2 existence against the registry, in reading order: a WS1 accepted on an earlier line
    makes its number known."""
    rep = ex.reponse
    if rep.service == "WS2" and rep.structure_valide:
        f = existence_failure(ex.num, registre)
        if f is not None:
            rep.add(f)
            ex.staged = None
    elif rep.service == "WS1" and rep.acceptee and ex.num:
        registre.numbers.add(ex.num)
    return ex


def answer(record: Record, registre: RegistreConnu) -> tuple[Reponse, str | None]:
    """The registry's answer to one record and the registration number it concerns."""
    ex = judge(examine(record), registre)
    return ex.reponse, ex.num


def _examine_lines(display: str, lines: list[tuple[int, str]]) -> list[Examined]:
    """A worker's share: JSON Lines parsed and controlled (no database, no registry)."""
    return [examine(_parse_line(display, i, line)) for i, line in lines]


def examined(files: list[Path], display: Callable[[Path], str], workers: int
             ) -> Iterator[tuple[Path, str, Iterator[Examined]]]:
    """Each file's records controlled in reading order; JSON Lines by `workers` processes, chunks of
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
    conn.execute(sa.text(
        "create temporary table declaration_recue (source_file text, source_line integer, id_depot text, "
        "num_immat char(9), service text, statut text, recu_le timestamptz, codes_alerte text[], l_idpar text[], "
        "num_immat_principal char(9), doc jsonb) on commit drop"))


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
    cat = catalogue()
    with postgis.engine.begin() as conn:
        _prepare(conn, millesime)
        fresh = {t.qualified: _fresh(conn, t.qualified, millesime) for t in TABLES}
        registre = RegistreConnu.from_database(conn, millesime)
        controles: list[list[Any]] = []
        quarantine: list[list[Any]] = []
        t0 = time.monotonic()

        def accepted_rows() -> Iterator[list[Any]]:
            """Reads and controls every file; yields the accepted declarations as COPY rows (streamed:
            memory holds a few chunks of declarations, not the batch), the answers and rejects go to
            the lists."""
            for path, shown, records in examined(files, display, workers):
                frep = FileReport(shown, bytes=path.stat().st_size)
                report.files.append(frep)
                for ex in records:
                    judge(ex, registre)
                    rep, num, id_depot = ex.reponse, ex.num, ex.id_depot
                    frep.rows_read += 1
                    statut = "acceptee" if rep.acceptee else "rejetee"
                    report.by_service[(rep.service or "?", statut)] += 1
                    for f in rep.controles or [Failure("aucun")]:
                        niveau = cat[f.code].niveau if f.code in cat else None
                        controles.append([millesime, id_depot, num, rep.service, statut, f.code, niveau,
                                          f.champ or None, f.detail or None, ex.source_file, ex.source_line])
                        if f.code in cat:
                            report.codes[f.code] += 1
                    if rep.acceptee:
                        frep.rows_accepted += 1
                        yield [ex.source_file, ex.source_line, id_depot, num, rep.service, statut, ex.recu_le,
                               sorted({f.code for f in rep.controles}), [p for p in rep.parcelles if p],
                               ex.principal, ex.staged]
                    else:
                        frep.rows_rejected += 1
                        blocking = rep.bloquants
                        report.rejected_codes.update({f.code for f in blocking})
                        first = blocking[0]
                        quarantine.append([millesime, SPEC.name, ex.source_file, ex.source_line, first.code,
                                           first.champ or None,
                                           "; ".join(f"{f.code} {f.champ}".strip() for f in blocking)[:1000], None])
                log(f"{shown}: read {frep.rows_read}, accepted {frep.rows_accepted}, rejected {frep.rows_rejected}")

        copy_rows(conn, "pg_temp.declaration_recue", RECUE_COLUMNS, accepted_rows())
        report.control_seconds = time.monotonic() - t0
        if not report.reconciled:
            raise RuntimeError(f"declarations {millesime}: rows read ≠ accepted + rejected")
        t0 = time.monotonic()
        conn.execute(sa.text("analyze pg_temp.declaration_recue"))
        copy_rows(conn, fresh[DECLARATION_CONTROLE.qualified], [c.name for c in DECLARATION_CONTROLE.columns], controles)
        report.steps["analyze + controles"] = time.monotonic() - t0
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
        copy_rows(conn, "quality.quarantine",
                  ["millesime", "source", "source_file", "source_line", "reason", "field", "detail", "raw"], quarantine)
        copy_rows(conn, "quality.load_log",
                  ["millesime", "source", "source_file", "encoding", "rows_read", "rows_loaded", "rows_quarantined"],
                  [[millesime, SPEC.name, f.file, "utf-8", f.rows_read, f.rows_accepted, f.rows_rejected] for f in report.files])
        for t in TABLES:
            conn.execute(sa.text(f"analyze {fresh[t.qualified]}"))
            swap_in(conn, t.qualified, millesime, fresh[t.qualified])
        report.steps["quarantine, analyze, swap"] = time.monotonic() - t0
    report.seconds = time.monotonic() - started
    return report
