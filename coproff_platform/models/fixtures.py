"""Tiny hand-made staged sources for testing the SQL models on real PostGIS.

Parcels are squares placed in metres in the local projection, so a test reads like a map:
`fx.parcel("75115000DF0112", x=650_000, y=6_860_000)` and a point 300 m east is `x + 300`.
Rows are written with plain INSERTs: these fixtures hold a handful of rows, never source data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform.contracts.tables import ensure_partition
from coproff_platform.resources.postgis import PostGISResource

# A Lambert-93 spot in Paris 15e and one in Saint-Denis de La Réunion (EPSG:2975).
PARIS = (648_000.0, 6_859_000.0)
REUNION = (338_000.0, 7_690_000.0)


@dataclass
class Fixture:
    millesime: int = 2023
    parcels: list[dict[str, Any]] = field(default_factory=list)
    tups: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    cadastre: list[dict[str, Any]] = field(default_factory=list)

    def parcel(self, idpar: str, x: float, y: float, *, size: float = 30.0, idtup: str | None = None,
               srid: int = 2154, ctpdl: str | None = None, nlogh: int | None = None) -> str:
        self.parcels.append(dict(idpar=idpar, x=x, y=y, size=size, idtup=idtup or idpar, srid=srid,
                                 ctpdl=ctpdl, nlogh=nlogh))
        return idpar

    def tup(self, idtup: str, parcels: list[str], *, typetup: str = "SIMPLE", ctpdl: str | None = None,
            nloghcopro: int | None = None, nlogh: int | None = None, jannatmin: int | None = None) -> str:
        for p in self.parcels:
            if p["idpar"] in parcels:
                p["idtup"] = idtup
        self.tups.append(dict(idtup=idtup, l_idpar=parcels, typetup=typetup, ctpdl=ctpdl,
                              nloghcopro=nloghcopro, nlogh=nlogh, jannatmin=jannatmin))
        return idtup

    def copro_tup(self, idpar: str, x: float, y: float, *, nloghcopro: int = 10, ctpdl: str = "CL",
                  srid: int = 2154, size: float = 30.0) -> str:
        """A single-parcel TUP holding an FF copropriété (the common case)."""
        self.parcel(idpar, x, y, srid=srid, size=size, ctpdl=ctpdl, nlogh=nloghcopro)
        return self.tup(idpar, [idpar], ctpdl=ctpdl, nloghcopro=nloghcopro, nlogh=nloghcopro)

    def plain_tup(self, idpar: str, x: float, y: float, *, nlogh: int = 1, srid: int = 2154, size: float = 30.0) -> str:
        """A single-parcel TUP where FF shows no copropriété."""
        self.parcel(idpar, x, y, srid=srid, size=size, nlogh=nlogh)
        return self.tup(idpar, [idpar], nlogh=nlogh)

    def cadastre_parcel(self, idpar: str, x: float, y: float, *, size: float = 30.0, srid: int = 2154,
                        width: float | None = None) -> str:
        """An open-cadastre parcel (staging.cadastre_parcelle), a `size` × `width` rectangle in metres."""
        self.cadastre.append(dict(idpar=idpar, x=x, y=y, size=size, width=width or size, srid=srid))
        return idpar

    def registration(self, num_immat: str, *, x: float | None = None, y: float | None = None, srid: int = 2154,
                     idpar: list[str] | None = None, **attrs: Any) -> str:
        """A staged RNIC row; (x, y) in `srid` metres is converted to the WGS84 point of the registry."""
        row = dict(num_immat=num_immat, x=x, y=y, srid=srid, l_idpar=idpar or [],
                   lots_hab=10, lots_total=12, syndicat_principal=True)
        row.update(attrs)
        self.registrations.append(row)
        return num_immat

    # ------------------------------------------------------------------------------------------
    def write(self, postgis: PostGISResource) -> None:
        m = self.millesime
        with postgis.engine.begin() as conn:
            for table in ("staging.rnic", "staging.ff_parcelle", "staging.ff_tup", "staging.cadastre_parcelle"):
                ensure_partition(conn, table, m)
                conn.execute(sa.text(f"delete from {table} where millesime = :m"), {"m": m})
            for i, p in enumerate(self.parcels):
                _insert_parcel(conn, m, i, p)
            for i, t in enumerate(self.tups):
                _insert_tup(conn, m, i, t)
            for i, r in enumerate(self.registrations):
                _insert_registration(conn, m, i, r)
            for i, c in enumerate(self.cadastre):
                _insert_cadastre_parcel(conn, m, i, c)


def _square(p: dict[str, Any]) -> str:
    h = p["size"] / 2
    return f"ST_Multi(ST_MakeEnvelope({p['x'] - h}, {p['y'] - h}, {p['x'] + h}, {p['y'] + h}, {int(p['srid'])}))"


def _insert_parcel(conn: Connection, m: int, i: int, p: dict[str, Any]) -> None:
    geom = _square(p)
    conn.execute(
        sa.text(
            "insert into staging.ff_parcelle (millesime, idpar, idtup, idcom, ccodep, nlogh, ctpdl, srid, "
            f"geompar, geompar_4326, source_file, source_line) values (:m, :idpar, :idtup, :idcom, :ccodep, "
            f":nlogh, :ctpdl, :srid, {geom}, ST_Transform({geom}, 4326), 'fixture', :line)"
        ),
        dict(m=m, idpar=p["idpar"], idtup=p["idtup"], idcom=p["idpar"][:5], ccodep=p["idpar"][:2],
             nlogh=p["nlogh"], ctpdl=p["ctpdl"], srid=p["srid"], line=i + 2),
    )


def _insert_cadastre_parcel(conn: Connection, m: int, i: int, c: dict[str, Any]) -> None:
    h, w = c["size"] / 2, c["width"] / 2
    geom = f"ST_Multi(ST_MakeEnvelope({c['x'] - w}, {c['y'] - h}, {c['x'] + w}, {c['y'] + h}, {int(c['srid'])}))"
    idpar = c["idpar"]
    conn.execute(
        sa.text(
            "insert into staging.cadastre_parcelle (millesime, idpar, code_commune, prefixe, section, numero, "
            f"contenance, geom, source_file, source_line) values (:m, :idpar, :com, :pre, :sec, :num, "
            f"round(ST_Area({geom}))::integer, ST_Transform({geom}, 4326), 'fixture', :line)"
        ),
        dict(m=m, idpar=idpar, com=idpar[:5], pre=idpar[5:8], sec=idpar[8:10], num=idpar[10:], line=i + 1),
    )


def _insert_tup(conn: Connection, m: int, i: int, t: dict[str, Any]) -> None:
    conn.execute(
        sa.text(
            "insert into staging.ff_tup (millesime, idtup, typetup, idcom, ccodep, l_idpar, nparcel, ctpdl, "
            "nlocal, nlogh, nloghcopro, jannatmin, srid, geomtup, geompoint, geomtup_4326, geompoint_4326, "
            "source_file, source_line) "
            "select :m, :idtup, :typetup, min(idcom), min(ccodep), cast(:l_idpar as text[]), count(*), :ctpdl, :nlogh, :nlogh, "
            ":nloghcopro, :jannatmin, min(srid), ST_Multi(ST_Union(geompar)), "
            "ST_PointOnSurface(ST_Union(geompar)), ST_Multi(ST_Union(geompar_4326)), "
            "ST_Transform(ST_PointOnSurface(ST_Union(geompar)), 4326), 'fixture', :line "
            "from staging.ff_parcelle where millesime = :m and idpar::text = any(cast(:l_idpar as text[]))"
        ),
        dict(m=m, idtup=t["idtup"], typetup=t["typetup"], l_idpar=t["l_idpar"], ctpdl=t["ctpdl"],
             nlogh=t["nlogh"], nloghcopro=t["nloghcopro"], jannatmin=t["jannatmin"], line=i + 2),
    )


RNIC_ATTRS = ("lots_hab", "lots_total", "syndicat_principal", "num_immat_principal", "mandat", "date_immat",
              "date_fin_mandat", "numero_voie", "code_postal", "nom_copro", "type_syndic", "syndic_raison_sociale",
              "code_commune", "code_departement")


def _insert_registration(conn: Connection, m: int, i: int, r: dict[str, Any]) -> None:
    attrs = {k: r.get(k) for k in RNIC_ATTRS}
    refs = list(dict.fromkeys(r["l_idpar"]))
    point = (
        f"ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), {int(r['srid'])}), 4326)" if r["x"] is not None else "null"
    )
    cols = ", ".join(attrs)
    vals = ", ".join(f":{k}" for k in attrs)
    conn.execute(
        sa.text(
            f"insert into staging.rnic (millesime, num_immat, {cols}, idpar_1, idpar_2, idpar_3, l_idpar, geom, "
            f"source_file, source_line) values (:m, :num_immat, {vals}, :p1, :p2, :p3, :l_idpar, {point}, "
            "'fixture', :line)"
        ),
        dict(m=m, num_immat=r["num_immat"], x=r["x"], y=r["y"], l_idpar=refs, line=i + 2,
             p1=(refs + [None] * 3)[0], p2=(refs + [None] * 3)[1], p3=(refs + [None] * 3)[2], **attrs),
    )


# The published tables a rule test needs; they are built with every model they read.
REFERENTIAL_TABLES = ("coproff.coproff", "coproff.appariement", "coproff.doublons")


def ancestors(tables: tuple[str, ...]) -> set[str]:
    """The given model tables and every model table they read, directly or not."""
    from coproff_platform.models.project import project

    by_table = {m.table: m for m in project()}
    seen: set[str] = set()
    todo = list(tables)
    while todo:
        table = todo.pop()
        if table in seen or table not in by_table:
            continue
        seen.add(table)
        todo.extend(by_table[table].upstream)
    return seen


def build_referential(postgis: PostGISResource, millesime: int = 2023) -> None:
    """Builds the referential and the models it reads (no audits) for a rule test."""
    from coproff_platform.models.build import build_all
    from coproff_platform.models.project import project

    wanted = ancestors(REFERENTIAL_TABLES)
    build_all(postgis, millesime, [m for m in project() if m.table in wanted], with_audits=False)


def rows(postgis: PostGISResource, sql: str, **params: Any) -> list[Any]:
    with postgis.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()
