"""`coproff status` reports what the instance ran and what the database published."""

from __future__ import annotations

import sqlalchemy as sa
from dagster import DagsterInstance, materialize

from coproff_platform.assets.publication import publication
from coproff_platform.resources.postgis import literal as sql_literal
from coproff_platform.cli import main as coproff
from coproff_platform.partitions import register_millesime


def test_status_lists_millesimes_runs_and_check_results(fresh_db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COPROFF_DATABASE_URL", fresh_db.database_url)
    (tmp_path / "home").mkdir()
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("create table coproff.coproff (idcopro text not null, millesime smallint not null) partition by list (millesime)"))
        conn.execute(sa.text(f"comment on table coproff.coproff is {sql_literal('Référentiel')}"))
        for col in ("idcopro", "millesime"):
            conn.execute(sa.text(f"comment on column coproff.coproff.{col} is {sql_literal('x')}"))
    with fresh_db.replace_millesime("coproff.coproff", 2023) as swap:
        swap.copy_rows(["idcopro", "millesime"], [("FF_a", 2023), ("FF_b", 2023)])

    instance = DagsterInstance.get()
    register_millesime(instance, "2023")
    register_millesime(instance, "2024")  # registered, never built
    assert materialize([publication], partition_key="2023", resources={"postgis": fresh_db}, instance=instance).success

    assert coproff(["status"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    row_2023 = next(line for line in lines if line.strip().startswith("2023 "))
    assert "yes" in row_2023 and "UTC" in row_2023 and " 2 " in row_2023 and "SUCCESS" in row_2023
    row_2024 = next(line for line in lines if line.strip().startswith("2024 "))
    assert row_2024.split()[1:3] == ["yes", "no"]
    assert "millésime 2023: 1 checks, all passed" in out
    assert "landing_sensor             STOPPED (default)" in out

    # A column loses its comment: the next publication's check fails and status names it.
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("alter table coproff.coproff add column surface integer"))
    materialize([publication], partition_key="2023", resources={"postgis": fresh_db}, instance=instance,
                raise_on_error=False)  # the comment check now blocks the publication
    assert coproff(["status", "--millesime", "2023"]) == 0
    out = capsys.readouterr().out
    assert "millésime 2023: 1 checks, 1 failed (1 ERROR, 0 WARN)" in out
    assert "FAILED ERROR  coproff/publication:every_table_and_column_commented" in out
    instance.dispose()


def _published_table(fresh_db) -> None:
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("create table coproff.coproff (idcopro text not null, millesime smallint not null) partition by list (millesime)"))
        conn.execute(sa.text(f"comment on table coproff.coproff is {sql_literal('Référentiel')}"))
        for col in ("idcopro", "millesime"):
            conn.execute(sa.text(f"comment on column coproff.coproff.{col} is {sql_literal('x')}"))
    with fresh_db.replace_millesime("coproff.coproff", 2023) as swap:
        swap.copy_rows(["idcopro", "millesime"], [("FF_a", 2023), ("FF_b", 2023)])


def test_a_failed_rebuild_says_the_previous_version_is_still_published(fresh_db, tmp_path, monkeypatch, capsys):
    from dagster import AssetCheckResult, AssetCheckSpec, AssetKey, asset

    from coproff_platform.partitions import millesime_partitions

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COPROFF_DATABASE_URL", fresh_db.database_url)
    (tmp_path / "home").mkdir()
    _published_table(fresh_db)
    instance = DagsterInstance.get()
    register_millesime(instance, "2023")
    first = materialize([publication], partition_key="2023", resources={"postgis": fresh_db}, instance=instance)
    assert first.success

    # A rebuild whose first asset fails: its check is planned, never evaluated, nothing is republished.
    @asset(key=AssetKey(["staging", "rnic"]), partitions_def=millesime_partitions,
           check_specs=[AssetCheckSpec("rows_reconcile", asset=AssetKey(["staging", "rnic"]), partitions_def=millesime_partitions)])
    def rnic():
        raise RuntimeError("2023/rnic/rnic_93.csv, line 1: missing required column numero_d_immatriculation")
        yield AssetCheckResult(passed=True)

    failed = materialize([rnic], partition_key="2023", resources={"postgis": fresh_db},
                         instance=instance, raise_on_error=False)
    assert not failed.success
    assert coproff(["status", "--millesime", "2023"]) == 0
    out = capsys.readouterr().out
    assert (f"2023: the last build FAILED (run {failed.run_id[:8]}" in out
            and f"by run {first.run_id[:8]} is still published" in out), out
    # Counted in the failed run: its check planned and not evaluated (not "all passed").
    assert "millésime 2023: 1 checks, 1 not evaluated (step failed or skipped)" in out
    assert "NOT EVALUATED staging/rnic:rows_reconcile" in out
    instance.dispose()


def test_quarantine_lists_reasons_with_counts_and_examples(fresh_db, capsys, monkeypatch):
    monkeypatch.setenv("COPROFF_DATABASE_URL", fresh_db.database_url)
    rows = [(2023, "rnic", "2023/rnic/rnic_93.csv", line, "num_immat_invalide", "numero_d_immatriculation",
             f"valeur 'X{line}' invalide", "raw") for line in (4, 9, 12, 40)]
    rows += [(2023, "dpe", "2023/dpe/dpe_75.csv", 7, "date_invalide", "date_etablissement_dpe", "31/02/2023", "raw"),
             (2022, "rnic", "2022/rnic/rnic_75.csv", 3, "num_immat_invalide", "numero_d_immatriculation", "", "raw")]
    from coproff_platform.loading.load import prepare_quality_partitions

    for m in (2022, 2023):
        prepare_quality_partitions(fresh_db, m)
    with fresh_db.engine.begin() as conn:
        swap_cols = ["millesime", "source", "source_file", "source_line", "reason", "field", "detail", "raw"]
        for r in rows:
            conn.execute(sa.text(f"insert into quality.quarantine ({', '.join(swap_cols)}) values "
                                 f"({', '.join(':' + c for c in swap_cols)})"), dict(zip(swap_cols, r)))
    assert coproff(["quarantine", "--millesime", "2023", "--examples", "2"]) == 0
    out = capsys.readouterr().out
    assert "millésime 2023: 5 rows in quarantine" in out
    assert "       4  num_immat_invalide  field numero_d_immatriculation" in out
    assert "2023/rnic/rnic_93.csv:4  valeur 'X4' invalide" in out and "2023/rnic/rnic_93.csv:9" in out
    assert "rnic_93.csv:12" not in out  # two examples per reason
    assert coproff(["quarantine", "--millesime", "2023", "--source", "dpe"]) == 0
    out = capsys.readouterr().out
    assert "millésime 2023, source dpe: 1 rows in quarantine" in out and "rnic" not in out
    assert coproff(["quarantine", "--millesime", "2021"]) == 0
    assert "millésime 2021: no row in quarantine" in capsys.readouterr().out
