"""Benchmark: the fragility chain's build time, and the fragilite SELECT of a git revision vs this tree.

    COPROFF_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coproff_bench_frag \\
        .venv/bin/python -W ignore -m benchmarks.declarations --declarations 50000 --copros 80000
    COPROFF_DATABASE_URL=... .venv/bin/python -W ignore -m benchmarks.fragilite [--base main]

Runs on the database `benchmarks.declarations` left (millésime 2099: staging declarations and a
stand-in `coproff.coproff`). Reloads ref.*, builds
`intermediate.registre_etat` → `coproff.stats_fragilite` with their audits, then times the
fragilite SELECT of `--base` and of the working tree back to back (EXPLAIN ANALYZE, timing off),
twice each (the reference tables are analysed on load, as in the pipeline).
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

import sqlalchemy as sa
from benchmarks.declarations import M, build_fragility_chain
from coproff_platform.assets.reference import load_reference_layer
from coproff_platform.resources.postgis import PostGISResource

ROOT = Path(__file__).resolve().parents[1]
MODEL = "dbt_like_sql/models/marts/fragilite.sql"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="main", help="git revision whose fragilite.sql is compared")
    args = ap.parse_args()
    pg = PostGISResource.from_env()
    with pg.engine.begin() as conn:
        conn.execute(sa.text("drop schema if exists ref cascade"))
        load_reference_layer(conn)
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    total = build_fragility_chain(pg)
    print(f"chain {total:.1f} s; load average {os.getloadavg()[0]:.1f}", flush=True)
    old = subprocess.run(["git", "-C", str(ROOT), "show", f"{args.base}:{MODEL}"], capture_output=True, text=True,
                         check=True).stdout
    new = (ROOT / MODEL).read_text()
    with pg.engine.connect() as conn:
        for name, sql in ((args.base, old), ("working tree", new)) * 2:
            plan = conn.execute(sa.text("explain (analyze, timing off, format json) " + sql), {"millesime": M}).scalar()
            print(f"  fragilite SELECT {name}: {plan[0]['Execution Time'] / 1000:.2f} s; "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
