"""Registration points planted on a real cadastre the way real registry rows sit on real parcels.

For the matching's tests and its benchmark (`benchmarks/matching_real_cadastre.py`), in open-cadastre
mode (RNIC + cadastre, no FF). Measured facts reproduced (one suburban commune, 332 real rows,
`docs/rules.md` (Matching)): the registry point is an address point on the façade or the street edge,
30% inside the parcel and 70% outside every parcel (43% at 0–1 m, 22% at 1–3 m, 5% at 3–10 m);
37% of registrations list no reference, 48% one, 6% two, 8% three; references come in every real
form (padded or unpadded one-letter sections, components only, lower case, letter O for the
padding zero); 12.5% of references are absent from the cadastre (numbers from a division or a
renumbering in the point's section, a few section typos); 3% name a parcel 100 m or more away;
7% of registrations share their parcel and point with another (1-N).

The "independent reading" the matching is compared with is the plain one an analyst would make:
the reference parcel within reference_distance_max_m (ref.parametres) of the point, else the
parcel at the point, else the nearest parcel. It is computed here by a separate, straightforward query (`independent_reading`).

Everything is set-based SQL; Python only draws the random choices (a few thousand rows).
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform import reference
from coproff_platform.contracts.tables import ensure_partition
from coproff_platform.normalise import Invalid, idpar_ref_or_parts

SCHEMA = "plant_facade"  # scratch tables of the planting (dropped and recreated)

# The measured profile (shares of registrations, of references).
INSIDE_SHARE = 0.30
OUTSIDE_BANDS = ((0.43, 0.05, 1.0), (0.22, 1.0, 3.0), (0.05, 3.0, 9.2))  # share, min m, max m
REFERENCE_COUNTS = ((0.37, 0), (0.48, 1), (0.06, 2), (0.09, 3))
ABSENT_SHARE = 0.125
FAR_SHARE = 0.03
SHARED_SHARE = 0.07
# Reference forms (shares of listed references; the rest is the ordinary 14-character form).
FORM_COMPONENTS, FORM_LOWER, FORM_LETTER_O, FORM_UNPADDED = 0.03, 0.02, 0.02, 0.01

PLM_COMMUNES = {"751": "75056", "693": "69123", "132": "13055"}  # registry writes the whole commune


def _open(path: Path) -> Any:
    with path.open("rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rt", encoding="utf-8") if magic == b"\x1f\x8b" else path.open(encoding="utf-8")


def load_cadastre(conn: Connection, path: Path, millesime: int,
                  window: tuple[float, float, float, float] | None = None) -> int:
    """Loads an Etalab `cadastre-*-parcelles.json[.gz]` into staging.cadastre_parcelle (set-based).

    `window` (lon_min, lat_min, lon_max, lat_max) keeps the parcels intersecting it. Test and
    benchmark fixture: the platform's loader is the `cadastre/` source.
    """
    with _open(path) as f:
        collection = f.read()
    ensure_partition(conn, "staging.cadastre_parcelle", millesime)
    conn.execute(sa.text("delete from staging.cadastre_parcelle where millesime = :m"), {"m": millesime})
    box = "ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)" if window else "null"
    params: dict[str, Any] = {"m": millesime, "fc": collection, "file": path.name}
    if window:
        params.update(x0=window[0], y0=window[1], x1=window[2], y1=window[3])
    result = conn.execute(sa.text(f"""
        insert into staging.cadastre_parcelle (millesime, idpar, code_commune, prefixe, section, numero,
            contenance, date_creation, date_maj, geom, source_file, source_line)
        select :m, p->>'id', p->>'commune', p->>'prefixe', lpad(p->>'section', 2, '0'),
               lpad(p->>'numero', 4, '0'), (p->>'contenance')::integer, (p->>'created')::date,
               (p->>'updated')::date, geom, :file, n::integer
        from (
            select feature->'properties' as p, n,
                   ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(feature->>'geometry'), 4326))::geometry(MultiPolygon, 4326) as geom
            from json_array_elements(cast(:fc as json)->'features') with ordinality as f(feature, n)
        ) features
        where {box} is null or ST_Intersects(geom, {box})
    """), params)
    return result.rowcount


@dataclass(frozen=True)
class Planted:
    num_immat: str
    idpar: str  # the parcel the registration was planted on
    inside: bool
    distance_m: float  # planned distance outside (0 inside)
    raw_references: tuple[tuple[str, str, str, str, str], ...]  # as the registry writes them
    intended: tuple[str, ...]  # the parcels the references mean, as a careful reader reads them


def _raw_form(rng: random.Random, idpar: str) -> tuple[str, str, str, str, str]:
    """(reference_cadastrale, code_insee, prefixe, section, numero) in one of the real forms."""
    commune, prefixe, section, numero = idpar[:5], idpar[5:8], idpar[8:10], idpar[10:]
    registry_commune = commune
    if commune[:3] in PLM_COMMUNES and prefixe == "000":  # Paris, Lyon, Marseille: registry form
        registry_commune, prefixe = PLM_COMMUNES[commune[:3]], commune[2:]
    one_letter = section.startswith("0") and section[1].isalpha()
    draw = rng.random()
    full = registry_commune + prefixe + section + numero
    if draw < FORM_COMPONENTS:
        return ("", registry_commune, prefixe, section.lstrip("0") or section, numero.lstrip("0") or "0")
    draw -= FORM_COMPONENTS
    if draw < FORM_LOWER:
        return (full.lower(), registry_commune, prefixe, section.lower(), numero)
    draw -= FORM_LOWER
    if one_letter and draw < FORM_LETTER_O:
        return (registry_commune + prefixe + "O" + section[1] + numero, registry_commune, prefixe, "O" + section[1], numero)
    draw -= FORM_LETTER_O
    if one_letter and draw < FORM_UNPADDED:
        return (registry_commune + prefixe + section[1] + numero, registry_commune, prefixe, section[1], numero)
    return (full, registry_commune, prefixe, section, numero)


def _draw(rng: random.Random, shares: tuple[tuple[float, Any], ...]) -> Any:
    x = rng.random()
    for share, value in shares:
        if x < share:
            return value
        x -= share
    return shares[-1][1]


def plant(conn: Connection, millesime: int, n: int, seed: int = 1) -> list[Planted]:
    """Plants `n` registrations on the staged cadastre of `millesime` (staging.rnic rows)."""
    rng = random.Random(seed)
    conn.execute(sa.text(f"drop schema if exists {SCHEMA} cascade"))
    conn.execute(sa.text(f"create schema {SCHEMA}"))
    # parcels in Lambert-93 metres and the blocks they form (streets are the gaps between blocks)
    conn.execute(sa.text(f"""
        create table {SCHEMA}.parcel as
        select idpar::text as idpar, section::text as section, numero::text as numero,
               code_commune::text as code_commune, ST_MakeValid(ST_Transform(geom, 2154)) as g
        from staging.cadastre_parcelle where millesime = :m
    """), {"m": millesime})
    conn.execute(sa.text(f"create index on {SCHEMA}.parcel using gist (g)"))
    conn.execute(sa.text(f"""
        create table {SCHEMA}.block as
        select (ST_Dump(ST_Union(ST_Buffer(g, 0.01)))).geom as g from {SCHEMA}.parcel
    """))
    conn.execute(sa.text(f"create index on {SCHEMA}.block using gist (g)"))
    # street-side parcels: their boundary touches a block's outline
    frontage = [r[0] for r in conn.execute(sa.text(f"""
        select p.idpar from {SCHEMA}.parcel p
        where exists (select 1 from {SCHEMA}.block b
                      where b.g && p.g and ST_DWithin(ST_Boundary(b.g), p.g, 0.3))
        order by p.idpar
    """))]
    neighbours: dict[str, list[str]] = {}
    for idpar, other in conn.execute(sa.text(f"""
        select a.idpar, b.idpar from {SCHEMA}.parcel a join {SCHEMA}.parcel b
          on b.g && ST_Expand(a.g, 1) and a.idpar <> b.idpar and ST_DWithin(a.g, b.g, 1)
        order by a.idpar, b.idpar
    """)):
        neighbours.setdefault(idpar, []).append(other)
    by_section: dict[tuple[str, str], set[str]] = {}
    for idpar, section, numero in conn.execute(sa.text(f"select idpar, section, numero from {SCHEMA}.parcel")):
        by_section.setdefault((idpar[:8], section), set()).add(numero)

    planted: list[Planted] = []
    originals: list[Planted] = []  # registrations with a point of their own
    rows: list[dict[str, Any]] = []
    for i in range(n):
        num = f"BM{i + 1:07d}"
        if originals and rng.random() < SHARED_SHARE:  # 1-N: same parcel, same point, same references
            twin = rng.choice(originals)
            planted.append(Planted(num, twin.idpar, twin.inside, twin.distance_m, twin.raw_references,
                                   twin.intended))
            rows.append(dict(num=num, idpar=twin.idpar, inside=twin.inside, d=twin.distance_m, twin=twin.num_immat))
            continue
        idpar = rng.choice(frontage)
        inside = rng.random() < INSIDE_SHARE
        band = _draw(rng, tuple((s / (1 - INSIDE_SHARE), (lo, hi)) for s, lo, hi in OUTSIDE_BANDS))
        distance = 0.0 if inside else round(rng.uniform(*band), 2)
        intended: list[str] = []
        for k in range(_draw(rng, REFERENCE_COUNTS)):
            x = rng.random()
            if x < ABSENT_SHARE:
                section = idpar[8:10]
                if rng.random() < 0.8:  # a numéro from a division or renumbering, absent in the section
                    taken = by_section[(idpar[:8], section)]
                    numero = next(f"{v:04d}" for v in range(int(idpar[10:]) + 500, 10_000)
                                  if f"{v:04d}" not in taken)
                    intended.append(idpar[:10] + numero)
                else:  # a section typo: same numéro in another section (may exist elsewhere)
                    letters = [c for c in "ABCDEFGHKLMNPRSTXYZ" if c != section[1]]
                    intended.append(idpar[:8] + section[0] + rng.choice(letters) + idpar[10:])
            elif x < ABSENT_SHARE + FAR_SHARE:  # a parcel far away
                intended.append(rng.choice(frontage))
            elif k == 0:
                intended.append(idpar)
            else:  # further references: the parcel's neighbours (a building on several parcels)
                intended.append(rng.choice(neighbours.get(idpar) or [idpar]))
        raws = tuple(_raw_form(rng, ref) for ref in intended)
        planted.append(Planted(num, idpar, inside, distance, raws, tuple(intended)))
        originals.append(planted[-1])
        rows.append(dict(num=num, idpar=idpar, inside=inside, d=distance, twin=None))

    conn.execute(sa.text(f"""
        create table {SCHEMA}.registration (num_immat text primary key, idpar text, inside boolean,
                                            d float8, twin text)
    """))
    conn.execute(sa.text(f"insert into {SCHEMA}.registration values (:num, :idpar, :inside, :d, :twin)"), rows)
    conn.execute(sa.text(f"create table {SCHEMA}.reference (num_immat text, rang integer, idpar text)"))
    refs = [dict(num=p.num_immat, rang=k + 1, idpar=ref) for p in planted for k, ref in enumerate(p.intended)]
    if refs:
        conn.execute(sa.text(f"insert into {SCHEMA}.reference values (:num, :rang, :idpar)"), refs)
    # the point: inside, on the surface of the parcel; outside, on the outline of its block grown by
    # d metres (so d from the block, i.e. outside every parcel), next to the parcel's frontage
    conn.execute(sa.text(f"""
        create table {SCHEMA}.point as
        with own as (
            select r.num_immat, r.inside, r.d, p.g
            from {SCHEMA}.registration r join {SCHEMA}.parcel p on p.idpar = r.idpar
            where r.twin is null
        ),
        frontage as (
            select own.*,
                   -- the parcel's own frontage: the block outline within 0.5 m of the parcel
                   ST_ClosestPoint(
                       case when ST_IsEmpty(ST_Intersection(ST_Boundary(b.g), ST_Buffer(own.g, 0.5)))
                            then ST_Boundary(b.g)
                            else ST_Intersection(ST_Boundary(b.g), ST_Buffer(own.g, 0.5)) end,
                       ST_PointOnSurface(own.g)) as front,
                   ST_Intersection(b.g, ST_Expand(own.g, 60)) as local_block
            from own
            cross join lateral (
                select g from {SCHEMA}.block b order by b.g <-> ST_PointOnSurface(own.g) limit 1
            ) b
        )
        select num_immat,
               case when inside then ST_PointOnSurface(g)
                    else ST_ClosestPoint(ST_Boundary(ST_Buffer(local_block, d, 'quad_segs=16')), front) end as g
        from frontage
    """))
    conn.execute(sa.text(f"""
        insert into {SCHEMA}.point
        select r.num_immat, p.g from {SCHEMA}.registration r join {SCHEMA}.point p on p.num_immat = r.twin
    """))

    staged = []
    for p in planted:
        l_idpar: list[str] = []
        idpars: list[str | None] = []
        for raw in p.raw_references:
            try:
                value = idpar_ref_or_parts(*raw)
            except Invalid:
                value = None  # the loader's soft rule: an unreadable reference becomes NULL
            idpars.append(value)
            if value and value not in l_idpar:
                l_idpar.append(value)
        idpars += [None] * (3 - len(idpars))
        commune = p.idpar[:5]
        staged.append(dict(num=p.num_immat, l_idpar=l_idpar, p1=idpars[0], p2=idpars[1], p3=idpars[2],
                           commune=PLM_COMMUNES.get(commune[:3], commune), arr=commune,
                           dep=commune[:3] if commune.startswith("97") else commune[:2]))
    ensure_partition(conn, "staging.rnic", millesime)
    conn.execute(sa.text("delete from staging.rnic where millesime = :m"), {"m": millesime})
    conn.execute(sa.text(f"""
        insert into staging.rnic (millesime, num_immat, code_commune, code_arrondissement, code_departement,
            idpar_1, idpar_2, idpar_3, l_idpar, lots_hab, lots_total, syndicat_principal, geom,
            source_file, source_line)
        select :m, v.num, v.commune, v.arr, v.dep, v.p1, v.p2, v.p3, cast(v.l_idpar as text[]), 10, 12, true,
               ST_SetSRID(ST_MakePoint(round(ST_X(w.g)::numeric, 6)::float8, round(ST_Y(w.g)::numeric, 6)::float8), 4326),
               'plant', row_number() over (order by v.num) + 1
        from (select cast(:num as text) as num, cast(:l_idpar as text[]) as l_idpar, cast(:p1 as text) as p1,
                     cast(:p2 as text) as p2, cast(:p3 as text) as p3, cast(:commune as text) as commune,
                     cast(:arr as text) as arr, cast(:dep as text) as dep) v
        join (select num_immat, ST_Transform(g, 4326) as g from {SCHEMA}.point) w on w.num_immat = v.num
    """).bindparams(m=millesime), staged)
    return planted


def measure(conn: Connection, millesime: int) -> dict[str, Any]:
    """Unmatched share, agreement with the independent reading and with the planted parcel, and the
    realised profile (share of points outside every parcel, by distance class)."""
    conn.execute(sa.text(f"drop table if exists {SCHEMA}.independent"))
    conn.execute(sa.text(f"""
        create table {SCHEMA}.independent as
        with rnic as (
            select num_immat, geom from staging.rnic where millesime = :m
        ),
        parcel as (
            select idpar::text as idpar, geom from staging.cadastre_parcelle where millesime = :m
        ),
        -- 1. a reference (as meant) whose parcel is within reference_distance_max_m of the point
        by_reference as (
            select distinct on (rnic.num_immat) rnic.num_immat, parcel.idpar
            from rnic
            join {SCHEMA}.reference ref on ref.num_immat = rnic.num_immat
            join parcel on parcel.idpar = ref.idpar
            where ST_DWithin(rnic.geom::geography, parcel.geom::geography, :reference_distance_max_m)
            order by rnic.num_immat, ST_Distance(rnic.geom::geography, parcel.geom::geography), ref.rang
        ),
        -- 2. else the parcel at the point
        at_point as (
            select distinct on (rnic.num_immat) rnic.num_immat, parcel.idpar
            from rnic join parcel on ST_Intersects(parcel.geom, rnic.geom)
            order by rnic.num_immat, parcel.idpar
        ),
        -- 3. else the nearest parcel (5 nearest by planar distance, then on the ellipsoid)
        nearest as (
            select rnic.num_immat, (
                select c.idpar from (
                    select parcel.idpar, parcel.geom from parcel order by parcel.geom <-> rnic.geom limit 5
                ) c order by ST_Distance(rnic.geom::geography, c.geom::geography), c.idpar limit 1
            ) as idpar,
            (select min(ST_Distance(rnic.geom::geography, parcel.geom::geography))
             from (select geom from parcel order by geom <-> rnic.geom limit 5) parcel) as distance_m
            from rnic
        )
        select rnic.num_immat,
               coalesce(by_reference.idpar, at_point.idpar, nearest.idpar) as idpar,
               case when by_reference.idpar is not null then 'reference'
                    when at_point.idpar is not null then 'point' else 'nearest' end as reading,
               nearest.distance_m
        from rnic
        left join by_reference using (num_immat)
        left join at_point using (num_immat)
        left join nearest using (num_immat)
    """), {"m": millesime, "reference_distance_max_m": reference.parameter("reference_distance_max_m")})
    row = conn.execute(sa.text(f"""
        select count(*) as registrations,
               count(*) filter (where t.idtup is null) as unmatched,
               count(*) filter (where t.idtup = i.idpar) as agree_independent,
               count(*) filter (where t.idtup = r.idpar) as agree_planted,
               count(*) filter (where i.distance_m > 0) as outside,
               count(*) filter (where i.distance_m > 0 and i.distance_m <= 1) as outside_0_1,
               count(*) filter (where i.distance_m > 1 and i.distance_m <= 3) as outside_1_3,
               count(*) filter (where i.distance_m > 3) as outside_3_plus,
               max(i.distance_m) as outside_max_m
        from intermediate.tup_match t
        join {SCHEMA}.independent i using (num_immat)
        join {SCHEMA}.registration r using (num_immat)
        where t.millesime = :m
    """), {"m": millesime}).mappings().one()
    motifs = dict(conn.execute(sa.text(
        "select motif, count(*) from intermediate.tup_match where millesime = :m group by motif order by 2 desc"
    ), {"m": millesime}).all())
    refs = conn.execute(sa.text(f"""
        select count(*) as listed,
               count(*) filter (where not exists (select 1 from staging.cadastre_parcelle c
                                                  where c.millesime = :m and c.idpar = ref.idpar)) as absent
        from {SCHEMA}.reference ref
    """), {"m": millesime}).mappings().one()
    disagreements = conn.execute(sa.text(f"""
        select t.num_immat, t.idtup, i.idpar as independent, i.reading, t.motif, t.distance_m
        from intermediate.tup_match t join {SCHEMA}.independent i using (num_immat)
        where t.millesime = :m and t.idtup is distinct from i.idpar
        order by t.num_immat limit 20
    """), {"m": millesime}).all()
    n = row["registrations"] or 1
    return dict(
        registrations=row["registrations"],
        unmatched_share=row["unmatched"] / n,
        agreement_independent=row["agree_independent"] / n,
        agreement_planted=row["agree_planted"] / n,
        outside_share=row["outside"] / n,
        outside_0_1_share=row["outside_0_1"] / n,
        outside_1_3_share=row["outside_1_3"] / n,
        outside_3_plus_share=row["outside_3_plus"] / n,
        outside_max_m=float(row["outside_max_m"] or 0),
        references_listed=refs["listed"],
        references_absent_share=refs["absent"] / (refs["listed"] or 1),
        motifs=motifs,
        disagreements=[tuple(r) for r in disagreements],
    )
