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
