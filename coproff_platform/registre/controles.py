"""The registry's application controls and its answer to declarations.

Every control has one definition:
- structure controls are the JSON Schema of the contract (`schema.py`, `schemas/`), checked in
  Python at the reading edge (the document must be parsed and typed anyway);
- business controls are SQL, one file per code: `dbt_like_sql/controles/<CODE>.sql`, a SELECT of
  the failing `(cle, champ, detail)` over the batch's schema-valid declarations typed once by
  `_soumises.sql`. They run set-based over the whole batch (the landing source) or over a batch of
  one (the editors' test service, `controler()`): same SQL, same answers;
- the existence of a registration number (`M_IMMAT_INCONNUE`) reads `numero_connu` (the registry
  export and the numbers already attributed) and the batch's earlier WS1; it runs last.
Codes, services, levels and French messages are the reference table
`dbt_like_sql/reference/controles_declaration.csv` (loaded as `ref.controles_declaration`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform import reference
from coproff_platform.registre.schema import Failure, structure_failures

CONTROLES_DIR = Path(__file__).resolve().parents[2] / "dbt_like_sql" / "controles"
REGISTRE_SQL_DIR = Path(__file__).resolve().parent / "sql"
EXISTENCE = "M_IMMAT_INCONNUE"  # reads the other controls' failures: evaluated last

# The session's tables of one batch (dropped at commit). `cle` is the reading order.
BATCH_DDL = (
    "create temporary table declaration_lue (cle bigint primary key, source_file text, source_line integer, "
    "id_depot text, num_immat char(9), service text, structure_valide boolean) on commit drop",
    "create temporary table declaration_recue (cle bigint, service text, recu_le timestamptz, recu_jour date, "
    "num_immat_principal char(9), l_idpar text[], doc jsonb) on commit drop",
    "create temporary table echec (cle bigint, code text, champ text, detail text) on commit drop",
)
LUE_COLUMNS = ["cle", "source_file", "source_line", "id_depot", "num_immat", "service", "structure_valide"]
RECUE_COLUMNS = ["cle", "service", "recu_le", "recu_jour", "num_immat_principal", "l_idpar", "doc"]
ECHEC_COLUMNS = ["cle", "code", "champ", "detail"]


@dataclass(frozen=True)
class Controle:
    code: str
    services: tuple[str, ...]
    niveau: str  # bloquant | alerte
    categorie: str  # structure | metier
    message: str

    @property
    def bloquant(self) -> bool:
        return self.niveau == "bloquant"


@functools.cache
def catalogue() -> dict[str, Controle]:
    return {
        r.code: Controle(r.code, tuple(r.services.split()), r.niveau, r.categorie, r.message)
        for r in reference.table("controles_declaration")
    }


@functools.cache
def rank() -> dict[str, int]:
    """The reference table's order: the order of the controls in an answer."""
    return {code: i for i, code in enumerate(catalogue())}


def business_codes() -> list[str]:
    """Business controls in evaluation order (the table's, existence last)."""
    codes = [c.code for c in catalogue().values() if c.categorie == "metier"]
    return [c for c in codes if c != EXISTENCE] + [c for c in codes if c == EXISTENCE]


@functools.cache
def control_sql(code: str) -> str:
    path = CONTROLES_DIR / f"{code}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: business control {code} of controles_declaration.csv has no SQL")
    return path.read_text(encoding="utf-8").strip().rstrip(";")


def _statements(name: str) -> list[str]:
    text = (CONTROLES_DIR / name).read_text(encoding="utf-8")
    # Statements end with `;` at a line end; function bodies are `$$`-quoted on several lines.
    out, current, quoted = [], [], False
    for line in text.splitlines():
        current.append(line)
        quoted ^= line.count("$$") % 2 == 1
        if not quoted and line.rstrip().endswith(";"):
            out.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    rest = "\n".join(current).strip()
    if rest and not all(l.strip().startswith("--") for l in rest.splitlines() if l.strip()):
        out.append(rest)
    return [s for s in out if s.strip()]


def _run(conn: Connection, statement: str) -> None:
    """A statement of a SQL file as written (no bind parameters: `%`, `:` stay SQL), in the
    connection's transaction."""
    conn.connection.driver_connection.execute(statement)


def create_batch_tables(conn: Connection) -> None:
    for ddl in BATCH_DDL:
        conn.execute(sa.text(ddl))


def known_numbers(conn: Connection, millesime: int, connus: Iterable[str] | None = None) -> None:
    """`numero_connu`: the given numbers, else the parts of numeros_connus.sql whose table exists."""
    conn.execute(sa.text("create temporary table numero_connu (num_immat text) on commit drop"))
    if connus is not None:
        from coproff_platform.resources.postgis import copy_rows
        copy_rows(conn, "pg_temp.numero_connu", ["num_immat"], ([c] for c in connus))
    else:
        sql = (REGISTRE_SQL_DIR / "numeros_connus.sql").read_text(encoding="utf-8")
        for part in sql.split("-- part:")[1:]:
            table, query = part.strip().split("\n", 1)
            if conn.execute(sa.text("select to_regclass(:t)"), {"t": table.strip()}).scalar():
                conn.execute(sa.text(f"insert into numero_connu select btrim(num_immat) from ({query}) k"),
                             {"millesime": millesime})
    conn.execute(sa.text("create index on numero_connu (num_immat)"))
    conn.execute(sa.text("analyze numero_connu"))


def evaluate(conn: Connection, existence: bool = True, timings: dict[str, float] | None = None) -> None:
    """Every business control over the batch's `declaration_recue` into `echec`, then `reponse`
    (one row per `declaration_lue`: statut and alert codes). `numero_connu` must exist when
    `existence`."""
    import time
    t0 = time.monotonic()
    for statement in _statements("_fonctions.sql"):
        _run(conn, statement.replace("create function", "create or replace function", 1))
    for statement in _statements("_soumises.sql"):
        _run(conn, statement)
    if timings is not None:
        timings["typage des contrôles"] = time.monotonic() - t0
    cat = catalogue()
    t0 = time.monotonic()
    for code in business_codes():
        if code == EXISTENCE and not existence:
            continue
        services = cat[code].services
        scope = "" if set(services) >= {"WS1", "WS2"} else (
            " join declaration_soumise s using (cle) where s.service = any(cast(:services as text[]))")
        conn.execute(sa.text(f"insert into echec (cle, code, champ, detail) "
                             f"select e.cle, :code, e.champ, nullif(e.detail, '') from ({control_sql(code)}\n) e{scope}"),
                     {"code": code, "services": list(services)})
    if timings is not None:
        timings["contrôles métier"] = time.monotonic() - t0
    for statement in _statements("_reponse.sql"):
        _run(conn, statement)


# -- the registry's answer to one declaration ----------------------------------------------------

@dataclass
class Reponse:
    """The registry's answer to one declaration, as the web service returns it."""

    service: str | None
    controles: list[Failure] = field(default_factory=list)
    structure_valide: bool = True
    numero_immatriculation: str | None = None

    @property
    def bloquants(self) -> list[Failure]:
        cat = catalogue()
        return [f for f in self.controles if cat[f.code].bloquant]

    @property
    def acceptee(self) -> bool:
        return not self.bloquants

    @property
    def codes(self) -> list[str]:
        return sorted({f.code for f in self.controles})

    def as_json(self) -> dict[str, Any]:
        cat = catalogue()
        return {
            "service": self.service,
            "statut": "acceptee" if self.acceptee else "rejetee",
            "structure_valide": self.structure_valide,
            "numero_immatriculation": self.numero_immatriculation,
            "controles": [
                {"code": f.code, "niveau": cat[f.code].niveau, "message": cat[f.code].message,
                 "champ": f.champ, "detail": f.detail}
                for f in self.controles
            ],
        }


def structure(doc: Any) -> Reponse | None:
    """The answer when the document fails its schema (the business controls assume the types)."""
    failures = structure_failures(doc)
    if not failures:
        return None
    service = doc.get("service") if isinstance(doc, dict) else None
    return Reponse(service if service in ("WS1", "WS2") else None, failures, structure_valide=False)


def controler(conn: Connection, doc: Any, *, recu_le: dt.datetime | None = None, millesime: int | None = None,
              connus: Iterable[str] | None = None, existence: bool = True) -> Reponse:
    """Every control of the contract on one parsed declaration: the schema in Python, then the
    business controls' SQL on a batch of one (the landing source runs the same SQL on its batch).

    WS2 existence reads `connus` when given, else the registry's tables for `millesime`
    (numeros_connus.sql); `existence=False` leaves `M_IMMAT_INCONNUE` out.
    """
    from coproff_platform.registre.load import canonical, staged_row
    rep = structure(doc)
    if rep is not None:
        return rep
    service = doc["service"]
    for t in ("declaration_lue", "declaration_recue", "echec", "numero_connu", "reponse",
              "declaration_soumise", "declaration_soumise_arrete", "declaration_soumise_etiquette",
              "declaration_soumise_parcelle"):
        conn.execute(sa.text(f"drop table if exists pg_temp.{t}"))
    create_batch_tables(conn)
    num = canonical(doc.get("numero_immatriculation")) if service == "WS2" else None
    from coproff_platform.resources.postgis import copy_rows
    copy_rows(conn, "pg_temp.declaration_lue", LUE_COLUMNS, [[1, None, None, None, num, service, True]])
    copy_rows(conn, "pg_temp.declaration_recue", RECUE_COLUMNS, [[1, *staged_row(doc, service, recu_le)]])
    if existence:
        known_numbers(conn, millesime or (recu_le or dt.datetime.now()).year, connus)
    evaluate(conn, existence=existence)
    rows = conn.execute(sa.text("select code, champ, detail from echec order by cle")).all()
    failures = sorted((Failure(c, ch or "", d or "") for c, ch, d in rows), key=lambda f: rank()[f.code])
    return Reponse(service, failures, numero_immatriculation=num)
