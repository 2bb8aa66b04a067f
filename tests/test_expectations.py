"""Great Expectations suites on staged sources: a bad staging fixture fails with counts and sample
values, a clean one passes, and the check evaluation carries its millésime partition."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterInstance, asset, materialize

from coproff_platform import labels as L
from coproff_platform.checks.expectations import EXPECTATION_CHECKS, validate
from coproff_platform.contracts.tables import ensure_partition
from coproff_platform.partitions import millesime_partitions

M = 2023


def _rnic(db, rows, millesime=M):
    with db.engine.begin() as conn:
        ensure_partition(conn, "staging.rnic", millesime)
        for i, r in enumerate(rows):
            params = {"m": millesime, "p": None, "d": dt.date(2019, 5, 1), "i1": "93010000AB0012", "line": i + 2, **r}
            conn.execute(sa.text(
                "insert into staging.rnic (millesime, num_immat, p_constr, date_immat, idpar_1, source_file, source_line) "
                "values (:m, :n, :p, :d, :i1, 'rnic.csv', :line)"), params)


CLEAN = [{"n": "AA0000001", "p": "AVANT_1949"}, {"n": "AB2351013", "p": "DE_1961_A_1974"}]


def test_a_clean_staging_partition_passes(fresh_db):
    _rnic(fresh_db, CLEAN)
    _rnic(fresh_db, [{"n": "zz", "p": "AUTRE"}], millesime=2022)  # another millésime is not validated
    outcomes = validate(fresh_db.database_url, "rnic", M)
    assert [o.kind for o in outcomes if not o.success] == []
    assert len(outcomes) > 15


def test_a_bad_staging_partition_fails_with_counts_and_samples(fresh_db):
    _rnic(fresh_db, [*CLEAN,
                     {"n": "ab1234567", "p": "AUTRE"},               # lower case number, unknown period
                     {"n": "AC0000003", "i1": "93010000A0012", "d": dt.date(2012, 1, 1)}])  # short idpar, too early
    failed = {(o.kind, o.column): o for o in validate(fresh_db.database_url, "rnic", M) if not o.success}
    assert set(failed) == {
        ("expect_column_values_to_match_regex", "num_immat"),
        ("expect_column_values_to_be_in_set", "p_constr"),
        ("expect_column_values_to_match_regex", "idpar_1"),
        ("expect_column_values_to_be_between", "date_immat"),
    }
    bad_number = failed[("expect_column_values_to_match_regex", "num_immat")]
    assert bad_number.unexpected_count == 1 and bad_number.sample == ["ab1234567"]
    assert failed[("expect_column_values_to_be_in_set", "p_constr")].sample == ["AUTRE"]


@pytest.fixture
def instance():
    inst = DagsterInstance.ephemeral()
    inst.add_dynamic_partitions(millesime_partitions.name, ["2022", "2023"])
    return inst


def test_the_check_evaluation_carries_its_partition_and_the_failures(fresh_db, instance):
    _rnic(fresh_db, [*CLEAN, {"n": "ab1234567"}])

    @asset(key=AssetKey(["staging", "rnic"]), partitions_def=millesime_partitions)
    def rnic_stub() -> None:  # stands for the loader: the check reads the database
        return None

    check = next(c for c in EXPECTATION_CHECKS if AssetKey(["staging", "rnic"]) in {k.asset_key for k in c.check_keys})
    result = materialize([rnic_stub, check], partition_key="2023", resources={"postgis": fresh_db},
                         instance=instance, raise_on_error=False)
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.partition == "2023"
    assert evaluation.check_name == "great_expectations" and not evaluation.passed
    assert evaluation.severity.value == "WARN"
    assert "ab1234567" in evaluation.metadata[L.ECHECS].value
    assert evaluation.metadata[L.du_millesime(L.ATTENTES_EN_ECHEC, 2023)].value == 1
    # A millésime that was never loaded fails clearly instead of validating nothing.
    result = materialize([rnic_stub, check], partition_key="2022", resources={"postgis": fresh_db},
                         instance=instance, raise_on_error=False)
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.partition == "2022" and not evaluation.passed
    assert "Millésime 2022 absent de staging.rnic" in (evaluation.description or "")
