"""Benchmark: registry declarations loaded and controlled per second, and the fragility build time.

    COPROFF_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coproff_bench_decl \\
        .venv/bin/python -m benchmarks.declarations --declarations 565000 --copros 908000

1. Writes one annual update (WS2) per registration, the sample's valid declaration with its number,
   lots, charges and arrears varied, as JSON Lines (streamed, bounded memory), with 1% planted
   malformed declarations (`sample.declarations.MALFORMATIONS`), into millésime 2099.
2. Loads the reference layer (the typing joins `ref.*`) and registers the numbers as known
   (`registre_test.numero`, what WS2 existence reads).
3. `registre.load.load_declarations`: read + JSON Schema (Python), COPY, business controls and typing
   in SQL, swap.
   Prints declarations/s for the whole load and for the controls alone, the main process's CPU,
   the wall time of each SQL step; `--load-only` stops there (no fragility chain).
4. A stand-in `coproff.coproff` of `--copros` rows (the registered ones first, then FF-only), made
   with generate_series, then `intermediate.registre_etat`, `coproff.registre`, `coproff.fragilite`
   and `coproff.stats_fragilite` built by the model runner with their audits; prints each time.
The database is dropped and recreated: never point it at one you care about.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import resource
import os
import time
from pathlib import Path

import sqlalchemy as sa

from coproff_platform.assets.reference import load_reference_layer
from coproff_platform.checks.audits import audits_for
from coproff_platform.models.build import build_model
from coproff_platform.models.project import project
from coproff_platform.registre.load import declaration_files, load_declarations
from coproff_platform.resources.postgis import PostGISResource, copy_rows
from coproff_platform.sample import declarations as s

M = 2099


def number(i: int) -> str:
    return f"{chr(65 + i // 10_000_000 % 26)}{chr(65 + i // 260_000_000 % 26)}{i % 10_000_000:07d}"


def write(path: Path, n: int, seed: int) -> int:
    rng = random.Random(seed)
    base = s.ws2()
    base["date_transmission"] = f"{M}-06-10T10:00:00+02:00"
    base["donnees_financieres"]["date_ag_approbation_comptes"] = f"{M}-05-20"
    base["donnees_financieres"]["date_cloture_comptes"] = f"{M - 1}-12-31"
    planted = 0
    kinds = [m for m in s.MALFORMATIONS if "WS2" in m.services and m.name != "json_tronque"]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            doc = copy.deepcopy(base)
            lots = rng.randint(2, 300)
            a = doc["identification"]
            a.update(nombre_lots_total=lots, nombre_lots_habitation=lots * 3 // 4,
                     nombre_lots_habitation_bureaux_commerces=lots * 3 // 4, nombre_lots_stationnement=lots // 4)
            d = doc["donnees_financieres"]
            charges = round(lots * rng.uniform(600, 3000), 2)
            share = min(2.0, rng.lognormvariate(-3.0, 1.0))
            d.update(charges_courantes=charges, montant_impayes=round(charges * share, 2),
                     nombre_coproprietaires_impayes=max(1, min(lots, int(lots * share))),
                     fonds_travaux=round(charges * rng.uniform(0.02, 0.5), 2))
            doc["numero_immatriculation"] = number(i)
            if rng.random() < 0.01:
                kinds[planted % len(kinds)].mutate(doc)
                planted += 1
            f.write(json.dumps({"id_depot": f"B{i:09d}", "recu_le": doc["date_transmission"], "numero_attribue": None,
                                "declaration": doc}, ensure_ascii=False) + "\n")
    return planted


def stand_in_coproff(conn: sa.Connection, n_registered: int, n_total: int) -> None:
    conn.execute(sa.text("drop table if exists coproff.coproff cascade"))
    conn.execute(sa.text("""
        create table coproff.coproff (idcopro text, millesime smallint, num_immat char(9), code_commune char(5),
            code_departement text, indicatif boolean, mandat text, annee_construction integer, periode_construction text,
            part_dpe_fg numeric, prix_m2_median numeric, nb_logements integer, nb_logements_vacants_2ans integer)
        partition by list (millesime)"""))
    conn.execute(sa.text(f"create table coproff.coproff_m{M} partition of coproff.coproff for values in ({M})"))
    conn.execute(sa.text("create function pg_temp.num(i bigint) returns text language sql as $$ "
                         "select chr(65 + (i / 10000000 % 26)::int) || chr(65 + (i / 260000000 % 26)::int) "
                         "|| lpad((i % 10000000)::text, 7, '0') $$"))
    conn.execute(sa.text(f"""
        insert into coproff.coproff
        select case when i < :reg then 'RNC_' || pg_temp.num(i) else 'FF_' || lpad(i::text, 12, '0') end,
               {M}, case when i < :reg then pg_temp.num(i) end,
               lpad(((i % 95) + 1)::text, 2, '0') || lpad((i % 300)::text, 3, '0'), lpad(((i % 95) + 1)::text, 2, '0'),
               i % 17 = 0, case when i % 9 = 0 then 'Pas de mandat en cours' else 'Mandat en cours' end,
               1900 + (i % 120), null, (i % 10) / 10.0, 1500 + (i % 5000), 10 + (i % 90), i % 7
        from generate_series(0, :total - 1) i"""), {"reg": n_registered, "total": n_total})
    conn.execute(sa.text("analyze coproff.coproff"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--declarations", type=int, default=565_000)
    ap.add_argument("--copros", type=int, default=908_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/coproff_bench_declarations"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--load-only", action="store_true", help="the declarations load alone, no fragility chain")
    args = ap.parse_args()
    pg = PostGISResource.from_env()
    pg.ensure_database()
    folder = args.workdir / str(M) / "declarations"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench.jsonl"
    t = time.monotonic()
    planted = write(path, args.declarations, args.seed)
    print(f"load average {os.getloadavg()[0]:.1f}; written {args.declarations} declarations ({planted} malformed), {path.stat().st_size / 1e6:.0f} MB "
          f"in {time.monotonic() - t:.1f} s")
    with pg.engine.begin() as conn:
        load_reference_layer(conn)  # the typing SQL joins ref.*
        conn.execute(sa.text("drop schema if exists registre_test cascade"))
        conn.execute(sa.text("create schema registre_test"))
        conn.execute(sa.text("create table registre_test.numero (num_immat char(9) primary key, id_depot text, "
                             "attribue_le timestamptz default now())"))
        copy_rows(conn, "registre_test.numero", ["num_immat", "id_depot"],
                  ([number(i), "bench"] for i in range(args.declarations)))
    t, cpu = time.monotonic(), time.process_time()
    report = load_declarations(pg, M, declaration_files(args.workdir, M))
    wall, cpu = time.monotonic() - t, time.process_time() - cpu
    print(f"load_declarations: read {report.rows_read}, accepted {report.rows_accepted}, rejected {report.rows_rejected}, "
          f"reconciled {report.reconciled}")
    print(f"  whole load {wall:.1f} s = {report.rows_read / wall:.0f} declarations/s; "
          f"reading + controls + COPY {report.control_seconds:.1f} s = {report.rows_read / report.control_seconds:.0f} declarations/s; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
          f"Python CPU of the main process {cpu:.1f} s; workers {getattr(report, 'workers', 1)}")
    print("  after the COPY: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.steps.items()))
    if args.load_only:
        print(f"load average {os.getloadavg()[0]:.1f}")
        return 0
    with pg.engine.begin() as conn:
        stand_in_coproff(conn, args.declarations, args.copros)
    total = build_fragility_chain(pg)
    print(f"fragility chain (registre_etat → stats_fragilite, with audits): {total:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f}")
    return 0


FRAGILITY_CHAIN = ("intermediate.registre_etat", "coproff.registre", "coproff.fragilite", "coproff.stats_fragilite")


def build_fragility_chain(pg: PostGISResource) -> float:
    """Builds the fragility chain of millésime M with its audits (also `benchmarks.fragilite`);
    returns the seconds it took, each model's printed."""
    with pg.engine.begin() as conn:
        # stats_fragilite reads the millésime's parcel source from intermediate.tup: a one-row stand-in
        conn.execute(sa.text("create schema if not exists intermediate"))
        conn.execute(sa.text("create table if not exists intermediate.tup "
                             "(millesime smallint, idtup text, source_parcelles text)"))
        conn.execute(sa.text(f"insert into intermediate.tup select {M}, 'T', 'ff' where not exists "
                             f"(select from intermediate.tup where millesime = {M})"))
    by_table = {m.table: m for m in project()}
    total = 0.0
    for table in FRAGILITY_CHAIN:
        model = by_table[table]
        t = time.monotonic()
        rep = build_model(pg, model, M, audits_for("/".join(model.asset_key_path)))
        took = time.monotonic() - t
        total += took
        failed = [o.audit.name for o in rep.audits if not o.result.passed]
        print(f"  {table}: {rep.row_count} rows in {took:.1f} s (audits failed: {failed or 'none'})", flush=True)
    return total


if __name__ == "__main__":
    raise SystemExit(main())
