"""Indicators in open-cadastre mode (no FF): DVF sales and LOVAC vacant dwellings attach to the
TUPs through intermediate.parcelle, the one parcel layer of the millésime whatever its source.

Before, they joined staging.ff_parcelle, empty without FF, so every cadastre-mode TUP showed 0
sales and 0 vacant dwellings. Expected values are computed by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from coproff_platform.contracts.tables import ensure_partition
from coproff_platform.models.build import build_all
from coproff_platform.models.fixtures import PARIS, Fixture, ancestors
from coproff_platform.models.project import project

X, Y = PARIS
M = 2023
C1, C2 = "75115000DF0112", "75115000DF0113"


def test_dvf_and_lovac_indicators_are_filled_in_open_cadastre_mode(fresh_db):
    fx = Fixture()
    fx.cadastre_parcel(C1, X, Y)
    fx.cadastre_parcel(C2, X + 100, Y)
    fx.registration("AA0000001", x=X, y=Y, idpar=[C1])
    fx.registration("AA0000002", x=X + 100, y=Y)  # point inside C2, no reference
    fx.write(fresh_db)
    with fresh_db.engine.begin() as conn:
        for table in ("staging.dpe", "staging.dvf", "staging.lovac"):
            ensure_partition(conn, table, M)
        dvf = [
            # (mutation, date, price, parcel, type, built, Carrez, line hash)
            ("M1", "2022-03-01", 200000, C1, 2, 42, 40, "h1"),  # 200000 / 40 = 5000
            ("M2", "2021-06-01", 180000, C1, 2, 30, None, "h2"),  # 180000 / 30 = 6000
            ("M3", "2020-01-01", 90000, C2, 2, 30, 30, "h3"),  # 3000
            ("M4", "2022-01-01", 90000, "75115000DF0999", 2, 30, 30, "h4"),  # parcel of no TUP
        ]
        for i, (mutation, date, value, idpar, code, bati, carrez, line_hash) in enumerate(dvf):
            conn.execute(sa.text(
                "insert into staging.dvf (millesime, id_mutation, date_mutation, nature_mutation, valeur_fonciere, "
                "id_parcelle, code_type_local, surface_reelle_bati, surface_carrez, line_hash, source_file, "
                "source_line) values (:m, :mu, :d, 'Vente', :v, :p, :c, :b, :ca, :h, 'dvf.csv', :l)"),
                {"m": M, "mu": mutation, "d": dt.date.fromisoformat(date), "v": value, "p": idpar, "c": code,
                 "b": bati, "ca": carrez, "h": line_hash, "l": i + 2})
        lovac = [("750000000001", C1, "V", 2022), ("750000000002", C1, "V", 2019), ("750000000003", C2, "L", 2010)]
        for i, (idlocal, idpar, ccthp, debut) in enumerate(lovac):
            conn.execute(sa.text(
                "insert into staging.lovac (millesime, ff_idlocal, ff_idpar, ff_ccthp, debutvacance, source_file, "
                "source_line) values (:m, :i, :p, :c, :d, 'lovac.csv', :l)"),
                {"m": M, "i": idlocal, "p": idpar, "c": ccthp, "d": debut, "l": i + 2})
    wanted = ancestors(("intermediate.indicateurs",))
    build_all(fresh_db, M, [m for m in project() if m.table in wanted], with_audits=False)

    with fresh_db.engine.connect() as conn:
        assert conn.execute(sa.text("select distinct source_parcelles from intermediate.tup where millesime = :m"),
                            {"m": M}).scalars().all() == ["cadastre"]
        got = {r["idcopro"]: r for r in conn.execute(sa.text(
            "select idcopro, nb_ventes_appartements, prix_m2_median, nb_logements_vacants, nb_logements_vacants_2ans "
            "from intermediate.indicateurs where millesime = :m"), {"m": M}).mappings()}
    assert set(got) == {"RNC_AA0000001", "RNC_AA0000002"}  # no FF-only copropriété without FF
    r1, r2 = got["RNC_AA0000001"], got["RNC_AA0000002"]
    assert (r1["nb_ventes_appartements"], r1["prix_m2_median"]) == (2, Decimal("5500"))  # median(5000, 6000)
    assert (r1["nb_logements_vacants"], r1["nb_logements_vacants_2ans"]) == (2, 1)  # 2019: 4 years > 2
    assert (r2["nb_ventes_appartements"], r2["prix_m2_median"]) == (1, Decimal("3000"))
    assert (r2["nb_logements_vacants"], r2["nb_logements_vacants_2ans"]) == (0, 0)  # measured, none vacant
