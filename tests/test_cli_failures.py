"""CLI failures end in a few lines naming the cause, with a documented exit code; millésime keys
are validated everywhere (CLI, landing sensor) and a mistaken key can be removed."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance

from coproff_platform.cli import EXIT_CODES, EXIT_DATABASE, EXIT_NOT_FOUND, EXIT_USAGE, main as coproff
from coproff_platform.partitions import (
    InvalidMillesime,
    is_millesime,
    landed_millesimes,
    millesime_partitions,
    register_millesime,
    registry_opening_year,
    validate_millesime,
)

# Every key the issue saw registered as a partition (or ending in a SQL error), and those the
# landing sensor accepted.
BAD_KEYS = ["2023; drop table x", "", "../2023", "1e3", " 2023", "02023", "２０２３", "٢٠٢٣", "2023\n", "-1", "32768",
            "0000", "9999", "²⁰²⁴", "23", "2015"]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COPROFF_LANDING_DIR", str(tmp_path / "landing"))
    (tmp_path / "home").mkdir()
    (tmp_path / "landing").mkdir()
    return tmp_path / "home"


def stderr_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_millesime_keys_are_refused(key):
    assert not is_millesime(key)
    with pytest.raises(InvalidMillesime, match="millésime"):
        validate_millesime(key)


def test_valid_millesimes_run_from_the_registry_opening_to_next_year():
    from datetime import date

    import csv

    csv_path = Path(__file__).resolve().parent.parent / "dbt_like_sql" / "reference" / "parametres.csv"
    with csv_path.open(encoding="utf-8") as f:
        opening = next(r["valeur"] for r in csv.DictReader(f) if r["code"] == "ouverture_registre")
    first = registry_opening_year()
    assert first == int(opening[:4])
    assert not is_millesime(str(first - 1))
    assert validate_millesime(str(first)) == str(first)
    assert validate_millesime(2023) == "2023"
    assert is_millesime(str(date.today().year + 1)) and not is_millesime(str(date.today().year + 2))


@pytest.mark.parametrize("key", ["23", "2023; drop table x", "２０２３", "2023\n", "-1", "32768"])
def test_materialize_refuses_a_bad_key_in_a_few_lines_and_registers_nothing(home, capsys, key):
    assert coproff(["materialize", "--millesime", key]) == EXIT_USAGE
    err = stderr_lines(capsys)
    assert 1 <= len(err) <= 3 and "millésime" in err[0] and "four ASCII digits" in err[0]
    instance = DagsterInstance.get()
    assert instance.get_dynamic_partitions(millesime_partitions.name) == []
    instance.dispose()


def test_materialize_refuses_a_millesime_without_landing_folder(home, capsys):
    assert coproff(["materialize", "--millesime", "2019"]) == EXIT_USAGE
    err = stderr_lines(capsys)
    assert len(err) <= 3
    assert "millésime 2019 has no landing folder" in err[0] and "coproff sample --millesime 2019" in err[1]
    instance = DagsterInstance.get()
    assert not instance.has_dynamic_partition(millesime_partitions.name, "2019")
    instance.dispose()


def test_register_millesime_needs_the_landing_folder(tmp_path):
    with DagsterInstance.ephemeral() as instance:
        with pytest.raises(InvalidMillesime, match="no landing folder"):
            register_millesime(instance, "2022", tmp_path)
        (tmp_path / "2022").mkdir()
        assert register_millesime(instance, "2022", tmp_path)
        with pytest.raises(InvalidMillesime):
            register_millesime(instance, "0000")


def test_unknown_select_keys_list_the_closest_existing_keys(home, capsys):
    (home.parent / "landing" / "2023").mkdir()
    assert coproff(["materialize", "--millesime", "2023", "--select", "staging/rnc,coproff/copro"]) == EXIT_USAGE
    err = stderr_lines(capsys)
    assert len(err) <= 15
    assert "unknown asset keys in --select" in err[0]
    assert "'staging/rnc': closest: staging/rnic" in err[1]
    assert "'coproff/copro': closest: coproff/coproff" in err[2]


def test_landing_folders_are_millesimes_only_when_their_name_is_one(tmp_path):
    for name in ("2023", "0000", "9999", "²⁰²⁴", "２０２３", "2015", "notes"):
        (tmp_path / name).mkdir()
    assert landed_millesimes(tmp_path) == ["2023"]


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        coproff(["--help"])
    out = capsys.readouterr().out
    for code, text in EXIT_CODES.items():
        assert f"{code:>3}  {text}" in out


def test_status_survives_a_bad_key_registered_before_validation_and_remove_deletes_it(home, capsys, fresh_db, monkeypatch):
    monkeypatch.setenv("COPROFF_DATABASE_URL", fresh_db.database_url)
    instance = DagsterInstance.get()
    # Registered as older versions did, without validation.
    instance.add_dynamic_partitions(millesime_partitions.name, ["2023\n", "2023; drop table x", "2022"])
    assert coproff(["status"]) == 0
    out = capsys.readouterr().out
    assert "'2023; drop table x' is not a millésime" in out
    assert coproff(["status", "--millesime", "2021"]) == EXIT_NOT_FOUND
    assert "millésime 2021 is neither registered nor published" in capsys.readouterr().err
    assert coproff(["status", "--millesime", "1e3"]) == EXIT_USAGE

    assert coproff(["millesime", "remove", "2023; drop table x"]) == 0
    assert coproff(["millesime", "remove", "2023\n"]) == 0
    assert sorted(instance.get_dynamic_partitions(millesime_partitions.name)) == ["2022"]
    assert coproff(["millesime", "remove", "1999"]) == EXIT_NOT_FOUND
    instance.dispose()


def test_remove_refuses_a_millesime_that_holds_published_data(home, capsys, fresh_db, monkeypatch, document_coproff):
    from coproff_platform.assets.publication import publish

    monkeypatch.setenv("COPROFF_DATABASE_URL", fresh_db.database_url)
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("create table coproff.coproff (idcopro text not null, millesime smallint not null) "
                             "partition by list (millesime)"))
    with fresh_db.replace_millesime("coproff.coproff", 2023) as swap:
        swap.copy_rows(["idcopro", "millesime"], [("FF_a", 2023)])
    with fresh_db.engine.begin() as conn:
        document_coproff(conn)
        publish(conn, 2023)
    instance = DagsterInstance.get()
    instance.add_dynamic_partitions(millesime_partitions.name, ["2023", "2024"])
    assert coproff(["millesime", "remove", "2023"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "millésime 2023 holds published data (coproff.millesimes, coproff.coproff): not removed" in err
    assert coproff(["millesime", "remove", "2024"]) == 0  # registered, never built
    assert instance.get_dynamic_partitions(millesime_partitions.name) == ["2023"]
    instance.dispose()


# -- a real database server that stops -------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture
def stopped_server(tmp_path_factory) -> str:
    """URL of a real PostgreSQL cluster that answered once and was then stopped."""
    assert (PG_BIN / "initdb").exists(), "PostgreSQL 15 binaries missing: scripts/ensure_postgis.sh installs them"
    data = Path(f"/tmp/coproff-stopped-{os.getpid()}")
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
                   check=True, capture_output=True)
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(data / "log"),
                                 "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"]),
                   check=True, capture_output=True)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar() == 1  # it really was up
        engine.dispose()
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"]),
                       check=True, capture_output=True)
        yield url
    finally:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def test_a_stopped_database_is_named_in_a_few_lines_by_every_command(stopped_server, tmp_path):
    landing = tmp_path / "landing"
    (landing / "2023" / "rnic").mkdir(parents=True)
    env = {**os.environ, "COPROFF_DATABASE_URL": stopped_server, "DAGSTER_HOME": str(tmp_path / "home"),
           "COPROFF_LANDING_DIR": str(landing), "COPROFF_EXPORT_DIR": str(tmp_path / "exports"),
           "COPROFF_TRUTH_DIR": str(tmp_path / "truth")}
    (tmp_path / "home").mkdir()
    truth = tmp_path / "truth" / "2023"  # a sample's ground truth: evaluate reaches the database
    truth.mkdir(parents=True)
    (truth / "links.csv").write_text("num_immat,idtup\n")
    (truth / "duplicates.csv").write_text("num_immat_a,num_immat_b,kind\n")
    port = stopped_server.split(":")[-1].split("/")[0]
    for command in (["materialize", "--millesime", "2023"], ["export", "--millesime", "2023"],
                    ["evaluate", "--millesime", "2023"], ["status"], ["quarantine", "--millesime", "2023"]):
        proc = subprocess.run([sys.executable, "-m", "coproff_platform.cli", *command], env=env,
                              capture_output=True, text=True, timeout=120)
        err = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == EXIT_DATABASE, (command, proc.stderr[-2000:])
        assert len(err) <= 15 and "Traceback" not in proc.stderr, (command, proc.stderr[-2000:])
        assert any("database unreachable" in line for line in err), command
        assert any(port in line and "refused" in line.lower() for line in err), (command, err)
