"""Profile: where the open-cadastre loader spends its time per feature, phase by phase.

    COPROFF_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coproff_x \\
        .venv/bin/python benchmarks/cadastre_loading.py [--rounds 3] [FILE ...]

Default files: the two real Etalab cadastres of `tests/data/realdata/` (Paris 18e, Roussines;
11,069 features). In one transaction, rolled back, each round times:
  split      Python splitting the files into features (`geojson.features`), nothing sent;
  copy       the same, COPYed into `pg_temp._cadastre_raw` (as the loader does);
  jsonb      `feature::jsonb` alone over the copied features;
  geometry   `st_geomfromgeojson` of each geometry alone;
  function   the per-feature reading (`pg_temp.coproff_cadastre_feature`, with its exception
             blocks) over every feature, as the `parse` block calls it, written to a temp table;
  set_based  the same values read by plain SQL (no exception block), written to a temp table:
             what removing the function's subtransactions would save;
  loader     `load_geojson_files` end to end (split, COPY, parse, checks, insert) into a temporary
             copy of `staging.cadastre_parcelle`.
Prints the median µs per feature of each phase and the load average. The database needs the
platform's schemas (any built millésime).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from coproff_platform.config import database_url
from coproff_platform.loading import geojson
from coproff_platform.resources.postgis import PostGISResource, copy_rows

REALDATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "realdata"
DEFAULT_FILES = [REALDATA / "cadastre-75118-parcelles.json.gz", REALDATA / "cadastre-36174-parcelles.json.gz"]

SET_BASED = """
create temp table _bench_fields on commit drop as
with f as materialized (select r.source_line, r.feature::jsonb as j from pg_temp._cadastre_raw r),
g as materialized (
    select f.*, coalesce(f.j -> 'properties', '{}'::jsonb) as p, st_geomfromgeojson(f.j -> 'geometry') as geom
    from f
)
select g.source_line, coalesce(g.p ->> 'id', g.j ->> 'id') as idpar, g.p ->> 'commune' as code_commune,
       g.p ->> 'prefixe' as prefixe, g.p ->> 'section' as section, g.p ->> 'numero' as numero,
       (g.p ->> 'contenance')::numeric::integer as contenance, (g.p ->> 'created')::date as date_creation,
       (g.p ->> 'updated')::date as date_maj, g.geom
from g
"""


class _Spec:
    name = "cadastre_parcelle"


def _features(files: list[Path]):
    for path in files:
        for number, feature in enumerate(geojson.features(path, path.name, Counter()), 1):
            yield path.name, number, feature, False


def one_round(postgis: PostGISResource, files: list[Path]) -> tuple[dict[str, float], int]:
    sql = geojson._statements()
    out: dict[str, float] = {}
    started = time.perf_counter()
    n = sum(1 for _ in _features(files))
    out["split"] = time.perf_counter() - started
    with postgis.engine.connect() as conn, conn.begin() as tx:
        for name in ("create_raw", "create_parse_function", "no_jit"):
            conn.execute(sa.text(sql[name]))
        started = time.perf_counter()
        copy_rows(conn, "pg_temp._cadastre_raw", ["source_file", "source_line", "feature", "has_nul"], _features(files))
        out["copy"] = time.perf_counter() - started
        for phase, statement in (
            ("jsonb", "select count(*) from pg_temp._cadastre_raw r where (r.feature::jsonb) is not null"),
            ("geometry", "select count(*) from pg_temp._cadastre_raw r "
                         "where st_geomfromgeojson(r.feature::json -> 'geometry') is not null"),
            ("function", "create temp table _bench_function on commit drop as select r.source_line, f.* "
                         "from pg_temp._cadastre_raw r cross join lateral pg_temp.coproff_cadastre_feature(r.feature) f"),
            ("set_based", SET_BASED),
        ):
            started = time.perf_counter()
            conn.execute(sa.text(statement))
            out[phase] = time.perf_counter() - started
        tx.rollback()
    with postgis.engine.connect() as conn, conn.begin() as tx:
        conn.execute(sa.text("create temp table _bench_cadastre (like staging.cadastre_parcelle including defaults) "
                             "on commit drop"))
        started = time.perf_counter()
        geojson.load_geojson_files(conn, "pg_temp._bench_cadastre", _Spec, 1900, files, lambda p: p.name, lambda _: None)
        out["loader"] = time.perf_counter() - started
        tx.rollback()
    return out, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    postgis = PostGISResource(database_url=database_url())
    load_before = os.getloadavg()[0]
    rounds = []
    n = 0
    for _ in range(args.rounds):
        times, n = one_round(postgis, args.files)
        rounds.append(times)
    print(f"{n} features, {args.rounds} rounds, load average {load_before:.1f} → {os.getloadavg()[0]:.1f}")
    for phase in rounds[0]:
        values = [r[phase] / n * 1e6 for r in rounds]
        print(f"  {phase:<10} {statistics.median(values):7.1f} µs/feature (median; "
              + ", ".join(f"{v:.1f}" for v in values) + ")")


if __name__ == "__main__":
    main()
