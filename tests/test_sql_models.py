"""The SQL model runner: dependencies read from the SQL, bound millésime, write-audit-publish."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterInstance, MarkdownMetadataValue, materialize

from coproff_platform import labels as L
from coproff_platform.assets.models import model_asset
from coproff_platform.models.build import SchemaChanged, build_model
from coproff_platform.models.project import ModelProjectError, load_project, project
from coproff_platform.partitions import millesime_partitions


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_dependency_graph_is_read_from_the_sql(tmp_path):
    write(tmp_path, "intermediate/a.sql", """
        with rnic as (select num_immat from staging.rnic where millesime = :millesime),
             b as (select 1 as x)  -- a CTE named like a model is not a dependency
        select :millesime as millesime, num_immat from rnic join b on true""")
    write(tmp_path, "marts/c.sql", """
        select a.millesime, t.idtup from intermediate.a as a
        join lateral (select idtup from staging.ff_tup where millesime = a.millesime limit 1) t on true
        where a.millesime = :millesime
          and exists (select 1 from staging.ff_parcelle p where p.millesime = :millesime)""")
    models = {m.table: m for m in load_project(tmp_path)}
    assert models["intermediate.a"].upstream == ("staging.rnic",)
    assert models["coproff.c"].upstream == ("intermediate.a", "staging.ff_parcelle", "staging.ff_tup")
    assets = {m.table: model_asset(m) for m in models.values()}
    deps = {k.to_user_string() for k in assets["coproff.c"].dependency_keys}
    assert deps == {"intermediate/a", "staging/ff_parcelle", "staging/ff_tup"}
    assert assets["coproff.c"].key == AssetKey(["coproff", "c"])
    assert assets["coproff.c"].group_names_by_key[AssetKey(["coproff", "c"])] == "coproff"  # groups are named after the schema (ui.py)


def test_the_project_graph_chains_matching_referential_and_duplicates():
    upstream = {m.table: set(m.upstream) for m in project()}
    assert {"staging.rnic", "intermediate.parcelle", "intermediate.tup"} <= upstream["intermediate.tup_match"]
    assert {"staging.ff_parcelle", "staging.cadastre_parcelle", "intermediate.tup"} <= upstream["intermediate.parcelle"]
    assert "intermediate.coproff_base" in upstream["coproff.doublons"]
    assert {"intermediate.coproff_base", "coproff.doublons"} <= upstream["coproff.coproff"]
    assert upstream["coproff.appariement"] == {"intermediate.tup_match"}


def test_a_reference_to_an_unknown_table_names_the_file(tmp_path):
    write(tmp_path, "marts/bad.sql", "select millesime from staging.nope where millesime = :millesime")
    with pytest.raises(ModelProjectError, match=r"marts/bad\.sql: reads staging\.nope"):
        load_project(tmp_path)


def test_a_cycle_between_models_is_an_error(tmp_path):
    write(tmp_path, "marts/x.sql", "select millesime from coproff.y where millesime = :millesime")
    write(tmp_path, "marts/y.sql", "select millesime from coproff.x where millesime = :millesime")
    with pytest.raises(ModelProjectError, match="cycle"):
        load_project(tmp_path)


PROBE_SQL = """
with lovac as (select ff_idlocal, debutvacance from staging.lovac where millesime = :millesime)
select ff_idlocal, cast(:millesime as smallint) as millesime, debutvacance from lovac
"""


def probe_project(tmp_path: Path, sql: str = PROBE_SQL):
    write(tmp_path, "marts/probe.sql", sql)
    write(tmp_path, "marts/probe.yml", """
description: Table d'essai du moteur de modèles
primary_key: [millesime, ff_idlocal]
indexes: [debutvacance]
columns:
  - name: ff_idlocal
    description: Identifiant du local
  - name: debutvacance
    description: Année de début de la vacance
""")
    return load_project(tmp_path)[0]


def stage_lovac(db, millesime: int, idlocals: list[str], debut: int = 2020) -> None:
    with db.replace_millesime("staging.lovac", millesime) as swap:
        swap.copy_rows(["millesime", "ff_idlocal", "debutvacance", "source_file", "source_line"],
                       [(millesime, i, debut, "f", n + 2) for n, i in enumerate(idlocals)])


def published(db, table="coproff.probe"):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(f"select millesime, ff_idlocal, debutvacance from {table} order by 1, 2")).all()


def test_rerunning_a_millesime_leaves_the_other_millesime_untouched(fresh_db, tmp_path):
    model = probe_project(tmp_path)
    stage_lovac(fresh_db, 2022, ["A"])
    stage_lovac(fresh_db, 2023, ["B", "C"])
    build_model(fresh_db, model, 2022)
    build_model(fresh_db, model, 2023)
    stage_lovac(fresh_db, 2023, ["D"], debut=2019)
    report = build_model(fresh_db, model, 2023)
    assert report.row_count == 1
    assert published(fresh_db) == [(2022, "A", 2020), (2023, "D", 2019)]


def test_the_millesime_is_a_bound_parameter_and_filters_the_sources(fresh_db, tmp_path):
    model = probe_project(tmp_path)
    assert "2023" not in model.sql
    stage_lovac(fresh_db, 2022, ["A"])
    stage_lovac(fresh_db, 2023, ["B"])
    report = build_model(fresh_db, model, 2023)
    assert report.row_count == 1 and published(fresh_db) == [(2023, "B", 2020)]


def test_the_dictionary_becomes_comments_primary_key_and_indexes(fresh_db, tmp_path):
    model = probe_project(tmp_path)
    stage_lovac(fresh_db, 2023, ["B"])
    build_model(fresh_db, model, 2023)
    with fresh_db.engine.connect() as conn:
        assert conn.execute(sa.text("select obj_description('coproff.probe'::regclass)")).scalar() == \
            "Table d'essai du moteur de modèles"
        assert conn.execute(sa.text(
            "select col_description('coproff.probe'::regclass, 3)")).scalar() == "Année de début de la vacance"
        indexes = conn.execute(sa.text(
            "select indexdef from pg_indexes where schemaname = 'coproff' and tablename = 'probe'")).scalars().all()
    assert any("PRIMARY KEY" in i or "(millesime, ff_idlocal)" in i for i in indexes)
    assert any("(debutvacance)" in i for i in indexes)


def test_an_added_column_evolves_the_table_and_keeps_the_other_millesimes(fresh_db, tmp_path):
    model = probe_project(tmp_path)
    stage_lovac(fresh_db, 2022, ["A"])
    stage_lovac(fresh_db, 2023, ["B"])
    build_model(fresh_db, model, 2022)
    build_model(fresh_db, model, 2023)
    changed = probe_project(tmp_path, PROBE_SQL.replace("debutvacance from lovac", "debutvacance, 1 as extra from lovac"))
    report = build_model(fresh_db, changed, 2023)
    assert report.schema_changes == ["added extra"]
    with fresh_db.engine.connect() as conn:
        got = conn.execute(sa.text("select millesime, ff_idlocal, extra from coproff.probe order by 1")).all()
    assert got == [(2022, "A", None), (2023, "B", 1)]


def test_a_changed_column_type_stops_with_a_clear_error_and_keeps_the_table(fresh_db, tmp_path):
    model = probe_project(tmp_path)
    stage_lovac(fresh_db, 2023, ["B"])
    build_model(fresh_db, model, 2023)
    changed = probe_project(tmp_path, PROBE_SQL.replace("debutvacance from lovac", "debutvacance::text as debutvacance from lovac"))
    with pytest.raises(SchemaChanged, match=r"debutvacance integer→text.*drop table coproff\.probe cascade"):
        build_model(fresh_db, changed, 2023)
    assert published(fresh_db) == [(2023, "B", 2020)]


NO_VACANCY_BEFORE_2020 = """-- audit: no_vacancy_before_2020
-- severity: blocking
-- threshold: none
-- description: Audit d'essai : aucun logement vacant depuis avant 2020.
select ff_idlocal, debutvacance
from coproff.probe
where millesime = :millesime and debutvacance < 2020
order by ff_idlocal
"""


def test_a_failing_blocking_audit_keeps_the_previous_millesime_and_fails_the_run(fresh_db, tmp_path):
    write(tmp_path, "marts/probe.audits/no_vacancy_before_2020.sql", NO_VACANCY_BEFORE_2020)
    model = probe_project(tmp_path)
    asset_def = model_asset(model)
    assert [s.name for s in asset_def.check_specs] == ["no_vacancy_before_2020"]
    assert all(s.blocking for s in asset_def.check_specs)
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(millesime_partitions.name, ["2023"])

    stage_lovac(fresh_db, 2023, ["B"], debut=2021)
    ok = materialize([asset_def], resources={"postgis": fresh_db}, partition_key="2023", instance=instance)
    assert ok.success
    [evaluation] = ok.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.partition == "2023"
    mat = ok.asset_materializations_for_node(asset_def.op.name)[0]
    assert mat.metadata["dagster/row_count"].value == 1
    assert "```sql" in mat.metadata["sql"].value

    stage_lovac(fresh_db, 2023, ["X", "Y"], debut=2015)
    failed = materialize([asset_def], resources={"postgis": fresh_db}, partition_key="2023", instance=instance,
                         raise_on_error=False)
    assert not failed.success
    [evaluation] = failed.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity.value == "ERROR"
    assert evaluation.metadata[L.du_millesime(L.LIGNES_EN_FAUTE, 2023)].value == 2
    table = evaluation.metadata[L.ECHANTILLON]
    assert isinstance(table, MarkdownMetadataValue) and "| ff_idlocal | debutvacance |" in table.value
    assert "| X | 2015 |" in table.value and "| Y | 2015 |" in table.value
    assert published(fresh_db) == [(2023, "B", 2021)]  # the previous version is still published


def test_two_millesimes_of_one_model_rebuilt_at_once_both_publish(fresh_db, tmp_path):
    import threading

    slow = PROBE_SQL.replace("from lovac", "from lovac cross join lateral (select pg_sleep(0.4)) as pause")
    model = probe_project(tmp_path, slow)
    stage_lovac(fresh_db, 2022, ["A"])
    stage_lovac(fresh_db, 2023, ["B"])
    build_model(fresh_db, model, 2022)
    build_model(fresh_db, model, 2023)
    errors: list[BaseException] = []

    def rebuild(millesime: int) -> None:
        try:
            build_model(fresh_db, model, millesime)
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=rebuild, args=(m,)) for m in (2022, 2023)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert published(fresh_db) == [(2022, "A", 2020), (2023, "B", 2020)]
