"""Loading FF, DPE, DVF and LOVAC files: real samples, reprojection, duplicates, personal data."""

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from coproff_platform.loading import SourceFileError, load_source
from coproff_platform.loading.load import source_files


def q(db, sql, **params):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


def square(x: float, y: float, side: float = 20.0) -> str:
    return f"(({x} {y},{x + side} {y},{x + side} {y + side},{x} {y + side},{x} {y}))"


PARCEL_HEADER = "idpar,idtup,idcom,ccodep,ccocom,ccopre,ccosec,dnupla,dcntpa,jannatmin,nlocal,nlogh,ctpdl,geompar\n"
TUP_HEADER = "idtup,typetup,idcom,ccodep,l_idpar,nparcel,dcntpa,ctpdl,nlocal,nlogh,nloghcopro,jannatmin,geomtup,geompoint\n"


def write_ff(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    bx, by = 661956.0, 6866358.0  # Bondy, Lambert-93
    rx, ry = 338767.0, 7690355.0  # Saint-Denis de La Réunion, RGR92 UTM 40S
    (folder / "pnb10_parcelle_93.csv").write_text(
        PARCEL_HEADER
        + f'930100000P0206,930100000P0206,93010,93,010,000,0P,0206,400,1962,12,10,CL,"SRID=2154;MULTIPOLYGON({square(bx, by)})"\n'
        + f'930100000P0207,uf930100000P0207,93010,93,010,000,0P,0207,400,0,1,1,,"SRID=2154;POLYGON{square(bx + 20, by)}"\n'
        + f',,93010,93,010,000,P,208,400,1990,1,1,,"SRID=2154;MULTIPOLYGON({square(bx + 40, by)})"\n'
        + 'not-an-idpar,,93010,93,,,,,,,,,,\n',
        encoding="utf-8",
    )
    (folder / "pnb10_parcelle_974.csv").write_text(
        PARCEL_HEADER
        + f'97411000AB0012,97411000AB0012,97411,974,411,000,AB,0012,300,2001,8,8,CL,"SRID=2975;MULTIPOLYGON({square(rx, ry)})"\n',
        encoding="utf-8",
    )
    (folder / "tup_93.csv").write_text(
        TUP_HEADER
        + f'930100000P0206,SIMPLE,93010,93,{{930100000P0206}},1,400,CL,12,10,10,1962,"SRID=2154;MULTIPOLYGON({square(bx, by)})","SRID=2154;POINT({bx + 10} {by + 10})"\n'
        + f'uf930100000P0207,UF,93010,93,"{{930100000P0207,930100000P0208}}",,800,,2,2,0,1990,"SRID=2154;MULTIPOLYGON({square(bx + 20, by)},{square(bx + 40, by)})","SRID=2154;POINT({bx + 40} {by + 10})"\n'
        + f'x,CHATEAU,93010,93,{{}},0,0,,0,0,0,0,,\n',
        encoding="utf-8",
    )
    (folder / "tup_974.csv").write_text(
        TUP_HEADER
        + f'97411000AB0012,SIMPLE,97411,974,{{97411000AB0012}},1,300,CL,8,8,8,2001,"SRID=2975;MULTIPOLYGON({square(rx, ry)})","SRID=2975;POINT({rx + 10} {ry + 10})"\n',
        encoding="utf-8",
    )


def test_ff_parcels_and_tups_keep_local_geometry_and_get_a_wgs84_copy(fresh_db, tmp_path):
    write_ff(tmp_path / "2023" / "ff")
    parcels = source_files(tmp_path, 2023, "ff_parcelle")
    tups = source_files(tmp_path, 2023, "ff_tup")
    assert [p.name for p in parcels] == ["pnb10_parcelle_93.csv", "pnb10_parcelle_974.csv"]
    assert [p.name for p in tups] == ["tup_93.csv", "tup_974.csv"]
    rp = load_source(fresh_db, "ff_parcelle", 2023, parcels)
    assert (rp.rows_read, rp.rows_loaded, rp.rows_quarantined) == (5, 4, 1)
    assert rp.reasons == {"reference_cadastrale_invalide": 1}
    got = q(fresh_db, """select idpar, idcom, jannatmin, srid, st_srid(geompar), geometrytype(geompar),
                                round(st_x(st_centroid(geompar_4326))::numeric, 3)::float,
                                round(st_y(st_centroid(geompar_4326))::numeric, 3)::float
                         from staging.ff_parcelle order by idpar""")
    assert got == [
        ("930100000P0206", "93010", 1962, 2154, 2154, "MULTIPOLYGON", 2.481, 48.896),
        ("930100000P0207", "93010", None, 2154, 2154, "MULTIPOLYGON", 2.482, 48.896),  # 0 = no year
        ("930100000P0208", "93010", 1990, 2154, 2154, "MULTIPOLYGON", 2.482, 48.896),  # from components
        ("97411000AB0012", "97411", 2001, 2975, 2975, "MULTIPOLYGON", 55.45, -20.88),  # Réunion
    ]
    rt = load_source(fresh_db, "ff_tup", 2023, tups)
    assert (rt.rows_read, rt.rows_loaded, rt.rows_quarantined) == (4, 3, 1)
    assert rt.reasons == {"typetup_invalide": 1}
    got = q(fresh_db, """select idtup, typetup, l_idpar, nparcel, nloghcopro, srid,
                                round(st_x(geompoint_4326)::numeric, 2)::float, round(st_y(geompoint_4326)::numeric, 2)::float
                         from staging.ff_tup order by idtup""")
    assert got == [
        ("930100000P0206", "SIMPLE", ["930100000P0206"], 1, 10, 2154, 2.48, 48.9),
        ("97411000AB0012", "SIMPLE", ["97411000AB0012"], 1, 8, 2975, 55.45, -20.88),
        ("uf930100000P0207", "UF", ["930100000P0207", "930100000P0208"], 2, 0, 2154, 2.48, 48.9),
    ]


def test_rnic_point_far_from_its_commune_parcels_is_flagged(fresh_db, realdata, tmp_path):
    from test_load_rnic import bondy_rows, write_rnic

    write_ff(tmp_path / "2023" / "ff")
    load_source(fresh_db, "ff_parcelle", 2023, source_files(tmp_path, 2023, "ff_parcelle"))
    rows = bondy_rows(realdata, 2)
    rows[1] = rows[1] | {"long": "2.35", "lat": "48.85"}  # Paris centre, ~11 km from Bondy
    report = load_source(fresh_db, "rnic", 2023, [write_rnic(tmp_path / "r.csv", rows)])
    assert q(fresh_db, "select controles from staging.rnic order by source_line") == [([],), (["point_loin_commune"],)]
    assert report.files[0].soft == {"point_loin_commune": 1}


def test_real_dpe_sample_loads_with_reprojected_points(fresh_db, realdata):
    report = load_source(fresh_db, "dpe", 2023, [realdata / "dpe_sample.csv"])
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (50, 50, 0)
    assert "BOM" in report.files[0].encoding and len(report.files[0].unknown_columns) == 225 - 17
    assert q(fresh_db, "select count(*) from staging.dpe where num_immat is not null") == [(17,)]
    # Every geocoded point lands in metropolitan France once reprojected from Lambert-93.
    assert q(fresh_db, """select count(*) filter (where geom is not null),
                                 count(*) filter (where st_x(geom) not between -5.3 and 9.7 or st_y(geom) not between 41.2 and 51.2)
                          from staging.dpe""")[0][1] == 0
    assert q(fresh_db, "select etiquette_dpe, count(*) from staging.dpe group by 1 order by 1")[0][0] in "ABCDEFG"


def test_dpe_human_label_header_is_mapped_by_alias(fresh_db, tmp_path):
    path = tmp_path / "dpe_labels.csv"
    path.write_text(
        "N°DPE,Date_établissement_DPE,Etiquette_DPE,Etiquette_GES,N°_immatriculation_copropriété,"
        "Code_INSEE_(BAN),Coordonnée_cartographique_X_(BAN),Coordonnée_cartographique_Y_(BAN)\n"
        "2393E0000001A,2023-05-02,D,B,AA0652685,93010,661956.2,6866358.6\n"
        "2393E0000002B,2023-05-03,Z,B,pas un numéro,97411,338767.2,7690355.6\n",
        encoding="utf-8",
    )
    report = load_source(fresh_db, "dpe", 2023, [path])
    assert report.rows_loaded == 2 and report.soft == {"etiquette_invalide": 1, "num_immat_invalide": 1}
    got = q(fresh_db, """select numero_dpe, etiquette_dpe, num_immat, round(st_x(geom)::numeric, 3)::float,
                                round(st_y(geom)::numeric, 3)::float from staging.dpe order by 1""")
    assert got == [("2393E0000001A", "D", "AA0652685", 2.481, 48.896),
                   ("2393E0000002B", None, None, 55.45, -20.88)]


def test_real_dvf_samples_and_exact_duplicates_share_a_hash(fresh_db, realdata, tmp_path):
    dvf = tmp_path / "dvf_01.csv"
    lines = (realdata / "dvf_geolocalisees_sample.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    dvf.write_text("".join(lines + [lines[5], lines[5]]), encoding="utf-8")  # two exact duplicates
    raw = tmp_path / "valeursfoncieres-2020.txt"
    shutil.copy(realdata / "valeursfoncieres_2020_sample.txt", raw)
    report = load_source(fresh_db, "dvf", 2023, [dvf, raw])
    assert [(f.variant, f.rows_read, f.rows_loaded) for f in report.files] == [("default", 92, 92), ("dgfip", 50, 50)]
    assert q(fresh_db, """select count(*), count(distinct source_line) from staging.dvf
                          where line_hash = (select line_hash from staging.dvf where source_file = 'dvf_01.csv'
                                             and source_line = 6)""") == [(3, 3)]
    # Raw DGFiP: decimal comma, dd/mm/YYYY and the parcel rebuilt from its parts.
    import datetime as dt
    from decimal import Decimal
    assert q(fresh_db, """select date_mutation, valeur_fonciere, id_parcelle, code_commune from staging.dvf
                          where source_file = 'valeursfoncieres-2020.txt' and source_line = 2""") == [
        (dt.date(2020, 1, 7), Decimal("8000.00"), "01072000AK0216", "01072")]
    assert q(fresh_db, "select count(*) from staging.dvf where source_file = 'dvf_01.csv' and st_srid(geom) = 4326") == [(92,)]


def test_lovac_never_loads_nor_quarantines_owner_columns(fresh_db, tmp_path):
    path = tmp_path / "lovac_fil_93.csv"
    path.write_text(
        "ff_idlocal|ff_idpar|invariant|ff_ctpdl|debutvacance|ff_ccthp|ff_jannath|ff_stoth|ff_x|ff_y|proprietaire|adresse1_proprio\n"
        "930101234567|930100000P0206|1234567|CL|2019|V|1962|45,5|661956.2|6866358.6|DUPONT Jean|1 rue X\n"
        "930101234568|930100000P0206|1234568|CL|deux mille|V|1962|45|661956.2|6866358.6|MARTIN Paul|2 rue Y\n"
        "930101234567|930100000P0206|1234567|CL|2020|V|1962|45|661956.2|6866358.6|DURAND Léa|3 rue Z\n",
        encoding="utf-8",
    )
    report = load_source(fresh_db, "lovac", 2023, [path])
    assert (report.rows_loaded, report.rows_quarantined) == (1, 2)
    assert report.files[0].personal_columns_ignored == ["proprietaire", "adresse1_proprio"]
    raws = dict(q(fresh_db, "select reason, raw from quality.quarantine where source = 'lovac'"))
    assert set(raws) == {"nombre_invalide", "cle_dupliquee"}
    assert "deux mille" in raws["nombre_invalide"] and "debutvacance=2020" in raws["cle_dupliquee"]
    assert not any(name in raw for raw in raws.values() for name in ("MARTIN", "rue Y", "DURAND", "rue Z"))
    assert q(fresh_db, "select ff_stoth, round(st_x(geom)::numeric, 3)::float from staging.lovac") == [
        (pytest.approx(45.5), 2.481)]


def test_no_file_for_a_required_source_fails_with_the_folder(fresh_db, tmp_path):
    with pytest.raises(SourceFileError, match="no rnic file"):
        load_source(fresh_db, "rnic", 2023, source_files(tmp_path, 2023, "rnic"))


def test_two_sources_of_one_millesime_load_in_parallel(fresh_db, realdata):
    from concurrent.futures import ThreadPoolExecutor

    with fresh_db.engine.begin() as conn:  # a first run: no partition of quality tables exists yet
        conn.execute(sa.text("drop table quality.quarantine, quality.load_log"))
    jobs = [("rnic", realdata / "rnic_extract_bondy.csv"), ("dpe", realdata / "dpe_sample.csv"),
            ("dvf", realdata / "dvf_geolocalisees_sample.csv")]
    with ThreadPoolExecutor(3) as pool:
        reports = list(pool.map(lambda job: load_source(fresh_db, job[0], 2023, [job[1]]), jobs))
    assert [r.rows_loaded for r in reports] == [332, 50, 90]
    assert q(fresh_db, "select source, rows_read from quality.load_log order by 1") == [
        ("dpe", 50), ("dvf", 90), ("rnic", 332)]


def test_bad_geometries_cost_their_row_and_a_self_intersection_is_repaired_and_flagged(fresh_db, tmp_path):
    folder = tmp_path / "2023" / "ff"
    write_ff(folder)
    bx, by = 661956.0, 6866358.0
    with open(folder / "pnb10_parcelle_93.csv", "a", encoding="utf-8") as f:
        f.write('930100000P0300,,93010,93,010,000,0P,0300,1,0,0,0,,"SRID=2154;MULTIPOLYGON(((1 2,3 4)))"\n')  # 2 points
        f.write(f'930100000P0301,,93010,93,010,000,0P,0301,1,0,0,0,,"SRID=2154;POLYGON(({bx} {by},{bx + 9} {by},{bx + 9} {by + 9},{bx} {by + 9}))"\n')
        f.write(f'930100000P0302,,93010,93,010,000,0P,0302,1,0,0,0,,"SRID=4326;POLYGON{square(bx, by)}"\n')
        f.write(f'930100000P0303,,93010,93,010,000,0P,0303,1,0,0,0,,"SRID=999999;POLYGON{square(bx, by)}"\n')
        f.write(f'930100000P0304,,93010,93,010,000,0P,0304,1,0,0,0,,"SRID=2154;POLYGON(({bx} {by},{bx + 9} {by + 9},{bx + 9} {by},{bx} {by + 9},{bx} {by}))"\n')
    report = load_source(fresh_db, "ff_parcelle", 2023, source_files(tmp_path, 2023, "ff_parcelle"))
    assert report.reconciled and report.rows_loaded == 5
    assert q(fresh_db, "select source_line, reason, field from quality.quarantine "
                       "where reason like 'g%' or reason like 's%' order by 1") == [
        (6, "geometrie_non_fermee", "geompar"), (7, "geometrie_non_fermee", "geompar"),
        (8, "srid_incoherent", "geompar"), (9, "srid_inconnu", "geompar")]
    assert q(fresh_db, "select anomalies, st_isvalid(geompar), st_isvalid(geompar_4326) from staging.ff_parcelle "
                       "where idpar = '930100000P0304'") == [(["geometrie_reparee"], True, True)]
    assert report.soft["geometrie_reparee"] == 1
    assert q(fresh_db, "select count(*) from staging.ff_parcelle where anomalies = '{}'") == [(4,)]


def test_a_self_intersection_in_an_otherwise_readable_file_is_repaired_set_based(fresh_db, tmp_path):
    # Every geometry parses: the set-based path (no row-by-row fallback) judges the file.
    folder = tmp_path / "2023" / "ff"
    write_ff(folder)
    bx, by = 661956.0, 6866358.0
    with open(folder / "pnb10_parcelle_93.csv", "a", encoding="utf-8") as f:
        f.write(f'930100000P0304,,93010,93,010,000,0P,0304,1,0,0,0,,"SRID=2154;POLYGON(({bx} {by},{bx + 9} {by + 9},{bx + 9} {by},{bx} {by + 9},{bx} {by}))"\n')
        f.write(f'930100000P0305,,93010,93,010,000,0P,0305,1,0,0,0,,"SRID=4326;POLYGON{square(bx, by)}"\n')
    report = load_source(fresh_db, "ff_parcelle", 2023, source_files(tmp_path, 2023, "ff_parcelle"))
    assert report.reconciled and report.soft["geometrie_reparee"] == 1 and report.reasons["srid_incoherent"] == 1
    assert q(fresh_db, "select idpar, anomalies, st_isvalid(geompar_4326) from staging.ff_parcelle "
                       "where anomalies <> '{}'") == [("930100000P0304", ["geometrie_reparee"], True)]
