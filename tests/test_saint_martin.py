"""France is defined once (ref.territoires): a registration in Saint-Martin passes both the RNIC
loader's staging control `point_hors_france` and the blocking geometry audit of coproff.coproff; a
point in the Atlantic fails both. Real loader, real SQL models, real PostGIS."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from coproff_platform.checks.audits import audits_for
from coproff_platform.contracts.sources import RNIC_COLUMNS_72
from coproff_platform.contracts.tables import ensure_partition
from coproff_platform.loading import load_source
from coproff_platform.models.build import AuditFailed, build_all, build_model
from coproff_platform.models.project import project

M = 2023
MARIGOT = {"long": "-63.08", "lat": "18.07"}  # Saint-Martin (978), postcodes 97150
GUSTAVIA = {"long": "-62.85", "lat": "17.90"}  # Saint-Barthélemy (977), postcodes 97133
ATLANTIC = {"long": "-30.0", "lat": "45.0"}


def _rnic_file(realdata, path, points: dict[str, dict[str, str]], commune: str = "97801", postcode: str = "97150"):
    with open(realdata / "rnic_extract_bondy.csv", encoding="utf-8", newline="") as f:
        template = next(csv.DictReader(f))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(RNIC_COLUMNS_72)
    for num_immat, point in points.items():
        row = template | point | {
            "numero_d_immatriculation": num_immat, "commune": commune, "code_officiel_commune": commune,
            "code_officiel_departement": commune[:3], "code_postal_adresse_de_reference": postcode,
            "code_officiel_arrondissement_commune": "", "reference_cadastrale_1": "",
            "reference_cadastrale_2": "", "reference_cadastrale_3": "",
        }
        w.writerow([row.get(c, "") for c in RNIC_COLUMNS_72])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _load(db, realdata, tmp_path, points, **place):
    load_source(db, "rnic", M, [_rnic_file(realdata, tmp_path / "rnic.csv", points, **place)])
    with db.engine.begin() as conn:  # no FF for this millésime: every registration is unmatched
        for table in ("staging.ff_parcelle", "staging.ff_tup"):
            ensure_partition(conn, table, M)
        return dict(conn.execute(sa.text("select num_immat, controles from staging.rnic")).all())


def _ancestors(model):
    by_table = {m.table: m for m in project()}
    found, todo = {}, list(model.upstream)
    while todo:
        table = todo.pop()
        if table in by_table and table not in found:
            found[table] = by_table[table]
            todo.extend(by_table[table].upstream)
    return list(found.values())


@pytest.mark.parametrize("point, place", [
    (MARIGOT, {"commune": "97801", "postcode": "97150"}),
    (GUSTAVIA, {"commune": "97701", "postcode": "97133"}),
], ids=["saint_martin", "saint_barthelemy"])
def test_saint_martin_and_saint_barthelemy_pass_the_staging_control_and_the_blocking_geometry_audit(
        fresh_db, realdata, tmp_path, point, place):
    controls = _load(fresh_db, realdata, tmp_path, {"AA0000978": point}, **place)
    assert controls["AA0000978"] == []  # no soft control raised, point_hors_france included
    reports = build_all(fresh_db, M)  # every audit, blocking ones included: published
    [geometry] = [o for o in reports["coproff.coproff"].audits if o.audit.name == "geometry_srid_4326_in_france"]
    assert geometry.result.passed and geometry.result.error is None
    with fresh_db.engine.connect() as conn:
        published = conn.execute(sa.text(
            "select idcopro, round(st_x(geom)::numeric, 2)::float, round(st_y(geom)::numeric, 2)::float "
            "from coproff.coproff where millesime = :m"), {"m": M}).all()
    assert published == [("RNC_AA0000978", float(point["long"]), float(point["lat"]))]


def test_a_point_in_the_atlantic_fails_both_and_is_not_published(fresh_db, realdata, tmp_path):
    _load(fresh_db, realdata, tmp_path, {"AA0000978": MARIGOT})
    build_all(fresh_db, M)  # Saint-Martin alone: published
    controls = _load(fresh_db, realdata, tmp_path, {"AA0000978": MARIGOT, "AA0000030": ATLANTIC})
    assert "point_hors_france" in controls["AA0000030"] and "point_hors_france" not in controls["AA0000978"]
    coproff = next(m for m in project() if m.table == "coproff.coproff")
    build_all(fresh_db, M, _ancestors(coproff))
    with pytest.raises(AuditFailed, match="geometry_srid_4326_in_france") as failure:
        build_model(fresh_db, coproff, M, audits_for("coproff/coproff"))
    [geometry] = [o.result for o in failure.value.audits if o.audit.name == "geometry_srid_4326_in_france"]
    assert geometry.offending == 1 and geometry.sample[0][0] == "RNC_AA0000030"
    with fresh_db.engine.connect() as conn:  # the published millésime stays as it was
        assert conn.execute(sa.text("select array_agg(idcopro) from coproff.coproff where millesime = :m"),
                            {"m": M}).scalar() == ["RNC_AA0000978"]
