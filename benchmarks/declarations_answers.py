"""The registry's answers of a landing millésime, for an equivalence check between two versions.

    COPROFF_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coproff_answers_x \\
        .venv/bin/python benchmarks/declarations_answers.py LANDING MILLESIME OUT.csv

Loads the reference layer, `rnic/` of LANDING/MILLESIME (WS2 existence reads it) and
`declarations/`, then writes one line per declaration read: file, line, id_depot, statut and its
failed control codes sorted (`aucun` when none). Uses only APIs both versions have, so the same
script runs under main's checkout and a branch's (`<venv>/bin/python <this file>`): compare the two
CSVs with `cmp`/`diff` (or load both and EXCEPT ALL both ways). The database is the caller's scratch.
It also prints the load's CPU: the Python process's and its PostgreSQL backends' (read from
/proc: the server must be local), a figure the machine's load average does not inflate as it
does the wall time.
On a `benchmarks/declarations.py` work folder, `ANSWERS_BENCHMARK_KNOWN=N` registers the N
numbers that benchmark registers.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from coproff_platform.assets.reference import load_reference_layer
from coproff_platform.loading import load_source
from coproff_platform.registre.load import declaration_files, load_declarations
from coproff_platform.resources.postgis import PostGISResource


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process of this machine (the PostgreSQL backend is local)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    landing, millesime, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    pg = PostGISResource.from_env()
    pg.ensure_database()
    with pg.engine.begin() as conn:
        load_reference_layer(conn)
    known = os.environ.get("ANSWERS_BENCHMARK_KNOWN")  # N: the numbers benchmarks/declarations.py registers
    if known:
        sys.path.append(str(Path(__file__).resolve().parents[1]))  # last: coproff_platform stays the caller's
        from benchmarks.declarations import number
        from coproff_platform.resources.postgis import copy_rows
        with pg.engine.begin() as conn:
            conn.execute(sa.text("drop schema if exists registre_test cascade"))
            conn.execute(sa.text("create schema registre_test"))
            conn.execute(sa.text("create table registre_test.numero (num_immat char(9) primary key, id_depot text, "
                                 "attribue_le timestamptz default now())"))
            copy_rows(conn, "registre_test.numero", ["num_immat", "id_depot"], ([number(i), "bench"] for i in range(int(known))))
    rnic = sorted((landing / str(millesime) / "rnic").glob("*.csv"))
    if rnic:
        load_source(pg, "rnic", millesime, rnic)
    backends: dict[int, float] = {}

    @sa.event.listens_for(pg.engine, "checkout")
    def _seen(dbapi_conn, record, proxy) -> None:  # the backends the load uses, and their CPU then
        backends.setdefault(dbapi_conn.info.backend_pid, cpu_seconds(dbapi_conn.info.backend_pid))

    t, cpu = time.monotonic(), time.process_time()
    report = load_declarations(pg, millesime, declaration_files(landing, millesime),
                               display=lambda p: str(p.relative_to(landing)))
    took, cpu = time.monotonic() - t, time.process_time() - cpu
    pg_cpu = sum(cpu_seconds(pid) - start for pid, start in backends.items())
    with pg.engine.connect() as conn, out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source_file", "source_line", "id_depot", "statut", "codes"])
        for row in conn.execute(sa.text(
                "select source_file, source_line, id_depot, statut, string_agg(distinct code, ' ' order by code) "
                "from staging.declaration_controle where millesime = :m group by 1, 2, 3, 4 order by 1, 2"),
                {"m": millesime}):
            w.writerow(row)
    print(f"read {report.rows_read}, accepted {report.rows_accepted}, rejected {report.rows_rejected} "
          f"in {took:.1f} s ({report.rows_read / took:.0f} declarations/s); CPU: Python {cpu:.1f} s + PostgreSQL "
          f"backend {pg_cpu:.1f} s = {cpu + pg_cpu:.1f} s ({report.rows_read / (cpu + pg_cpu):.0f} declarations per CPU-second); "
          f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
