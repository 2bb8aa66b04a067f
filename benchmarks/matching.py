"""Time and peak memory of the matching and referential SQL models on one staged millésime.

Builds, in dependency order and outside Dagster (the same `build_model` the assets run), the models
of the referential that do not need the indicator sources: intermediate.tup, intermediate.tup_match,
coproff.appariement, intermediate.coproff_base, intermediate.immatriculation_cle, coproff.doublons.
For each: wall time, rows, and the peak resident memory (VmHWM) of the PostgreSQL backend that ran
it (a fresh connection per model, so each figure is that model's own peak; the server must run on
this machine). Then prints the situation shares next to CoproFF 2023 and, when a ground truth is
given, the evaluation scores.

    COPROFF_DATABASE_URL=... python benchmarks/matching.py --millesime 2025 [--truth DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import sqlalchemy as sa

from coproff_platform.checks.audits import audits_for
from coproff_platform.config import database_url
from coproff_platform.models.build import build_model
from coproff_platform.models.project import project, topological_order
from coproff_platform.resources.postgis import PostGISResource, _engine

MODELS = ("intermediate.tup", "intermediate.parcelle", "intermediate.tup_match", "coproff.appariement", "intermediate.coproff_base",
          "intermediate.immatriculation_cle", "coproff.doublons")
COPROFF_2023 = {"rnic_1_1": 508_728, "rnic_1_n": 50_930, "ff_only": 345_767, "rnic_unmatched": 3_154}


def backend_peak_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--millesime", type=int, required=True)
    parser.add_argument("--truth", type=Path, default=None, help="ground truth folder (scores printed when given)")
    args = parser.parse_args()
    url = database_url()
    chosen = [m for m in topological_order(list(project())) if m.table in MODELS]
    print(f"| model | rows | wall time | backend peak RSS |\n|---|---:|---:|---:|")
    total = 0.0
    for model in chosen:
        _engine.cache_clear()  # a new pool, hence a new backend process whose VmHWM is this model's
        postgis = PostGISResource(database_url=url)
        with postgis.engine.connect() as conn:
            pid = conn.execute(sa.text("select pg_backend_pid()")).scalar_one()
        started = time.monotonic()
        report = build_model(postgis, model, args.millesime, audits_for("/".join(model.asset_key_path)))
        elapsed = time.monotonic() - started
        total += elapsed
        peak = backend_peak_kb(pid)
        peak_txt = f"{peak / 1024:.0f} MB" if peak else "n/a"
        print(f"| {model.table} | {report.row_count:,} | {elapsed:.1f} s | {peak_txt} |", flush=True)
        postgis.engine.dispose()
    print(f"\ntotal {total:.1f} s")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        shares = dict(conn.execute(sa.text(
            "select situation, count(*) from intermediate.coproff_base where millesime = :m group by 1"
        ), {"m": args.millesime}).all())
    n, ref = sum(shares.values()), sum(COPROFF_2023.values())
    print(f"\nsituations ({n:,} rows; CoproFF 2023: {ref:,})")
    for situation, count in COPROFF_2023.items():
        got = shares.get(situation, 0)
        print(f"  {situation:<15} {got:>9,}  {100 * got / n:6.2f} %   (2023: {100 * count / ref:6.2f} %)")
    if args.truth:
        from coproff_platform.evaluation import evaluate

        print("\n" + "\n".join(evaluate(PostGISResource(database_url=url), args.millesime, args.truth).lines()))


if __name__ == "__main__":
    main()
