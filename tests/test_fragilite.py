"""Registry state and fragility models on hand-made rows in real PostgreSQL.

`coproff.coproff` is stood in by a table holding only the columns the models read; declarations go
through the real loader. Each test names the rule it proves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from coproff_platform import labels as L
from coproff_platform import reference
from coproff_platform.checks.audits import audits_for, run_audit
from coproff_platform.models.build import AuditFailed, build_model
from coproff_platform.models.project import project
from coproff_platform.registre.load import declaration_files, load_declarations
from coproff_platform.sample import declarations as s

M = 2023
MODELS = ("intermediate.registre_etat", "coproff.registre", "coproff.fragilite", "coproff.stats_fragilite")
COPROFF_COLUMNS = """idcopro text, millesime smallint, num_immat char(9), code_commune char(5), code_departement text,
    indicatif boolean, mandat text, annee_construction integer, periode_construction text, part_dpe_fg numeric,
    prix_m2_median numeric, nb_logements integer, nb_logements_vacants_2ans integer"""


def q(pg, sql, **params):
    with pg.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


@pytest.fixture
def db(fresh_db):
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text(f"create table coproff.coproff ({COPROFF_COLUMNS}) partition by list (millesime)"))
        conn.execute(sa.text(f"create table coproff.coproff_m{M} partition of coproff.coproff for values in ({M})"))
        # the parcel source every statistics row carries
        conn.execute(sa.text("create schema if not exists intermediate"))
        conn.execute(sa.text("create table intermediate.tup (millesime smallint, idtup text, source_parcelles text)"))
        conn.execute(sa.text("insert into intermediate.tup values (:m, 'T', 'ff')"), {"m": M})
    return fresh_db


def copro(pg, idcopro, num=None, *, dep="93", commune="93010", mandat="Mandat en cours", annee=1990,
          dpe_fg=None, prix=None, logements=40, vacants=0, indicatif=False):
    with pg.engine.begin() as conn:
        conn.execute(sa.text("insert into coproff.coproff values (:i, :m, :n, :c, :d, :ind, :mandat, :a, null, :fg, :p, :l, :v)"),
                     dict(i=idcopro, m=M, n=num, c=commune, d=dep, ind=indicatif, mandat=mandat, a=annee, fg=dpe_fg,
                          p=prix, l=logements, v=vacants))


def declare(pg, tmp_path, docs_and_dates):
    folder = tmp_path / "landing" / str(M) / "declarations"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "d.jsonl").open("w", encoding="utf-8") as f:
        for i, (doc, recu_le) in enumerate(docs_and_dates):
            f.write(json.dumps({"id_depot": f"D{i}", "recu_le": recu_le, "numero_attribue": None,
                                "declaration": doc}) + "\n")
    # WS2 numbers must be known: they are registered by the test service's table.
    with pg.engine.begin() as conn:
        conn.execute(sa.text("create schema if not exists registre_test"))
        conn.execute(sa.text("create table if not exists registre_test.numero (num_immat char(9) primary key, "
                             "id_depot text, attribue_le timestamptz default now())"))
        for doc, _ in docs_and_dates:
            conn.execute(sa.text("insert into registre_test.numero (num_immat, id_depot) values (:n, 'x') "
                                 "on conflict do nothing"), {"n": doc["numero_immatriculation"]})
    report = load_declarations(pg, M, declaration_files(tmp_path / "landing", M))
    assert report.rows_rejected == 0, report.codes


def parametre(pg, code, valeur):
    """A fixture's own value of a rule parameter (the reference files are untouched)."""
    with pg.engine.begin() as conn:
        assert conn.execute(sa.text("update ref.parametres set valeur = :v where code = :c"),
                            {"v": str(valeur), "c": code}).rowcount == 1


def poids(pg, **weights):
    with pg.engine.begin() as conn:
        for code, w in weights.items():
            assert conn.execute(sa.text("update ref.signaux_fragilite set poids = :w where code = :c"),
                                {"w": w, "c": code}).rowcount == 1


def weights():
    return {r.code: r.poids for r in reference.table("signaux_fragilite")}


def build(pg):
    by_table = {m.table: m for m in project()}
    for table in MODELS:
        model = by_table[table]
        report = build_model(pg, model, M, audits_for("/".join(model.asset_key_path)))
        failed = [o.audit.name for o in report.audits if not o.result.passed]
        assert not failed, (table, failed)


def annual(num, *, recu="2023-06-10", impayes=4500.0, charges=60000.0, debiteurs=3, fonds=15000.0, dettes=1200.0):
    doc = s.ws2(num)
    doc["date_transmission"] = f"{recu}T10:00:00+02:00"
    ag = (dt.date.fromisoformat(recu) - dt.timedelta(days=20)).isoformat()
    doc["donnees_financieres"].update(date_ag_approbation_comptes=ag, montant_impayes=impayes, charges_courantes=charges,
                                      nombre_coproprietaires_impayes=debiteurs, fonds_travaux=fonds,
                                      dettes_fournisseurs=dettes)
    return doc, f"{recu}T10:00:00+02:00"


@pytest.fixture(autouse=True)
def _clean_registre_test(fresh_db):
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("drop schema if exists registre_test cascade"))


def test_latest_declaration_before_the_september_cutoff_is_the_registry_state(db, tmp_path):
    copro(db, "RNC_AA0000001", "AA0000001")
    early = annual("AA0000001", recu="2023-03-10", impayes=1000.0)
    late = annual("AA0000001", recu="2023-06-10", impayes=2000.0)
    after_cutoff = annual("AA0000001", recu="2023-10-02", impayes=9000.0)  # belongs to 2024's state
    declare(db, tmp_path, [late, early, after_cutoff])
    build(db)
    assert q(db, "select nb_declarations, montant_impayes::float, date_derniere_maj_annuelle::date::text, "
                 "maj_annuelle_en_retard, date_arret::text from coproff.registre") == [
        (2, 2000.0, "2023-06-10", False, "2023-10-01")]


def test_registered_copropriete_without_any_declaration_is_overdue(db, tmp_path):
    copro(db, "RNC_AA0000002", "AA0000002")
    copro(db, "FF_93010000AB0001", None)
    declare(db, tmp_path, [])
    build(db)
    assert q(db, "select idcopro, nb_declarations, maj_annuelle_en_retard from coproff.registre") == [
        ("RNC_AA0000002", 0, True)]
    # the annual update is owed by registered copropriétés only: not evaluable (NULL) for the other
    assert q(db, "select idcopro, signal_sans_maj_annuelle, immatriculee from coproff.fragilite order by idcopro") == [
        ("FF_93010000AB0001", None, False), ("RNC_AA0000002", True, True)]


def test_procedures_in_force_at_the_cutoff_light_the_procedure_signal(db, tmp_path):
    copro(db, "RNC_AA0000003", "AA0000003")
    copro(db, "RNC_AA0000004", "AA0000004")
    lifted, recu = annual("AA0000003")
    lifted["procedures"]["arretes"] = [{"type": "peril", "date_arrete": "2020-01-10", "date_mainlevee": "2021-02-01"}]
    in_force, recu4 = annual("AA0000004")
    in_force["procedures"]["arretes"] = [{"type": "insalubrite", "date_arrete": "2022-01-10", "date_mainlevee": None}]
    declare(db, tmp_path, [(lifted, recu), (in_force, recu4)])
    build(db)
    assert q(db, "select idcopro, nb_arretes_en_cours from coproff.registre order by 1") == [
        ("RNC_AA0000003", 0), ("RNC_AA0000004", 1)]
    assert q(db, "select idcopro, signal_procedure from coproff.fragilite order by 1") == [
        ("RNC_AA0000003", False), ("RNC_AA0000004", True)]


def test_financial_signals_compare_ratios_with_the_reference_thresholds(db, tmp_path):
    copro(db, "RNC_AA0000005", "AA0000005")
    copro(db, "RNC_AA0000006", "AA0000006")
    # Arrears, supplier debts and fonds de travaux exactly at their thresholds of ref.parametres
    # (read below, never typed here): three signals on; the other copropriété is healthy.
    p = {k: reference.parameter(k) for k in ("fragilite_impayes_part_min", "fragilite_dettes_fournisseurs_part_min",
                                                "fragilite_fonds_travaux_part_max")}
    charges = 60000.0
    declare(db, tmp_path, [annual("AA0000005", impayes=charges * p["fragilite_impayes_part_min"],
                                  dettes=charges * p["fragilite_dettes_fournisseurs_part_min"],
                                  fonds=charges * p["fragilite_fonds_travaux_part_max"] * 0.8, debiteurs=10),
                           annual("AA0000006")])
    build(db)
    poids = weights()
    assert q(db, """select idcopro, part_impayes::float, signal_impayes, signal_dettes_fournisseurs, signal_fonds_travaux,
                           score, motifs from coproff.fragilite order by 1""") == [
        ("RNC_AA0000005", p["fragilite_impayes_part_min"], True, True, True,
         poids["impayes"] + poids["dettes_fournisseurs"] + poids["fonds_travaux"],
         ["Impayés élevés rapportés aux charges", "Dettes fournisseurs élevées rapportées aux charges",
          "Fonds de travaux faible rapporté aux charges"]),
        ("RNC_AA0000006", 0.075, False, False, False, 0, [])]


def test_families_are_relative_to_the_departement_and_add_up(db, tmp_path):
    # Ten copropriétés in 93, scores rising with old construction, no syndic, vacancy, F/G labels;
    # one copropriété in 75. A stock of 10 is enough here, every copropriété has enough data.
    parametre(db, "fragilite_stock_local_min", 10)
    parametre(db, "fragilite_completude_min", 0)
    for i in range(10):
        copro(db, f"RNC_AB{i:07d}", f"AB{i:07d}", mandat="Pas de mandat en cours" if i >= 5 else "Mandat en cours",
              annee=1960 if i >= 3 else 1990, vacants=10 if i >= 8 else 0, dpe_fg=0.9 if i == 9 else None)
    copro(db, "RNC_AC0000001", "AC0000001", dep="75", commune="75118", annee=1960)
    declare(db, tmp_path, [])
    build(db)
    fams = dict(q(db, "select idcopro, famille from coproff.fragilite"))
    assert fams["RNC_AB0000000"] == "A"  # only the 'no annual update' signal: the lowest score of 93
    assert fams["RNC_AB0000009"] == "D"  # the highest score of 93 (top 10%)
    # alone in 75, below the minimal stock: compared with its region (Île-de-France, the 11 copropriétés)
    assert q(db, "select famille, niveau_stock, code_stock, nb_stock from coproff.fragilite "
                 "where idcopro = 'RNC_AC0000001'") == [("A", "region", "11", 11)]
    assert q(db, "select sum(nb_copro)::int from coproff.stats_fragilite where niveau = 'france'") == [(11,)]
    assert q(db, "select niveau, code_territoire, sum(nb_copro)::int, sum(part)::float from coproff.stats_fragilite "
                 "group by 1, 2 order by 1, 2") == [("departement", "75", 1, 1.0), ("departement", "93", 10, 1.0),
                                                     ("france", "france", 11, 1.0), ("region", "11", 11, 1.0)]


def test_tup_signal_on_a_tup_with_several_copros_is_indicative(db, tmp_path):
    copro(db, "RNC_AA0000007", "AA0000007", vacants=20, logements=40, indicatif=True)
    copro(db, "RNC_AA0000008", "AA0000008", vacants=0, logements=40, indicatif=True)
    declare(db, tmp_path, [])
    build(db)
    assert q(db, "select idcopro, signal_vacance_longue, indicatif from coproff.fragilite order by 1") == [
        ("RNC_AA0000007", True, True), ("RNC_AA0000008", False, False)]


def test_audits_are_sql_files_beside_the_models_and_run_with_their_severity(db, tmp_path):
    # dbt_like_sql/models/marts/<model>.audits/<name>.sql: discovered by the runner, no registration.
    expected = {"coproff/registre": {"population": True, "coherence": False},
                "coproff/fragilite": {"population": True, "signaux": True, "familles": True, "rang": True,
                                      "entrees": True},
                "coproff/stats_fragilite": {"familles": True}}
    assert {asset: {a.name: a.blocking for a in audits_for(asset)} for asset in expected} == expected
    copro(db, "RNC_AA0000009", "AA0000009")
    declare(db, tmp_path, [])
    by_table = {m.table: m for m in project()}
    for table in MODELS:  # every audit is evaluated by the build, and passes on the real build
        model = by_table[table]
        report = build_model(db, model, M, audits_for("/".join(model.asset_key_path)))
        asset = "/".join(model.asset_key_path)
        assert {o.audit.name: o.result.passed for o in report.audits} == dict.fromkeys(expected.get(asset, {}), True)
    from coproff_platform.checks.metadata_hooks import metadata_for
    with db.engine.begin() as conn:
        for asset, key in (("coproff/stats_fragilite", L.GRAPHIQUE), ("coproff/fragilite", L.GRAPHIQUE_SIGNAUX)):
            meta = metadata_for(asset, conn, asset.replace("/", "."), M)
            assert not [k for k in meta if k.startswith(L.ERREUR)], meta
            assert meta[key].value.startswith("![")
    familles = {a.name: a for a in audits_for("coproff/stats_fragilite")}["familles"]
    with db.engine.begin() as conn:
        conn.execute(sa.text("update coproff.stats_fragilite set nb_copro = nb_copro + 1 where famille = 'B'"))
        result = run_audit(conn, familles, "coproff.stats_fragilite", M)
    # the département, its region and France no longer add up
    assert not result.passed and result.offending == 3 and result.error is None


def test_a_failing_blocking_registry_audit_keeps_the_published_millesime(db, tmp_path):
    copro(db, "RNC_AA0000012", "AA0000012")
    declare(db, tmp_path, [])
    build(db)
    by_table = {m.table: m for m in project()}
    # A second registered copropriété appears in the referential but its fragility row is removed by
    # a deliberately wrong variant of the model: the population audit (blocking) must stop it.
    model = by_table["coproff.fragilite"]
    broken = dataclasses.replace(model, sql=f"select * from ({model.sql}) as q where idcopro <> 'RNC_AA0000012'")
    with pytest.raises(AuditFailed, match="population"):
        build_model(db, broken, M, audits_for("coproff/fragilite"))
    assert q(db, "select idcopro from coproff.fragilite where millesime = :m", m=M) == [("RNC_AA0000012",)]
    # The warning audit of coproff.registre reports a negative amount, and the millésime is published.
    model = by_table["coproff.registre"]
    columns = [r[0] for r in q(db, "select column_name from information_schema.columns where table_schema = 'coproff' "
                                   "and table_name = 'registre' order by ordinal_position")]
    wrong = ", ".join("(-1)::numeric(14, 2) as charges_courantes" if c == "charges_courantes" else c
                      for c in columns)
    negative = dataclasses.replace(model, sql=f"select {wrong} from ({model.sql}) as q")
    report = build_model(db, negative, M, audits_for("coproff/registre"))
    assert {o.audit.name: (o.audit.blocking, o.result.passed) for o in report.audits} == {
        "population": (True, True), "coherence": (False, False)}
    assert q(db, "select charges_courantes::int from coproff.registre where millesime = :m", m=M) == [(-1,)]


def test_copropriete_without_departement_is_counted_under_inconnu(db, tmp_path):
    copro(db, "RNC_AA0000010", "AA0000010", dep=None, commune=None)
    copro(db, "RNC_AA0000011", "AA0000011")
    declare(db, tmp_path, [])
    build(db)  # the families audit passes: the territories add up to France
    assert q(db, "select code_territoire, sum(nb_copro)::int from coproff.stats_fragilite "
                 "where niveau = 'departement' group by 1 order by 1") == [("93", 1), ("inconnu", 1)]


def test_weight_change_moves_a_copropriete_between_families(db, tmp_path):
    # Four copropriétés of the FF only in 93: two without signal, one old (construction_ancienne),
    # one with long-term vacancy. Score = Σ weights: the heavier signal ranks higher.
    parametre(db, "fragilite_stock_local_min", 1)
    parametre(db, "fragilite_completude_min", 0)
    poids(db, construction_ancienne=1, vacance_longue=2)
    copro(db, "FF_93010000AA0001", None)
    copro(db, "FF_93010000AA0002", None)
    copro(db, "FF_93010000AA0003", None, annee=1960)
    copro(db, "FF_93010000AA0004", None, vacants=10, logements=40)
    declare(db, tmp_path, [])
    build(db)
    sql = "select idcopro, score, rang::float, famille from coproff.fragilite where idcopro in ('FF_93010000AA0003', 'FF_93010000AA0004') order by 1"
    # share of the stock strictly below: 2/4 and 3/4, families B (rang_min 0.50) and C (0.75)
    assert q(db, sql) == [("FF_93010000AA0003", 1, 0.5, "B"), ("FF_93010000AA0004", 2, 0.75, "C")]
    poids(db, construction_ancienne=3)
    build(db)
    assert q(db, sql) == [("FF_93010000AA0003", 3, 0.75, "C"), ("FF_93010000AA0004", 2, 0.5, "B")]


def test_small_departement_falls_back_to_its_region_then_to_france(db, tmp_path):
    parametre(db, "fragilite_stock_local_min", 3)
    parametre(db, "fragilite_completude_min", 0)
    for i in range(3):
        copro(db, f"FF_93010000AB000{i}", None)
    copro(db, "FF_94028000AB0001", None, dep="94", commune="94028")      # Île-de-France, like 93
    copro(db, "FF_97411000AB0001", None, dep="974", commune="97411")     # La Réunion: a region of its own
    declare(db, tmp_path, [])
    build(db)
    assert q(db, "select code_departement, niveau_stock, code_stock, nb_stock from coproff.fragilite "
                 "order by idcopro") == [("93", "departement", "93", 3)] * 3 + [
        ("94", "region", "11", 4), ("974", "france", "france", 5)]
    assert q(db, "select code_territoire, sum(nb_stock_repli)::int from coproff.stats_fragilite "
                 "where niveau = 'departement' group by 1 order by 1") == [("93", 0), ("94", 1), ("974", 1)]


def test_missing_data_is_not_evaluable_and_keeps_the_copropriete_out_of_the_stock(db, tmp_path):
    # A registered copropriété with its annual update: every signal can be evaluated. A copropriété
    # of the FF only, without DPE nor sales: registry, building label and price signals are NULL,
    # not off; its completeness is the weight of what is left; below fragilite_completude_min it is
    # not part of the stock, yet it gets a family (a minimum) and its old construction counts.
    parametre(db, "fragilite_stock_local_min", 1)
    copro(db, "RNC_AE0000001", "AE0000001", dpe_fg=0.1, prix=3000)
    copro(db, "FF_93010000AE0001", None, annee=1960)
    declare(db, tmp_path, [annual("AE0000001")])
    build(db)
    w = weights()
    evaluable = w["sans_syndic"] + w["construction_ancienne"] + w["vacance_longue"]
    expected = round(evaluable / sum(w.values()), 4)
    assert expected < reference.parameter("fragilite_completude_min")
    assert q(db, """select idcopro, completude::float, donnees_suffisantes, nb_signaux_evalues, signal_impayes,
                           signal_sans_maj_annuelle, signal_procedure, signal_passoires, signal_prix_bas,
                           signal_construction_ancienne, score, nb_stock, rang::float, famille
                    from coproff.fragilite order by 1""") == [
        ("FF_93010000AE0001", expected, False, 3, None, None, None, None, None, True,
         w["construction_ancienne"], 1, 1.0, "D"),
        ("RNC_AE0000001", 1.0, True, 10, False, False, False, False, False, False, 0, 1, 0.0, "A")]
    assert q(db, "select motifs_detail from coproff.fragilite where idcopro = 'FF_93010000AE0001'") == [
        ([{"signal": "construction_ancienne", "poids": w["construction_ancienne"], "valeur": 1960,
           "seuil": reference.parameter("fragilite_construction_annee_max")}],)]


def test_coherence_audits_catch_a_wrong_score_family_rank_or_signal(db, tmp_path):
    parametre(db, "fragilite_stock_local_min", 1)
    parametre(db, "fragilite_completude_min", 0)
    copro(db, "FF_93010000AF0001", None)
    copro(db, "FF_93010000AF0002", None, annee=1960)
    declare(db, tmp_path, [])
    build(db)
    # the old one ranks above half of the stock of two: family B
    assert q(db, "select famille, rang::float from coproff.fragilite where idcopro = 'FF_93010000AF0002'") == [("B", 0.5)]
    audits = {a.name: a for a in audits_for("coproff/fragilite")}
    # each break keeps the other rules true (rang 0.6 is still family B)
    breaks = {"signaux": "update coproff.fragilite set score = score + 1 where idcopro = 'FF_93010000AF0002'",
              "familles": "update coproff.fragilite set famille = 'A' where idcopro = 'FF_93010000AF0002'",
              "rang": "update coproff.fragilite set rang = 0.6 where idcopro = 'FF_93010000AF0002'",
              "entrees": "update coproff.fragilite set annee_construction_max = 2000 where idcopro = 'FF_93010000AF0002'"}
    for name, wrong in breaks.items():
        with db.engine.connect() as conn:
            with conn.begin():
                conn.execute(sa.text(wrong))
                failed = {a: not run_audit(conn, audits[a], "coproff.fragilite", M).passed for a in audits}
                conn.rollback()
        assert failed == {a: a == name for a in audits}, (name, failed)


def test_a_removed_column_drops_the_publication_view_that_froze_it_and_no_other(db, tmp_path):
    # `coproff.fragilite_dernier` freezes the table's columns; a model that loses a column (as
    # rang_departement was replaced by rang) must still build, and publication recreates the view.
    copro(db, "RNC_AA0000013", "AA0000013")
    declare(db, tmp_path, [])
    build(db)
    model = {m.table: m for m in project()}["coproff.fragilite"]
    assert "    motifs_detail,\n" in model.sql
    fewer = dataclasses.replace(model, sql=model.sql.replace("    motifs_detail,\n", ""))
    with db.engine.begin() as conn:
        conn.execute(sa.text("create view coproff.fragilite_dernier as select * from coproff.fragilite"))
    build_model(db, fewer, M, [])
    assert q(db, "select to_regclass('coproff.fragilite_dernier')::text") == [(None,)]
    assert "motifs_detail" not in [r[0] for r in q(db, "select column_name from information_schema.columns "
                                                       "where table_schema = 'coproff' and table_name = 'fragilite'")]
    # a view of someone else's still blocks the change: never dropped behind their back
    build_model(db, model, M, [])
    with db.engine.begin() as conn:
        conn.execute(sa.text("create view public.mes_motifs as select idcopro, motifs_detail from coproff.fragilite"))
    with pytest.raises(sa.exc.DBAPIError, match="depend"):
        build_model(db, fewer, M, [])
    with db.engine.begin() as conn:
        conn.execute(sa.text("drop view public.mes_motifs"))
