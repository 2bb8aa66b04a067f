"""Coherence rules of the published referential `coproff.coproff` (blocking and warning).

Each rule is an audit (see `checks/audits.py`): the SQL model runner evaluates it on the freshly
built millésime, before swapping it in, and reports it as an asset check of `coproff/coproff` for
that partition. Blocking rules protect the structure every user relies on (keys, counts, geometry);
warning rules compare the data's quality to the documented national figures.

Every audit answers with counts and a sample of offending keys (Markdown), so a user knows what to
fix without writing SQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from dagster import MetadataValue
from sqlalchemy.engine import Connection

from coproff_platform.checks.audits import AuditResult, audit
from coproff_platform.checks.thresholds import Thresholds
from coproff_platform.metadata import markdown_table
from coproff_platform.resources.postgis import split_table

ASSET = "coproff/coproff"
PUBLISHED = "coproff.coproff"
SAMPLE_SIZE = 20

# RNC_ + registration number (2 capital letters + 7 digits), or FF_ + an FF TUP id.
IDCOPRO_PATTERN = r"^(RNC_[A-Z]{2}[0-9]{7}|FF_[0-9A-Za-z]{5,})$"

# Metropolitan France (Corsica included) and the five DROM, as WGS84 boxes with a small margin.
TERRITORY_BOXES: dict[str, tuple[float, float, float, float]] = {
    "métropole": (-5.8, 41.2, 9.8, 51.3),
    "Guadeloupe": (-61.9, 15.8, -60.9, 16.6),
    "Martinique": (-61.3, 14.35, -60.75, 14.95),
    "Guyane": (-54.7, 2.0, -51.5, 5.9),
    "La Réunion": (55.15, -21.45, 55.9, -20.8),
    "Mayotte": (44.95, -13.05, 45.35, -12.6),
}


# -- helpers ----------------------------------------------------------------------------------

def _q(table: str) -> str:
    schema, name = split_table(table)
    return f"{schema}.{name}"


def _offenders(conn: Connection, sql: str, params: dict[str, Any]) -> tuple[int, list[str], list[sa.Row]]:
    """Runs `sql` (the offending rows, sample-ordered) and returns (count, columns, sample)."""
    count = conn.execute(sa.text(f"select count(*) from ({sql}) o"), params).scalar_one()
    result = conn.execute(sa.text(f"select * from ({sql}) o limit {SAMPLE_SIZE}"), params)
    return int(count), list(result.keys()), list(result.all())


def _result(count: int, columns: list[str], sample: list[sa.Row], what: str, **extra: Any) -> AuditResult:
    # Scalars stay plain Python values (the runner passes them through as they are); tables are
    # Markdown.
    metadata: dict[str, Any] = {"offending_rows": int(count), **extra}
    if count:
        metadata["sample"] = MetadataValue.md(
            f"{count:,} {what}; first {min(count, SAMPLE_SIZE)}:\n\n" + markdown_table(columns, sample)
        )
    return AuditResult(passed=count == 0, metadata=metadata)


def _previous_millesime(conn: Connection, millesime: int) -> int | None:
    exists = conn.execute(sa.text("select to_regclass(:t)"), {"t": PUBLISHED}).scalar()
    if not exists:
        return None
    return conn.execute(
        sa.text(f"select max(millesime) from {PUBLISHED} where millesime < :m"), {"m": millesime}
    ).scalar()


def _has_columns(conn: Connection, table: str, *columns: str) -> list[str]:
    """The columns of `columns` that `table` lacks."""
    schema, name = split_table(table)
    present = set(conn.execute(
        sa.text("select column_name from information_schema.columns where table_schema = :s and table_name = :t"),
        {"s": schema, "t": name},
    ).scalars())
    return [c for c in columns if c not in present]


# -- blocking rules ---------------------------------------------------------------------------

@audit(ASSET, blocking=True)
def idcopro_unique_and_well_formed(conn: Connection, table: str, millesime: int) -> AuditResult:
    """idcopro is never NULL, unique in the millésime, and reads RNC_<num_immat> or FF_<idtup>."""
    sql = f"""
        select idcopro, count(*) as nb_lignes,
               case when idcopro is null then 'idcopro NULL'
                    when count(*) > 1 then 'doublon'
                    else 'format invalide' end as motif
        from {_q(table)}
        where millesime = :m
        group by idcopro
        having idcopro is null or count(*) > 1 or idcopro !~ :pattern
        order by nb_lignes desc, idcopro
    """
    count, cols, sample = _offenders(conn, sql, {"m": millesime, "pattern": IDCOPRO_PATTERN})
    return _result(count, cols, sample, "idcopro values duplicated, NULL or malformed",
                   pattern=str(IDCOPRO_PATTERN))


@audit(ASSET, blocking=True)
def idcopro_prefix_matches_registration(conn: Connection, table: str, millesime: int) -> AuditResult:
    """RNC_ rows are registered (idcopro = 'RNC_' || num_immat, an rnic_* situation);
    FF_ rows are not (num_immat NULL, idcopro = 'FF_' || idtup, situation ff_only)."""
    sql = f"""
        select idcopro, num_immat, idtup, situation
        from {_q(table)}
        where millesime = :m
          and not (
                (num_immat is not null and idcopro = 'RNC_' || num_immat
                 and situation in ('rnic_1_1', 'rnic_1_n', 'rnic_unmatched'))
             or (num_immat is null and idcopro = 'FF_' || idtup and situation = 'ff_only')
          )
        order by idcopro
    """
    return _result(*_offenders(conn, sql, {"m": millesime}), "rows whose prefix contradicts their registration")


@audit(ASSET, blocking=True)
def copro_tup_counts_registrations(conn: Connection, table: str, millesime: int) -> AuditResult:
    """copro_tup equals the number of registered copropriétés on the row's TUP (0 for an FF-only
    TUP), and the situation agrees: rnic_1_1 when 1, rnic_1_n when more, rnic_unmatched without TUP."""
    sql = f"""
        with counted as (
            select idcopro, idtup, situation, copro_tup,
                   count(num_immat) over (partition by idtup) as registrations_on_tup
            from {_q(table)}
            where millesime = :m
        )
        select idcopro, idtup, situation, copro_tup,
               case when idtup is null then 0 else registrations_on_tup end as attendu
        from counted
        where (idtup is null and (coalesce(copro_tup, 0) <> 0 or situation is distinct from 'rnic_unmatched'))
           or (idtup is not null and (
                  coalesce(copro_tup, 0) <> registrations_on_tup
               or (situation = 'rnic_1_1' and registrations_on_tup <> 1)
               or (situation = 'rnic_1_n' and registrations_on_tup < 2)
               or situation = 'rnic_unmatched'))
        order by idtup nulls first, idcopro
    """
    return _result(*_offenders(conn, sql, {"m": millesime}), "rows whose copro_tup or situation is wrong")


@audit(ASSET, blocking=True)
def geometry_srid_4326_in_france(conn: Connection, table: str, millesime: int) -> AuditResult:
    """geom is a Point in SRID 4326 inside metropolitan France or a DROM (WGS84 boxes)."""
    boxes = " or ".join(
        f"st_intersects(geom, st_makeenvelope({x0}, {y0}, {x1}, {y1}, 4326))"
        for x0, y0, x1, y1 in TERRITORY_BOXES.values()
    )
    sql = f"""
        select idcopro, st_srid(geom) as srid, geometrytype(geom) as type,
               round(st_x(geom)::numeric, 5) as x, round(st_y(geom)::numeric, 5) as y
        from {_q(table)}
        where millesime = :m and geom is not null
          and (st_srid(geom) <> 4326 or geometrytype(geom) <> 'POINT' or not ({boxes}))
        order by idcopro
    """
    boxes_md = markdown_table(["territoire", "lon min", "lat min", "lon max", "lat max"],
                              [(k, *v) for k, v in TERRITORY_BOXES.items()])
    return _result(*_offenders(conn, sql, {"m": millesime}),
                   "geometries not in SRID 4326 or outside France", territories=MetadataValue.md(boxes_md))


@audit(ASSET, blocking=True)
def geometry_null_only_without_source_point(conn: Connection, table: str, millesime: int) -> AuditResult:
    """geom is NULL only when neither the RNIC point of the registration nor a geometry of the
    TUP (its point, else its polygon, whose point on surface is used) exists in the staged sources
    of the millésime."""
    tup_geometry = ("coalesce(t.geompoint_4326, t.geompoint, t.geomtup_4326, t.geomtup) is not null")
    sql = f"""
        select c.idcopro, c.num_immat, c.idtup,
               r.geom is not null as point_rnic_disponible,
               {tup_geometry} as geometrie_tup_disponible
        from {_q(table)} c
        left join staging.rnic r on r.millesime = :m and r.num_immat = c.num_immat
        left join staging.ff_tup t on t.millesime = :m and t.idtup = c.idtup
        where c.millesime = :m and c.geom is null
          and (r.geom is not null or {tup_geometry})
        order by c.idcopro
    """
    count, cols, sample = _offenders(conn, sql, {"m": millesime})
    nulls = conn.execute(
        sa.text(f"select count(*) from {_q(table)} where millesime = :m and geom is null"), {"m": millesime}
    ).scalar_one()
    return _result(count, cols, sample, "rows without geometry although a source point exists",
                   rows_without_geometry=int(int(nulls)))


@audit(ASSET, blocking=True)
def every_registration_once(conn: Connection, table: str, millesime: int) -> AuditResult:
    """Every registration staged in staging.rnic for the millésime appears exactly once in the
    referential, and the referential holds no registration that was not staged."""
    sql = f"""
        with staged as (
            select num_immat from staging.rnic where millesime = :m
        ),
        published as (
            select num_immat, count(*) as nb from {_q(table)}
            where millesime = :m and num_immat is not null
            group by num_immat
        )
        select coalesce(s.num_immat, p.num_immat) as num_immat,
               coalesce(p.nb, 0) as nb_lignes,
               case when p.num_immat is null then 'absente du référentiel'
                    when s.num_immat is null then 'absente de staging.rnic'
                    else 'en plusieurs lignes' end as motif
        from staged s
        full join published p on p.num_immat = s.num_immat
        where p.num_immat is null or s.num_immat is null or p.nb <> 1
        order by motif, num_immat
    """
    count, cols, sample = _offenders(conn, sql, {"m": millesime})
    staged = conn.execute(sa.text("select count(*) from staging.rnic where millesime = :m"),
                          {"m": millesime}).scalar_one()
    return _result(count, cols, sample, "registrations missing, repeated or unknown",
                   staged_registrations=int(int(staged)))


# -- warning rules ----------------------------------------------------------------------------

GAP_GOOD = ("Aucun écart", "Ecart de 1 logement")


def _with_classes(conn: Connection, table: str) -> tuple[str | None, str]:
    """A query of the audited rows with their coherence classes, and where the classes come from.

    The classes are written once, in intermediate.synthese; coproff.coproff carries them when the
    indicator join is in place, otherwise they are joined here on idcopro.
    """
    cols = "idcopro, lots_hab, nloghcopro, p_constr, an_const"
    if not _has_columns(conn, table, "classe_ecart_logements", "coherence_construction"):
        return (f"select {cols}, classe_ecart_logements, coherence_construction "
                f"from {_q(table)} where millesime = :m"), _q(table)
    if conn.execute(sa.text("select to_regclass('intermediate.synthese')")).scalar() is None:
        return None, "missing: neither the audited table nor intermediate.synthese carries the classes"
    prefixed = ", ".join(f"c.{c.strip()}" for c in cols.split(","))
    return (f"select {prefixed}, s.classe_ecart_logements, s.coherence_construction "
            f"from {_q(table)} c join intermediate.synthese s on s.millesime = :m and s.idcopro = c.idcopro "
            f"where c.millesime = :m"), "intermediate.synthese"


@audit(ASSET, blocking=False)
def dwelling_gap_share(conn: Connection, table: str, millesime: int) -> AuditResult:
    """Share of registered copropriétés whose FF dwellings (nloghcopro) equal the RNIC dwelling
    lots (lots_hab) or differ by one, among those where both are filled, against
    COPROFF_GAP_SHARE_MIN (default 67%) minus COPROFF_THRESHOLD_TOLERANCE (default 5 points)."""
    rows_sql, source = _with_classes(conn, table)
    if rows_sql is None:
        return AuditResult(False, {"classes_from": str(source)})
    th = Thresholds.from_env()
    rows = conn.execute(sa.text(f"""
        select classe_ecart_logements, count(*) from ({rows_sql}) c
        where classe_ecart_logements is not null
        group by 1 order by 1
    """), {"m": millesime}).all()
    counts = {k: int(v) for k, v in rows}
    filled = sum(v for k, v in counts.items() if k != "Non renseigné")
    good = sum(counts.get(k, 0) for k in GAP_GOOD)
    share = good / filled if filled else None
    floor = th.gap_share_min - th.tolerance
    passed = share is not None and share >= floor
    sample = conn.execute(sa.text(f"""
        select idcopro, lots_hab, nloghcopro, classe_ecart_logements from ({rows_sql}) c
        where classe_ecart_logements in ('100% ou plus', 'Moins de 100%')
        order by abs(coalesce(nloghcopro, 0) - coalesce(lots_hab, 0)) desc, idcopro limit {SAMPLE_SIZE}
    """), {"m": millesime}).all()
    meta: dict[str, Any] = {
        "share_no_gap_or_one": round(share, 4) if share is not None else "n/a",
        "threshold": float(round(floor, 4)),
        "rows_compared": int(filled),
        "classes_from": str(source),
        "classes": MetadataValue.md(markdown_table(["classe", "nb"], sorted(counts.items()))),
    }
    if sample:
        meta["largest_gaps"] = MetadataValue.md(
            markdown_table(["idcopro", "lots_hab", "nloghcopro", "classe"], sample))
    return AuditResult(passed, meta)


@audit(ASSET, blocking=False)
def construction_coherence_rate(conn: Connection, table: str, millesime: int) -> AuditResult:
    """Share of comparable registered copropriétés whose FF construction year (an_const) lies in
    the RNIC period (p_constr) widened by 4 years on each side, against COPROFF_COHERENCE_RATE_MIN
    (default 70%) minus COPROFF_THRESHOLD_TOLERANCE."""
    rows_sql, source = _with_classes(conn, table)
    if rows_sql is None:
        return AuditResult(False, {"classes_from": str(source)})
    th = Thresholds.from_env()
    counts = dict(conn.execute(sa.text(f"""
        select coherence_construction, count(*) from ({rows_sql}) c
        where coherence_construction is not null group by 1
    """), {"m": millesime}).all())
    coherent, incoherent = int(counts.get("coherent", 0)), int(counts.get("incoherent", 0))
    rate = coherent / (coherent + incoherent) if coherent + incoherent else None
    floor = th.coherence_rate_min - th.tolerance
    sample = conn.execute(sa.text(f"""
        select idcopro, p_constr, an_const from ({rows_sql}) c
        where coherence_construction = 'incoherent'
        order by idcopro limit {SAMPLE_SIZE}
    """), {"m": millesime}).all()
    meta: dict[str, Any] = {
        "coherence_rate": round(rate, 4) if rate is not None else "n/a",
        "threshold": float(round(floor, 4)),
        "coherent": int(coherent),
        "incoherent": int(incoherent),
        "not_comparable": int(int(counts.get("non_comparable", 0))),
        "classes_from": str(source),
    }
    if sample:
        meta["sample_incoherent"] = MetadataValue.md(markdown_table(["idcopro", "p_constr", "an_const"], sample))
    return AuditResult(rate is not None and rate >= floor, meta)


@audit(ASSET, blocking=False)
def no_sudden_change_from_previous_millesime(conn: Connection, table: str, millesime: int) -> AuditResult:
    """Rows in total and per situation, compared with the previous published millésime: a relative
    change beyond COPROFF_MAX_CHANGE (default 20%) on a count of at least
    COPROFF_MAX_CHANGE_MIN_ROWS (default 50) is flagged. Passes when there is no previous millésime."""
    th = Thresholds.from_env()
    previous = _previous_millesime(conn, millesime)
    if previous is None:
        return AuditResult(True, {"previous_millesime": str("none: nothing to compare")})
    query = "select coalesce(situation, '(NULL)'), count(*) from {t} where millesime = :m group by 1"
    now = dict(conn.execute(sa.text(query.format(t=_q(table))), {"m": millesime}).all())
    before = dict(conn.execute(sa.text(query.format(t=PUBLISHED)), {"m": previous}).all())
    now["total"], before["total"] = sum(now.values()), sum(before.values())
    rows, flagged = [], []
    for key in ["total", *sorted(set(now) | set(before) - {"total"})]:
        a, b = int(before.get(key, 0)), int(now.get(key, 0))
        change = (b - a) / a if a else None
        judged = max(a, b) >= th.max_change_min_rows
        bad = judged and (change is None or abs(change) > th.max_change)
        rows.append((key, a, b, f"{change:+.1%}" if change is not None else "new", "⚠" if bad else ""))
        if bad:
            flagged.append(key)
    return AuditResult(not flagged, {
        "previous_millesime": int(int(previous)),
        "max_change": float(th.max_change),
        "flagged": str(", ".join(flagged) or "none"),
        "changes": MetadataValue.md(markdown_table(["situation", str(previous), str(millesime), "variation", ""], rows)),
    })


# -- statistics tables: consistent with the referential they summarise ---------------------------
# (The tables themselves, as Markdown and plots, are in each materialization's metadata:
# checks/metadata_hooks.py.)

def _stats_result(asset: str, conn: Connection, table: str, millesime: int,
                  problems: list[str], **extra: Any) -> AuditResult:
    meta: dict[str, Any] = {**extra}
    if problems:
        meta["problems"] = MetadataValue.md("\n".join(f"- {p}" for p in problems))
    return AuditResult(not problems, meta)


def _published_count(conn: Connection, millesime: int, where: str = "true") -> int:
    return int(conn.execute(sa.text(f"select count(*) from {PUBLISHED} where millesime = :m and {where}"),
                            {"m": millesime}).scalar_one())


@audit("coproff/stats_situations", blocking=False)
def situations_add_up(conn: Connection, table: str, millesime: int) -> AuditResult:
    """The France row counts every row of coproff.coproff; in every row the four situations add up
    to the total; the départements, the EPCI and the communes each add up to France."""
    t = _q(table)
    problems = []
    total = _published_count(conn, millesime)
    france = conn.execute(sa.text(f"select nb_copro from {t} where millesime = :m and niveau = 'france'"),
                          {"m": millesime}).scalar()
    if france != total:
        problems.append(f"France row counts {france} copropriétés, coproff.coproff holds {total}")
    bad_rows = conn.execute(sa.text(
        f"select count(*) from {t} where millesime = :m "
        "and nb_rnic_1_1 + nb_rnic_1_n + nb_ff_only + nb_rnic_unmatched <> nb_copro"), {"m": millesime}).scalar_one()
    if bad_rows:
        problems.append(f"{bad_rows} rows whose situations do not add up to nb_copro")
    for niveau, n in conn.execute(sa.text(
            f"select niveau, sum(nb_copro) from {t} where millesime = :m and niveau <> 'france' group by niveau"),
            {"m": millesime}).all():
        if n != total:
            problems.append(f"level {niveau} adds up to {n}, not {total}")
    return _stats_result("coproff/stats_situations", conn, table, millesime, problems)


@audit("coproff/stats_ecart_logements", blocking=False)
def gap_classes_complete(conn: Connection, table: str, millesime: int) -> AuditResult:
    """Exactly the eight classes of the CoproFF documentation, in order, and their counts add up
    to the copropriétés of coproff.coproff that intermediate.synthese classifies."""
    expected = ["Aucun écart", "Ecart de 1 logement", "Moins de 10%", "Moins de 25%", "Moins de 50%",
                "Moins de 100%", "100% ou plus", "Non renseigné"]
    rows = conn.execute(sa.text(f"select classe, nb from {_q(table)} where millesime = :m order by ordre"),
                        {"m": millesime}).all()
    problems = []
    if [r[0] for r in rows] != expected:
        problems.append(f"classes {[r[0] for r in rows]} differ from the documented {expected}")
    compared = conn.execute(sa.text(
        f"select count(*) from {PUBLISHED} c join intermediate.synthese s "
        "on s.millesime = c.millesime and s.idcopro = c.idcopro "
        "where c.millesime = :m and s.classe_ecart_logements is not null"), {"m": millesime}).scalar_one()
    if sum(r[1] for r in rows) != compared:
        problems.append(f"classes count {sum(r[1] for r in rows)} copropriétés, {compared} are compared")
    return _stats_result("coproff/stats_ecart_logements", conn, table, millesime, problems,
                         rows_compared=int(int(compared)))


@audit("coproff/stats_coherence_construction", blocking=False)
def coherence_classes_complete(conn: Connection, table: str, millesime: int) -> AuditResult:
    """coherent, incoherent and non_comparable are all present and the rate among comparable
    copropriétés adds up to 100%."""
    rows = dict(conn.execute(sa.text(f"select coherence_construction, taux from {_q(table)} where millesime = :m"),
                             {"m": millesime}).all())
    problems = []
    if set(rows) != {"coherent", "incoherent", "non_comparable"}:
        problems.append(f"classes {sorted(rows)}")
    rates = [float(v) for k, v in rows.items() if k != "non_comparable" and v is not None]
    if rates and abs(sum(rates) - 1) > 0.001:
        problems.append(f"coherent + incoherent = {sum(rates):.4f}, not 1")
    return _stats_result("coproff/stats_coherence_construction", conn, table, millesime, problems)


@audit("coproff/stats_immatriculation_alur", blocking=False)
def alur_classes_add_up(conn: Connection, table: str, millesime: int) -> AuditResult:
    """Registered and FF-only copropriétés of all size classes add up to coproff.coproff."""
    registered, ff_only = conn.execute(sa.text(
        f"select sum(nb_immatriculees), sum(nb_ff_seules) from {_q(table)} where millesime = :m"),
        {"m": millesime}).one()
    expected_registered = _published_count(conn, millesime, "num_immat is not null")
    expected_ff = _published_count(conn, millesime, "num_immat is null")
    problems = []
    if (registered, ff_only) != (expected_registered, expected_ff):
        problems.append(f"registered/FF-only {registered}/{ff_only}, coproff.coproff has "
                        f"{expected_registered}/{expected_ff}")
    return _stats_result("coproff/stats_immatriculation_alur", conn, table, millesime, problems)


@audit("coproff/stats_evolution", blocking=False)
def evolution_balances(conn: Connection, table: str, millesime: int) -> AuditResult:
    """One row; previous + new - gone = current; new + unchanged + changed = current."""
    rows = conn.execute(sa.text(f"select * from {_q(table)} where millesime = :m"), {"m": millesime}).mappings().all()
    problems = []
    if len(rows) != 1:
        problems.append(f"{len(rows)} rows, expected 1")
    else:
        r = rows[0]
        if r["nb_copro"] != _published_count(conn, millesime):
            problems.append("nb_copro differs from coproff.coproff")
        if r["millesime_precedent"] is not None:
            if r["nb_copro_precedent"] + r["nb_nouvelles"] - r["nb_disparues"] != r["nb_copro"]:
                problems.append("previous + new - gone <> current")
            if r["nb_nouvelles"] + r["nb_inchangees"] + r["nb_situation_changee"] != r["nb_copro"]:
                problems.append("new + unchanged + changed <> current")
    return _stats_result("coproff/stats_evolution", conn, table, millesime, problems)


# Audits are run by the model runner, not declared as standalone asset checks.
REFERENTIAL_CHECKS: list = []
