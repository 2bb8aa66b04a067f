"""Benchmark: indicator, synthesis and statistics models, the coproff.coproff audits and the Great
Expectations suites, on a millésime already built in the warehouse.

    COPROFF_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coproff_checks \\
        .venv/bin/python benchmarks/checks_indicators.py --millesime 2024

Prerequisite: `coproff materialize --millesime M` ran (staging and referential built). Then:
1. rebuilds each indicator / synthesis / statistics model of M (`build_model` with its audits:
   fresh table, audits, atomic swap) and prints its wall time and rows;
2. runs each audit of `coproff/coproff` alone on the published partition `coproff.coproff_m<M>`;
3. runs the GX suite of each staged source on its partition (GX import timed separately).
Prints seconds per step and the process peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import sqlalchemy as sa

from coproff_platform.checks.audits import audits_for, run_audit
from coproff_platform.config import database_url
from coproff_platform.models.build import build_model
from coproff_platform.models.project import project, topological_order
from coproff_platform.resources.postgis import PostGISResource

MODELS = (
    "intermediate.synthese", "intermediate.tup_referentiel", "intermediate.indicateurs_dpe", "intermediate.indicateurs_dvf",
    "intermediate.indicateurs_lovac", "intermediate.indicateurs",
    "coproff.stats_situations", "coproff.stats_ecart_logements", "coproff.stats_coherence_construction",
    "coproff.stats_immatriculation_alur", "coproff.stats_evolution",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--millesime", type=int, required=True)
    parser.add_argument("--skip-gx", action="store_true")
    args = parser.parse_args(argv)
    m = args.millesime
    db = PostGISResource(database_url=database_url())
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("select count(*) from coproff.coproff where millesime = :m"), {"m": m}).scalar()
        sizes = dict(conn.execute(sa.text(
            "select 'dpe', count(*) from staging.dpe where millesime = :m union all "
            "select 'dvf', count(*) from staging.dvf where millesime = :m union all "
            "select 'lovac', count(*) from staging.lovac where millesime = :m union all "
            "select 'ff_tup', count(*) from staging.ff_tup where millesime = :m"), {"m": m}).all())
    if not rows:
        print(f"millésime {m} is not built in {db.engine.url.render_as_string()}: run coproff materialize first")
        return 2
    print(f"millésime {m}: {rows:,} copropriétés; staged " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))

    print("\nModels (build + audits + swap):")
    chosen = topological_order([x for x in project() if x.table in MODELS])
    for model in chosen:
        started = time.monotonic()
        report = build_model(db, model, m, audits_for("/".join(model.asset_key_path)))
        print(f"  {model.table:<40} {report.row_count:>9,} rows {time.monotonic() - started:8.2f} s")

    print("\nAudits of coproff/coproff on the published partition:")
    table = f"coproff.coproff_m{m}"
    for a in audits_for("coproff/coproff"):
        started = time.monotonic()
        with db.engine.connect() as conn:
            result = run_audit(conn, a, table, m)
        status = "passed" if result.passed else "FAILED"
        print(f"  {a.name:<45} {status:<7} {time.monotonic() - started:8.2f} s")

    if not args.skip_gx:
        from coproff_platform.checks import expectations

        started = time.monotonic()
        expectations._gx()
        print(f"\nGreat Expectations import {time.monotonic() - started:.2f} s; suites:")
        for source in expectations.SOURCES:
            started = time.monotonic()
            outcomes = expectations.validate(db.database_url, source, m)
            failed = sum(not o.success for o in outcomes)
            print(f"  staging.{source:<12} {len(outcomes):>3} expectations, {failed} failed "
                  f"{time.monotonic() - started:8.2f} s")

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process: {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
