"""Audits are SQL files beside their model: a new file is a new check, a malformed one an error at
load time naming the file, and the runner judges the fresh table, not the published one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import AssetCheckKey, AssetKey, DagsterInstance, materialize

from coproff_platform import labels as L
from coproff_platform.assets.models import model_asset
from coproff_platform.checks.audits import (
    AuditDefinitionError,
    audits_of,
    check_audit_folders,
    load_audit,
    rewrite,
)
from coproff_platform.models.build import build_all
from coproff_platform.models.fixtures import PARIS, Fixture, ancestors
from coproff_platform.models.project import PROJECT_DIR, load_project, project
from coproff_platform.partitions import millesime_partitions

X, Y = PARIS
M = 2023

NO_ROW_WITHOUT_SITUATION = """-- audit: no_row_without_situation
-- severity: warning
-- threshold: none
-- description: Audit d'essai : chaque ligne a une situation, et un idcopro
--   qui ne commence pas par ZZ_.
select idcopro, situation
from coproff.coproff
where millesime = :millesime and (situation is null or idcopro like 'ZZ\\_%')
order by idcopro
"""


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """A copy of the repository's model project, to add files to."""
    root = tmp_path / "models"
    shutil.copytree(PROJECT_DIR, root, ignore=shutil.ignore_patterns("README.md"))
    return root


def _coproff(root: Path):
    return next(m for m in load_project(root) if m.table == "coproff.coproff")


def test_adding_one_sql_file_adds_a_check_to_the_model_asset(project_copy, fresh_db):
    before = {s.name for s in model_asset(_coproff(project_copy)).check_specs}
    (project_copy / "marts" / "coproff.audits" / "no_row_without_situation.sql").write_text(
        NO_ROW_WITHOUT_SITUATION, encoding="utf-8")
    model = _coproff(project_copy)
    asset_def = model_asset(model)
    specs = {s.name: s for s in asset_def.check_specs}
    assert set(specs) - before == {"no_row_without_situation"}
    spec = specs["no_row_without_situation"]
    assert not spec.blocking and spec.partitions_def is millesime_partitions
    assert spec.description.startswith("Audit d'essai : chaque ligne a une situation, et un idcopro qui")

    # and it runs: evaluated on the millésime's partition, with the offending rows
    fx = Fixture()
    fx.copro_tup("75115000DF0001", X, Y)
    fx.registration("AA0000001", x=X, y=Y, idpar=["75115000DF0001"])
    fx.write(fresh_db)
    upstream = ancestors(("coproff.coproff",)) - {"coproff.coproff"}  # what the audited model reads
    build_all(fresh_db, M, [m for m in project() if m.table in upstream])
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(millesime_partitions.name, [str(M)])
    result = materialize([asset_def], partition_key=str(M), resources={"postgis": fresh_db}, instance=instance)
    key = AssetCheckKey(AssetKey(["coproff", "coproff"]), "no_row_without_situation")
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.asset_check_key == key]
    assert evaluation.passed and evaluation.partition == str(M)
    assert evaluation.metadata[L.du_millesime(L.LIGNES_EN_FAUTE, M)].value == 0
    assert evaluation.metadata[L.FICHIER].value.endswith("marts/coproff.audits/no_row_without_situation.sql")


@pytest.mark.parametrize("header, message", [
    ("-- severity: blocking\n-- threshold: none\n-- description: x", r"header lacks `-- audit:`"),
    ("-- audit: other_name\n-- severity: blocking\n-- threshold: none\n-- description: x", r"must be the file name"),
    ("-- audit: bad\n-- severity: fatal\n-- threshold: none\n-- description: x", r"expected blocking or warning"),
    ("-- audit: bad\n-- severity: warning\n-- threshold: seuil_inconnu\n-- description: x", r"seuil_inconnu"),
    ("-- audit: bad\n-- severity: warning\n-- threshold: variation_max\n-- description: x",
     r"never reads ref\.parametres"),
    ("-- audit: bad\n-- audit: bad\n-- severity: warning\n-- threshold: none\n-- description: x", r"given twice"),
])
def test_a_malformed_header_is_a_load_time_error_naming_the_file(project_copy, header, message):
    path = project_copy / "marts" / "coproff.audits" / "bad.sql"
    path.write_text(f"{header}\nselect idcopro from coproff.coproff where millesime = :millesime\n", encoding="utf-8")
    with pytest.raises(AuditDefinitionError, match=message) as error:
        model_asset(_coproff(project_copy))
    assert "coproff.audits/bad.sql" in str(error.value)


@pytest.mark.parametrize("body, message", [
    ("select idcopro from coproff.coproff where millesime = :millesime; select 1", "ONE select"),
    ("delete from coproff.coproff where millesime = :millesime", "ONE select"),
    ("select idcopro from coproff.coproff", r"\(:millesime\)"),
    ("select idcopro from coproff.doublons where millesime = :millesime", "reads coproff.coproff"),
    ("select idcopro from coproff.coproff where millesime = :millesime and (", "does not parse"),
])
def test_an_audit_is_one_select_on_its_model_for_the_millesime(tmp_path, body, message):
    path = tmp_path / "bad.sql"
    path.write_text(f"-- audit: bad\n-- severity: warning\n-- threshold: none\n-- description: x\n{body}\n",
                    encoding="utf-8")
    with pytest.raises(AuditDefinitionError, match=message):
        load_audit(path, "coproff.coproff")


def test_an_audit_folder_without_its_model_is_an_error(project_copy):
    (project_copy / "marts" / "coproff_typo.audits").mkdir()
    with pytest.raises(AuditDefinitionError, match=r"coproff_typo\.audits: audit folder without a model"):
        check_audit_folders(load_project(project_copy))


def test_an_audit_reading_an_unknown_table_is_an_error(project_copy):
    (project_copy / "marts" / "coproff.audits" / "bad.sql").write_text(
        "-- audit: bad\n-- severity: warning\n-- threshold: none\n-- description: x\n"
        "select c.idcopro from coproff.coproff c join staging.inconnue i using (idcopro) "
        "where c.millesime = :millesime\n", encoding="utf-8")
    with pytest.raises(AuditDefinitionError, match=r"coproff\.audits/bad\.sql: reads staging\.inconnue"):
        check_audit_folders(load_project(project_copy))


def test_the_rewrite_reads_the_fresh_table_for_the_millesime_and_the_published_one_for_others():
    [audit] = [a for a in audits_of(next(m for m in project() if m.table == "coproff.coproff"))
               if a.name == "no_sudden_change_from_previous_millesime"]
    sql = rewrite(audit, "coproff.coproff_m2023_new")
    # every read of coproff.coproff became: the fresh table, plus the other millésimes as published
    assert sql.count("FROM coproff.coproff_m2023_new") == audit.sql.count("from coproff.coproff")
    assert sql.count("FROM coproff.coproff WHERE millesime <> :millesime") == audit.sql.count("from coproff.coproff")
    assert ":millesime" in sql and "%(" not in sql


def test_every_audit_of_the_project_loads_and_is_a_check_of_its_model():
    models = project()
    check_audit_folders(models)
    audits = {m.table: audits_of(m) for m in models}
    assert len(audits["coproff.coproff"]) == 9
    for table in ("stats_situations", "stats_ecart_logements", "stats_coherence_construction",
                  "stats_immatriculation_alur", "stats_evolution"):
        assert len(audits[f"coproff.{table}"]) == 1, table
    for model in models:
        specs = {s.name for s in model_asset(model).check_specs}
        assert specs == {a.name for a in audits[model.table]}, model.table


def test_audits_read_a_savepoint_so_a_broken_one_fails_alone(fresh_db, tmp_path):
    from coproff_platform.checks.audits import run_audit

    path = tmp_path / "broken.sql"
    path.write_text("-- audit: broken\n-- severity: blocking\n-- threshold: none\n-- description: x\n"
                    "select idcopro, 1 / 0 as boom from coproff.coproff where millesime = :millesime\n",
                    encoding="utf-8")
    broken = load_audit(path, "coproff.coproff")
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("create table coproff.coproff (idcopro text, millesime smallint) "
                             "partition by list (millesime)"))
        conn.execute(sa.text("create table coproff.coproff_m2023_new (like coproff.coproff)"))
        conn.execute(sa.text("insert into coproff.coproff_m2023_new values ('RNC_AA0000001', 2023)"))
        result = run_audit(conn, broken, "coproff.coproff_m2023_new", M)
        assert not result.passed and "division by zero" in result.error
        # the transaction is still usable: the next audit runs
        assert conn.execute(sa.text("select count(*) from coproff.coproff_m2023_new")).scalar() == 1


def test_every_audit_file_runs_as_written_on_the_published_tables(fresh_db):
    # What an analyst does: run the file in psql with :millesime bound, no runner, no rewrite.
    fx = Fixture()
    fx.copro_tup("75115000DF0001", X, Y, nloghcopro=10)
    fx.copro_tup("75115000DF0002", X + 200, Y, nloghcopro=8)  # FF-only
    fx.registration("AA0000001", x=X, y=Y, idpar=["75115000DF0001"], lots_hab=10)
    fx.registration("AA0000002", lots_hab=5)  # unmatched
    fx.write(fresh_db)
    build_all(fresh_db, M)
    offending = {}
    with fresh_db.engine.connect() as conn:
        for model in project():
            for audit in audits_of(model):
                # keyed by model too: two models may have an audit of the same name (`population`)
                offending[(model.name, audit.name)] = conn.execute(sa.text(audit.sql), {"millesime": M}).all()
    assert len(offending) == 22
    # the same answers as the runner gave before publishing: every rule holds but the coherence
    # rate, which has no comparable copropriété here (no construction period) and says so in one row
    [summary] = offending.pop(("coproff", "construction_coherence_rate"))
    assert summary.taux is None and summary.nb_comparables == 0
    assert {name: rows for name, rows in offending.items() if rows} == {}
