"""`coproff materialize` on real registry rows: quiet, with progress lines and the rows quarantined
per source in its summary; a bad file ends in a few lines naming file, line and field, the run
id, the full log (written) and the exit code of a failed build."""

from __future__ import annotations

import shutil

import pytest

from coproff_platform.cli import EXIT_BUILD_FAILED, main as coproff


@pytest.fixture
def landing(tmp_path, monkeypatch, fresh_db, realdata):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COPROFF_DATABASE_URL", fresh_db.database_url)
    monkeypatch.setenv("COPROFF_LANDING_DIR", str(tmp_path / "landing"))
    (tmp_path / "home").mkdir()
    folder = tmp_path / "landing" / "2023" / "rnic"
    folder.mkdir(parents=True)
    shutil.copy(realdata / "rnic_extract_bondy.csv", folder / "rnic_93.csv")
    return folder


def test_materialize_summary_shows_quarantined_rows_per_source_and_stays_short(landing, capsys):
    # One registration number made invalid: that row is quarantined, the others load.
    path = landing / "rnic_93.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first_number = lines[1].split('","')[3]
    lines[1] = lines[1].replace(first_number, "XX", 1)
    path.write_text("".join(lines), encoding="utf-8")

    assert coproff(["materialize", "--millesime", "2023", "--select", "staging/rnic"]) == 0
    captured = capsys.readouterr()
    summary = captured.out.split("Assets materialized:")[1]  # above it: what is rebuilt and why
    row = next(line for line in summary.splitlines() if line.strip().startswith("staging/rnic "))
    assert "1 quarantined" in row, captured.out
    assert "staging/rnic" in captured.out and "done" in captured.out  # a progress line
    assert "DEBUG" not in captured.out + captured.err and "STEP_START" not in captured.out + captured.err
    assert len((captured.out + captured.err).splitlines()) < 30
    assert coproff(["quarantine", "--millesime", "2023"]) == 0
    assert "rnic_93.csv:2" in capsys.readouterr().out


def test_a_failed_build_ends_in_a_few_lines_naming_the_file_and_the_log(landing, capsys):
    path = landing / "rnic_93.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"numero_d_immatriculation"', '"colonne_inconnue"', 1), encoding="utf-8")

    assert coproff(["materialize", "--millesime", "2023", "--select", "staging/rnic"]) == EXIT_BUILD_FAILED
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) <= 15, err
    assert err[0].startswith("millésime 2023: FAILED after")
    assert "failed: staging/rnic" in err[1]
    assert "rnic_93.csv, line 1" in err[2] and "numero_d_immatriculation" in err[2]
    assert "nothing of this millésime is published" in "\n".join(err)
    log_line = next(line for line in err if "full log:" in line)
    log_file = log_line.split("full log:")[1].split()[0]
    with open(log_file, encoding="utf-8") as f:
        log = f.read()
    assert "STEP_FAILURE" in log and "Traceback" in log or "SourceFileError" in log
