"""Benchmark: the fragility chain's build time, and the fragilite SELECT of a git revision vs this tree.

    COPROFF_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coproff_bench_frag \\
        .venv/bin/python -W ignore -m benchmarks.declarations --declarations 50000 --copros 80000
    COPROFF_DATABASE_URL=... .venv/bin/python -W ignore -m benchmarks.fragilite [--base main]

Runs on the database `benchmarks.declarations` left (millésime 2099: staging declarations and a
stand-in `coproff.coproff`). Reloads ref.* as the pipeline does (never analyzed), builds
`intermediate.registre_etat` → `coproff.stats_fragilite` with their audits, then times the
fragilite SELECT of `--base` and of the working tree back to back (EXPLAIN ANALYZE, timing off),
twice each, before and after ANALYZE of the reference tables it joins.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa
from coproff_platform.assets.reference import load_reference_layer
from coproff_platform.checks.audits import audits_for
from coproff_platform.models.build import build_model
from coproff_platform.models.project import project
from coproff_platform.resources.postgis import PostGISResource

M = 2099
ROOT = Path(__file__).resolve().parents[1]
MODEL = "dbt_like_sql/models/marts/fragilite.sql"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="main", help="git revision whose fragilite.sql is compared")
    args = ap.parse_args()
    pg = PostGISResource.from_env()
    intermediate_tup = "create table if not exists intermediate.tup (millesime smallint, idtup text, source_parcelles text)"
    with pg.engine.begin() as conn:
        conn.execute(sa.text("drop schema if exists ref cascade"))
        load_reference_layer(conn)
        # stats_fragilite reads the parcel source of the millésime from intermediate.tup
        conn.execute(sa.text("create schema if not exists intermediate"))
        conn.execute(sa.text(intermediate_tup))
        conn.execute(sa.text(f"insert into intermediate.tup select {M}, 'T', 'ff' where not exists "
                             f"(select from intermediate.tup where millesime = {M})"))
    by_table = {m.table: m for m in project()}
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    total = 0.0
    for table in ("intermediate.registre_etat", "coproff.registre", "coproff.fragilite", "coproff.stats_fragilite"):
        model = by_table[table]
        t = time.monotonic()
        rep = build_model(pg, model, M, audits_for("/".join(model.asset_key_path)))
        took = time.monotonic() - t
        total += took
        print(f"  {table}: {rep.row_count} rows in {took:.1f} s; audits "
              + ", ".join(f"{o.audit.name} {'ok' if o.result.passed else 'FAILED'}" for o in rep.audits), flush=True)
    print(f"chain {total:.1f} s; load average {os.getloadavg()[0]:.1f}", flush=True)
    old = subprocess.run(["git", "-C", str(ROOT), "show", f"{args.base}:{MODEL}"], capture_output=True, text=True,
                         check=True).stdout
    new = (ROOT / MODEL).read_text()
    with pg.engine.connect() as conn:
        for when in ("ref.* never analyzed", "after ANALYZE ref.*"):
            if when.startswith("after"):
                conn.execute(sa.text("analyze ref.parametres, ref.mandats, ref.periodes_construction, ref.departements, "
                                     "ref.familles_fragilite, ref.signaux_fragilite"))
            for name, sql in ((args.base, old), ("working tree", new)) * 2:
                plan = conn.execute(sa.text("explain (analyze, timing off, format json) " + sql), {"millesime": M}).scalar()
                print(f"  {when}: fragilite SELECT {name}: {plan[0]['Execution Time'] / 1000:.2f} s; "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
