"""The `declarations/` landing source on real PostgreSQL: staging tables, answers, quarantine.

The sample declarations are written from the real Bondy registry extract (so every WS2 names a
real registration loaded in `staging.rnic`), with planted malformed declarations whose expected
codes are in the ground truth: all of them and nothing else are rejected, each with exactly its
codes.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from coproff_platform.loading import load_source
from coproff_platform.registre import load as registre_load
from coproff_platform.registre.load import declaration_files, load_declarations
from coproff_platform.sample import declarations as s

M = 2023


def q(pg, sql, **params):
    with pg.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def _landing(tmp_path: Path, realdata: Path) -> Path:
    land = tmp_path / "landing"
    (land / str(M) / "rnic").mkdir(parents=True)
    shutil.copy(realdata / "rnic_extract_bondy.csv", land / str(M) / "rnic" / "rnic.csv")
    return land


@pytest.mark.parametrize("workers", [1, 2])
def test_planted_malformed_declarations_are_all_rejected_with_their_codes_and_nothing_else(
        fresh_db, realdata, tmp_path, monkeypatch, workers):
    # With 2 workers, chunks of 40 lines: the answers must not depend on how the batch was split.
    monkeypatch.setattr(registre_load, "CHUNK_LINES", 40)
    land = _landing(tmp_path, realdata)
    load_source(fresh_db, "rnic", M, [land / str(M) / "rnic" / "rnic.csv"])
    counts = s.write_declarations(M, land, tmp_path / "truth", seed=7, malformed_share=0.15)
    with (tmp_path / "truth" / str(M) / "declarations_rejetees.csv").open(encoding="utf-8") as f:
        truth = {(r["source_file"], int(r["source_line"])): set(r["codes"].split()) for r in csv.DictReader(f)}
    assert len(truth) == counts["malformees"] >= 20
    assert {name for name in (m.name for m in s.MALFORMATIONS)} <= {
        r["malformation"] for r in csv.DictReader((tmp_path / "truth" / str(M) / "declarations_rejetees.csv").open())}

    report = load_declarations(fresh_db, M, declaration_files(land, M), display=lambda p: str(p.relative_to(land)),
                               workers=workers)

    assert report.workers == workers and report.reconciled and report.rows_read == counts["lignes"] == report.rows_accepted + report.rows_rejected
    rejected = {(f, ln): set(codes) for f, ln, codes in q(
        fresh_db, "select source_file, source_line, array_agg(distinct code) from staging.declaration_controle "
                  "where statut = 'rejetee' and niveau = 'bloquant' group by 1, 2")}
    assert rejected == truth
    assert q(fresh_db, "select count(*) from staging.declaration_controle where statut = 'acceptee' and niveau = 'bloquant'") == [(0,)]
    # The quarantine holds the same lines with their blocking codes and no raw text.
    assert {(f, ln) for f, ln in q(fresh_db, "select source_file, source_line from quality.quarantine "
                                             "where source = 'declarations'")} == set(truth)
    assert q(fresh_db, "select count(*) from quality.quarantine where source = 'declarations' and raw is not null") == [(0,)]
    assert q(fresh_db, "select rows_read, rows_loaded, rows_quarantined from quality.load_log where source = 'declarations'") == [
        (report.rows_read, report.rows_accepted, report.rows_rejected)]
    # Every accepted declaration is in staging.declaration; annual updates carry blocks C and D.
    assert q(fresh_db, "select count(*) from staging.declaration") == [(report.rows_accepted,)]
    assert q(fresh_db, "select count(*) from staging.declaration_finance") == [(counts["annuelle"],)]
    assert q(fresh_db, "select count(*) from staging.declaration_technique") == [(counts["annuelle"] + counts["ws1"],)]
    assert q(fresh_db, """select count(*) from staging.declaration d
                          where d.service = 'WS2' and not exists (select 1 from staging.rnic r where r.num_immat = d.num_immat)""") == [(0,)]


def test_no_mail_and_no_pdf_is_loaded_only_its_size_and_hash(fresh_db, tmp_path):
    land = tmp_path / "landing"
    folder = land / str(M) / "declarations"
    folder.mkdir(parents=True)
    doc = s.ws1()
    envelope = {"id_depot": "D1", "recu_le": "2023-06-01T10:05:00+02:00", "numero_attribue": "ZT2300001", "declaration": doc}
    (folder / "depot.json").write_text(json.dumps([envelope]), encoding="utf-8")
    report = load_declarations(fresh_db, M, declaration_files(land, M))
    assert (report.rows_read, report.rows_accepted) == (1, 1)
    import hashlib
    assert q(fresh_db, "select num_immat, justificatif_nom, justificatif_octets, justificatif_sha256, teledeclarant "
                       "from staging.declaration") == [
        ("ZT2300001", "contrat_syndic.pdf", len(s.PDF), hashlib.sha256(s.PDF).hexdigest(), "EDITEUR-TEST-01")]
    mail = doc["teledeclarant"]["mail_utilisateur"]
    for table in ("declaration", "declaration_procedure", "declaration_technique", "declaration_finance", "declaration_controle"):
        assert q(fresh_db, f"select count(*) from staging.{table} t where t::text like :m", m=f"%{mail}%") == [(0,)]
        assert q(fresh_db, f"select count(*) from staging.{table} t where t::text like :b",
                 b=f"%{doc['rattachement']['justificatif'][:16]}%") == [(0,)]


def test_blocks_b_c_d_are_typed_one_row_per_procedure(fresh_db, tmp_path):
    land = tmp_path / "landing"
    folder = land / str(M) / "declarations"
    folder.mkdir(parents=True)
    doc = s.ws1()
    doc["procedures"] = {"arretes": [{"type": "peril", "date_arrete": "2020-02-01", "date_mainlevee": "2021-03-01"},
                                     {"type": "insalubrite", "date_arrete": "2022-04-05", "date_mainlevee": None}],
                         "mandat_ad_hoc": {"date_ordonnance_nomination": "2022-09-01", "date_fin_mission": None},
                         "date_ordonnance_carence": "2023-01-10"}
    doc["donnees_techniques"]["batiments_par_etiquette"] = [{"etiquette": "C", "nombre_batiments": 1},
                                                            {"etiquette": "F", "nombre_batiments": 2},
                                                            {"etiquette": "G", "nombre_batiments": 1}]
    line = json.dumps({"id_depot": "D9", "recu_le": "2023-06-01T10:05:00+02:00", "numero_attribue": "ZT2300002",
                       "declaration": doc})
    (folder / "a.jsonl").write_text(line + "\n\n" + "{pas du json\n", encoding="utf-8")
    report = load_declarations(fresh_db, M, declaration_files(land, M))
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (2, 1, 1)
    assert q(fresh_db, "select procedure, type_arrete, date_debut::text, date_fin::text from staging.declaration_procedure "
                       "order by date_debut") == [
        ("arrete", "peril", "2020-02-01", "2021-03-01"), ("arrete", "insalubrite", "2022-04-05", None),
        ("mandat_ad_hoc", None, "2022-09-01", None), ("carence", None, "2023-01-10", None)]
    assert q(fresh_db, "select nb_batiments, nb_batiments_passoires, chauffage_energie from staging.declaration_technique") == [
        (4, 3, "gaz")]
    assert q(fresh_db, "select charges_courantes::float, montant_impayes::float, nb_coproprietaires_impayes "
                       "from staging.declaration_finance") == [(60000.0, 4500.0, 3)]
    # The unreadable line (line 3: the blank line 2 is not a declaration) is quarantined by file and line.
    assert q(fresh_db, "select source_line, reason from quality.quarantine where source = 'declarations'") == [
        (3, "STR_JSON_ILLISIBLE")]


def test_reloading_a_millesime_replaces_it_and_leaves_the_others(fresh_db, tmp_path):
    land = tmp_path / "landing"
    for m in (2022, 2023):
        folder = land / str(m) / "declarations"
        folder.mkdir(parents=True)
        env = {"id_depot": f"D{m}", "recu_le": "2023-06-01T10:05:00+02:00", "numero_attribue": f"ZT{m % 100}00001",
               "declaration": s.ws1()}
        (folder / "a.jsonl").write_text(json.dumps(env) + "\n", encoding="utf-8")
        load_declarations(fresh_db, m, declaration_files(land, m))
    (land / "2023" / "declarations" / "a.jsonl").write_text("", encoding="utf-8")
    load_declarations(fresh_db, 2023, declaration_files(land, 2023))
    assert q(fresh_db, "select millesime, count(*) from staging.declaration group by 1") == [(2022, 1)]


def _jsonl(folder: Path, envelopes: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "depot.jsonl").write_text("".join(json.dumps(e) + "\n" for e in envelopes), encoding="utf-8")


def _ws2_on(num: str, i: int, year: int) -> dict:
    doc = s.ws2(num)
    doc["date_transmission"] = f"{year}-06-10T10:00:00+02:00"
    doc["donnees_financieres"].update(date_ag_approbation_comptes=f"{year}-05-20", date_cloture_comptes=f"{year - 1}-12-31")
    return {"id_depot": f"W{i}", "recu_le": doc["date_transmission"], "numero_attribue": None, "declaration": doc}


def test_ws2_existence_is_asked_of_the_registry_not_only_of_the_batch(fresh_db, realdata, tmp_path):
    """A WS2 number is known from the registry export of the millésime or earlier (`staging.rnic`)
    and from WS1 declarations accepted in an earlier millésime; any other number is rejected."""
    land = _landing(tmp_path, realdata)
    load_source(fresh_db, "rnic", M, [land / str(M) / "rnic" / "rnic.csv"])
    ws1 = {"id_depot": "D1", "recu_le": f"{M}-06-01T10:05:00+02:00", "numero_attribue": "ZT2300001", "declaration": s.ws1()}
    _jsonl(land / str(M) / "declarations", [ws1])
    assert load_declarations(fresh_db, M, declaration_files(land, M)).rows_accepted == 1
    nxt = M + 1
    # AA0652685 is in the Bondy registry extract of M, ZT2300001 was attributed by WS1 in M.
    _jsonl(land / str(nxt) / "declarations",
           [_ws2_on("AA0652685", 1, nxt), _ws2_on("ZT2300001", 2, nxt), _ws2_on("ZZ9999999", 3, nxt)])
    report = load_declarations(fresh_db, nxt, declaration_files(land, nxt))
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (3, 2, 1)
    assert q(fresh_db, "select num_immat from staging.declaration where millesime = :m order by 1", m=nxt) == [
        ("AA0652685",), ("ZT2300001",)]
    assert q(fresh_db, "select source_line, reason from quality.quarantine where millesime = :m and source = 'declarations'",
             m=nxt) == [(3, "M_IMMAT_INCONNUE")]
    # The registry export of a later millésime is not known to an earlier one.
    _jsonl(land / str(M - 1) / "declarations", [_ws2_on("AA0652685", 4, M - 1)])
    report = load_declarations(fresh_db, M - 1, declaration_files(land, M - 1))
    assert (report.rows_accepted, report.rows_rejected, set(report.rejected_codes)) == (0, 1, {"M_IMMAT_INCONNUE"})


def test_the_generator_writes_the_declarations_and_their_planted_malformations(fresh_db, tmp_path):
    """`coproff sample` writes `declarations/` through the writer declared in PACKAGE_SOURCES: every
    planted malformed declaration is rejected with exactly its codes, nothing else is rejected."""
    from coproff_platform.sample.generator import SampleSpec, generate
    land, truth = tmp_path / "l", tmp_path / "t"
    generate(SampleSpec((M,), ("93",), 1500, 3), land, truth, log=lambda _: None)
    assert declaration_files(land, M) == [land / str(M) / "declarations" / "declarations.jsonl"]
    load_source(fresh_db, "rnic", M, sorted((land / str(M) / "rnic").glob("*.csv")))
    report = load_declarations(fresh_db, M, declaration_files(land, M), display=lambda p: str(p.relative_to(land)))
    with (truth / str(M) / "declarations_rejetees.csv").open(encoding="utf-8") as f:
        planted = {(r["source_file"], int(r["source_line"])): set(r["codes"].split()) for r in csv.DictReader(f)}
    assert planted and report.rows_accepted > 10 * len(planted)
    assert {(f, ln): set(codes) for f, ln, codes in q(
        fresh_db, "select source_file, source_line, array_agg(distinct code) from staging.declaration_controle "
                  "where statut = 'rejetee' and niveau = 'bloquant' group by 1, 2")} == planted


def test_the_service_path_answers_like_the_batch_path(fresh_db, realdata, tmp_path):
    """One definition, two callers: `controler()` (the editors' service, a batch of one) gives each
    declaration the codes the landing source's batch gave it, on the planted malformed declarations
    and a share of the valid ones of the sample."""
    from coproff_platform.registre.controles import controler
    land = _landing(tmp_path, realdata)
    load_source(fresh_db, "rnic", M, [land / str(M) / "rnic" / "rnic.csv"])
    s.write_declarations(M, land, tmp_path / "truth", seed=11, malformed_share=0.15)
    (path,) = declaration_files(land, M)
    load_declarations(fresh_db, M, [path], display=lambda p: p.name)
    batch = {ln: (statut, set(codes) - {"aucun"}) for ln, statut, codes in q(
        fresh_db, "select source_line, statut, array_agg(code) from staging.declaration_controle group by 1, 2")}
    records = {r.source_line: r for r in registre_load.read_records(path, path.name)}
    chosen = sorted(ln for ln, (statut, _) in batch.items() if statut == "rejetee") + sorted(batch)[:40]
    assert len(chosen) > 60
    with fresh_db.engine.connect() as conn:
        for ln in chosen:
            record = records[ln]
            if record.failure is not None:  # unreadable line: no document to post
                continue
            doc = record.envelope["declaration"]
            with conn.begin():
                rep = controler(conn, doc, recu_le=record.recu_le, millesime=M)
            assert (("acceptee" if rep.acceptee else "rejetee"), set(rep.codes)) == batch[ln], (ln, rep.as_json())
