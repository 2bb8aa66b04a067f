"""The editors' test service over HTTP on the loopback: a real `coproff registre serve` process.

Posts WS1 and WS2 declarations, reads back the answers (201 with a number of the test sequence,
200, 400 with the control results, 500 when the database is unreachable) and the landing file,
then loads that landing file as the next materialization would.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from coproff_platform.registre.load import declaration_files, load_declarations
from coproff_platform.sample import declarations as s

M = 2023


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, body: bytes) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def start(database_url: str, landing: Path, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, COPROFF_DATABASE_URL=database_url)
    log = (tmp_path / f"serve_{port}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "coproff_platform.cli", "registre", "serve", "--port", str(port),
         "--millesime", str(M), "--landing", str(landing)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/sante", timeout=2) as resp:
                if resp.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise AssertionError(f"service did not start: {(tmp_path / f'serve_{port}.log').read_text()}")


@pytest.fixture
def service(fresh_db, tmp_path):
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("drop schema if exists registre_test cascade"))
    landing = tmp_path / "landing"
    proc, base = start(fresh_db.database_url, landing, tmp_path)
    yield base, landing
    proc.terminate()
    proc.wait(timeout=10)


def test_ws1_then_ws2_over_http_and_the_landing_file_loads(service, fresh_db):
    base, landing = service
    status, answer = post(base + "/ws1", json.dumps(s.ws1()).encode())
    assert status == 201 and answer["statut"] == "acceptee", answer
    num = answer["numero_immatriculation"]
    assert re.fullmatch(r"[A-Z]{2}[0-9]{7}", num)

    # The number just attributed exists for WS2.
    status, answer = post(base + "/ws2", json.dumps(s.ws2(num)).encode())
    assert (status, answer["statut"], answer["numero_immatriculation"]) == (200, "acceptee", num)

    # A second WS1 gets the next number of the sequence.
    status, second = post(base + "/ws1", json.dumps(s.ws1(nom="Le Clos")).encode())
    assert status == 201 and int(second["numero_immatriculation"][2:]) == int(num[2:]) + 1

    # Rejections: 400 with the results of the controls, nothing appended.
    bad = s.ws2("ZZ9999999")
    bad["identification"]["nombre_lots_habitation"] = 99
    status, answer = post(base + "/ws2", json.dumps(bad).encode())
    assert status == 400 and answer["statut"] == "rejetee"
    assert {c["code"] for c in answer["controles"]} == {"M_IMMAT_INCONNUE", "A_LOTS_HABITATION", "A_LOTS_HABITATION_BUREAUX"}
    assert all(c["niveau"] == "bloquant" and c["message"] for c in answer["controles"])
    status, answer = post(base + "/ws1", b"{not json")
    assert status == 400 and [c["code"] for c in answer["controles"]] == ["STR_JSON_ILLISIBLE"]
    status, answer = post(base + "/ws1", json.dumps(s.ws2(num)).encode())
    assert status == 400 and [c["code"] for c in answer["controles"]] == ["STR_SERVICE_INCONNU"]

    # The landing file holds the three accepted declarations, as received, with the attributed numbers.
    path = landing / str(M) / "declarations" / "service_test.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(e["declaration"]["service"], e["numero_attribue"]) for e in lines] == [
        ("WS1", num), ("WS2", None), ("WS1", second["numero_immatriculation"])]
    assert lines[0]["declaration"] == s.ws1()

    # The next materialization loads them: all accepted, the WS2 on the new number included.
    report = load_declarations(fresh_db, M, declaration_files(landing, M))
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (3, 3, 0)
    with fresh_db.engine.connect() as conn:
        got = conn.execute(sa.text("select service, num_immat from staging.declaration order by source_line")).all()
    assert [tuple(r) for r in got] == [("WS1", num), ("WS2", num), ("WS1", second["numero_immatriculation"])]


def test_internal_error_answers_500_and_appends_nothing(tmp_path):
    landing = tmp_path / "landing"
    # Nothing listens on port 1: the service cannot reach its database.
    proc, base = start("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", landing, tmp_path)
    try:
        status, answer = post(base + "/ws2", json.dumps(s.ws2()).encode())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert status == 500 and answer["statut"] == "erreur_interne" and answer["detail"]
    assert not (landing / str(M) / "declarations").exists()


def test_declarations_after_the_september_cutoff_land_in_the_next_millesime():
    import datetime as dt

    from coproff_platform.registre.service import millesime_of
    utc = dt.timezone.utc
    assert millesime_of(dt.datetime(2023, 9, 30, 23, 59, tzinfo=utc)) == 2023
    assert millesime_of(dt.datetime(2023, 10, 1, 0, 0, tzinfo=utc)) == 2024


def test_registre_sample_command_needs_the_registry_file_then_writes_declarations(tmp_path, realdata):
    from coproff_platform.cli import main
    land, truth = tmp_path / "landing", tmp_path / "truth"
    assert main(["registre", "sample", "--millesime", "2023", "--landing", str(land), "--truth", str(truth)]) == 2
    (land / "2023" / "rnic").mkdir(parents=True)
    (land / "2023" / "rnic" / "rnic.csv").write_bytes((realdata / "rnic_extract_bondy.csv").read_bytes())
    assert main(["registre", "sample", "--millesime", "2023", "--landing", str(land), "--truth", str(truth)]) == 0
    lines = (land / "2023" / "declarations" / "declarations.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) > 100 and (truth / "2023" / "declarations_rejetees.csv").exists()
