"""Benchmark: the matching on real cadastres with registration points planted as real ones sit.

Open-cadastre mode (RNIC + cadastre, no FF). Loads a real Etalab cadastre file (Paris 18e, two-letter
sections; Roussines, a rural commune with one-letter sections: `tests/data/realdata/`) into
staging.cadastre_parcelle, plants registrations on it with the measured profile of real registry
rows (`coproff_platform/models/facade_plant.py`: 70% of points outside every parcel at 0–9.2 m on
the street side, references in every real form, 12.5% absent, 3% far, 7% sharing a parcel), builds
intermediate.tup, intermediate.parcelle and intermediate.tup_match, and prints the share of
unmatched registrations and the agreement with an independent reading (reference within
reference_distance_max_m, else the parcel at the point, else the nearest parcel). Targets: ≤ 2% unmatched, ≥ 95% agreement.

    COPROFF_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coproff_match \\
        .venv/bin/python benchmarks/matching_real_cadastre.py [--registrations 1000] [--seed 1]

Uses millésime 1901 (Paris 18e) and 1902 (Roussines) of the database, replaced at each run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from coproff_platform.assets.reference import load_reference_layer
from coproff_platform.config import database_url
from coproff_platform.contracts.tables import create_all
from coproff_platform.models.build import build_all
from coproff_platform.models.facade_plant import load_cadastre, measure, plant
from coproff_platform.models.project import project
from coproff_platform.resources.postgis import PostGISResource

REALDATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "realdata"
CADASTRES = {1901: "cadastre-75118-parcelles.json.gz", 1902: "cadastre-36174-parcelles.json.gz"}
MODELS = ("intermediate.tup", "intermediate.parcelle", "intermediate.tup_match")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    postgis = PostGISResource(database_url=database_url())
    postgis.ensure_database()
    with postgis.engine.begin() as conn:
        create_all(conn)
        load_reference_layer(conn)
    models = [m for m in project() if m.table in MODELS]
    for millesime, name in CADASTRES.items():
        t0 = time.perf_counter()
        with postgis.engine.begin() as conn:
            parcels = load_cadastre(conn, REALDATA / name, millesime)
            plant(conn, millesime, args.registrations, seed=args.seed)
        t1 = time.perf_counter()
        build_all(postgis, millesime, models, with_audits=False)
        t2 = time.perf_counter()
        with postgis.engine.begin() as conn:
            m = measure(conn, millesime)
        print(f"== {name}: {parcels} parcels, {m['registrations']} registrations "
              f"(load + plant {t1 - t0:.1f} s, matching models {t2 - t1:.1f} s)")
        print(f"   profile: outside every parcel {m['outside_share']:.1%} (0-1 m {m['outside_0_1_share']:.1%}, "
              f"1-3 m {m['outside_1_3_share']:.1%}, >3 m {m['outside_3_plus_share']:.1%}, max "
              f"{m['outside_max_m']:.1f} m); references listed {m['references_listed']}, absent "
              f"{m['references_absent_share']:.1%}")
        print(f"   unmatched {m['unmatched_share']:.2%} (target <= 2%); agreement with the independent reading "
              f"{m['agreement_independent']:.2%} (target >= 95%); with the planted parcel {m['agreement_planted']:.2%}")
        for motif, count in m["motifs"].items():
            print(f"   {count:6d}  {motif}")
        for row in m["disagreements"][:10]:
            print("   disagreement:", row)


if __name__ == "__main__":
    main()
