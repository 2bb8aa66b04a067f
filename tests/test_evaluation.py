"""Scores against the ground truth: matching and duplicate pairs, and the skip without truth."""

from argparse import Namespace

from coproff_platform import labels as L
from coproff_platform import evaluation
from coproff_platform.models.fixtures import PARIS, Fixture, build_referential

X, Y = PARIS


def test_scores_count_right_tups_no_tup_answers_and_unordered_pairs(fresh_db, tmp_path):
    fx = Fixture()
    fx.copro_tup("75115000DF0001", X, Y)
    fx.copro_tup("75115000DF0002", X + 300, Y)
    fx.plain_tup("75115000DF0003", X + 600, Y)
    fx.copro_tup("75115000DF0004", X + 630, Y)  # touches DF0003
    fx.registration("AA0000001", x=X, y=Y)                 # right
    fx.registration("AA0000002", x=X + 300, y=Y)           # wrong: truth says DF0004
    fx.registration("AA0000003")                            # right "no TUP"
    fx.registration("AA0000004", x=X + 600, y=Y)           # right, and a double count with FF_…0004
    fx.write(fresh_db)
    build_referential(fresh_db)
    truth = tmp_path / "2023"
    truth.mkdir()
    (truth / "links.csv").write_text(
        "num_immat,idtup\nAA0000001,75115000DF0001\nAA0000002,75115000DF0004\nAA0000003,\n"
        "AA0000004,75115000DF0003\nAA0000005,75115000DF0002\n"
    )
    (truth / "duplicates.csv").write_text(
        "num_immat_a,num_immat_b,kind\nFF_75115000DF0004,AA0000004,double_compte_ff\n"
        "AA0000001,AA0000002,double_immatriculation\n"
    )
    s = evaluation.evaluate(fresh_db, 2023, tmp_path)
    assert (s.registrations_matched, s.matched_right, s.none_right) == (3, 2, 1)
    assert s.matching_precision == round(2 / 3, 4)
    assert s.matching_recall == round(2 / 4, 4)  # AA0000005 was never staged: a miss
    assert s.matching_accuracy == round(3 / 5, 4)
    assert (s.pairs_truth, s.pairs_flagged, s.pairs_right) == (2, 1, 1)
    assert (s.duplicates_precision, s.duplicates_recall) == (1.0, 0.5)
    assert s.by_kind["double_immatriculation"]["recall"] == 0.0


def test_evaluate_without_truth_says_so_and_exits_2(fresh_db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COPROFF_DATABASE_URL", fresh_db.database_url)
    code = evaluation.run(Namespace(millesime=2031, truth_dir=tmp_path, show_errors=False))
    assert code == 2
    assert "no ground truth for millésime 2031" in capsys.readouterr().out


def test_the_evaluation_asset_reports_scores_and_materializes_nothing_without_truth(fresh_db, tmp_path, monkeypatch):
    from dagster import DagsterInstance, materialize

    from coproff_platform.assets.evaluation import evaluation_scores
    from coproff_platform.partitions import millesime_partitions

    fx = Fixture()
    fx.copro_tup("75115000DF0001", X, Y)
    fx.registration("AA0000001", x=X, y=Y)
    fx.write(fresh_db)
    build_referential(fresh_db)
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(millesime_partitions.name, ["2023"])

    monkeypatch.setenv("COPROFF_TRUTH_DIR", str(tmp_path / "none"))
    skipped = materialize([evaluation_scores], resources={"postgis": fresh_db}, partition_key="2023", instance=instance)
    assert skipped.success and skipped.asset_materializations_for_node(evaluation_scores.op.name) == []

    (tmp_path / "truth" / "2023").mkdir(parents=True)
    (tmp_path / "truth" / "2023" / "links.csv").write_text("num_immat,idtup\nAA0000001,75115000DF0001\n")
    monkeypatch.setenv("COPROFF_TRUTH_DIR", str(tmp_path / "truth"))
    scored = materialize([evaluation_scores], resources={"postgis": fresh_db}, partition_key="2023", instance=instance)
    [mat] = scored.asset_materializations_for_node(evaluation_scores.op.name)
    assert mat.metadata[L.PRECISION_APPARIEMENT].value == 1.0 and mat.metadata[L.RAPPEL_APPARIEMENT].value == 1.0
    # the confusion table by reason code is in the materialization, as `coproff evaluate` prints it
    table = mat.metadata[L.APPARIEMENT_PAR_MOTIF].value
    assert table.startswith("| motif | right_tup | wrong_tup | wrongly_unmatched |") and "| 1 | 0 | 0 | 0 | 0 |" in table


def test_confusion_tables_split_right_wrong_unmatched_and_wrongly_matched_by_motif_and_planted_case(fresh_db, tmp_path):
    fx = Fixture()
    fx.copro_tup("75115000DF0001", X, Y)
    fx.copro_tup("75115000DF0002", X + 300, Y)
    fx.registration("AA0000001", x=X, y=Y)            # right TUP
    fx.registration("AA0000002", x=X + 300, y=Y)      # wrong TUP: the truth says DF0001
    fx.registration("AA0000003", x=X + 300, y=Y)      # wrongly matched: no TUP in the truth
    fx.registration("AA0000004")                       # right "no TUP"
    fx.write(fresh_db)
    build_referential(fresh_db)
    truth = tmp_path / "2023"
    truth.mkdir()
    (truth / "links.csv").write_text(
        "num_immat,idtup\nAA0000001,75115000DF0001\nAA0000002,75115000DF0001\nAA0000003,\nAA0000004,\n"
        "AA0000005,75115000DF0002\n"
    )
    (truth / "cases.csv").write_text(
        "num_immat,situation,cas_point,cas_reference\nAA0000001,rnic_1_1,dans_parcelle,aucune\n"
        "AA0000002,rnic_1_1,sur_parcelle_voisine,aucune\nAA0000003,rnic_unmatched,hors_parcelles,aucune\n"
        "AA0000004,rnic_unmatched,sans_point,aucune\nAA0000005,rnic_1_1,dans_parcelle,aucune\n"
    )
    s = evaluation.evaluate(fresh_db, 2023, tmp_path)
    totals = {o: sum(row[o] for row in s.by_motif.values()) for o in evaluation.OUTCOMES}
    assert totals == {"right_tup": 1, "wrong_tup": 1, "wrongly_unmatched": 1, "wrongly_matched": 1, "right_none": 1}
    # a registration the referential never saw is a miss of its own kind
    assert s.by_motif["(absente du référentiel)"]["wrongly_unmatched"] == 1
    assert s.by_case["dans_parcelle / aucune"] == {"right_tup": 1, "wrong_tup": 0, "wrongly_unmatched": 1,
                                                   "wrongly_matched": 0, "right_none": 0}
    assert s.by_case["sur_parcelle_voisine / aucune"]["wrong_tup"] == 1
    assert s.by_case["hors_parcelles / aucune"]["wrongly_matched"] == 1
    # precision and recall per group: right / (right + wrong + wrongly matched), right / (right + wrong + missed)
    assert (evaluation._precision(s.by_case["dans_parcelle / aucune"]),
            evaluation._recall(s.by_case["dans_parcelle / aucune"])) == (1.0, 0.5)
    assert evaluation._recall(s.by_case["sur_parcelle_voisine / aucune"]) == 0.0
    assert evaluation._precision(s.by_case["hors_parcelles / aucune"]) == 0.0
    text = "\n".join(s.lines())
    assert "matching by planted case" in text and "sur_parcelle_voisine / aucune" in text
    assert "precision  recall" in text
    table = evaluation.confusion_markdown(s.by_case, "cas")
    assert "| precision | recall |" in table and "| dans_parcelle / aucune | 1 | 0 | 1 | 0 | 0 | 1.0000 | 0.5000 |" in table
